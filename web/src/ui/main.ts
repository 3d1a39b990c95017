// The license editor: sign in with a token, pick a customer and provider
// instance, find a user, tick the SKUs they should hold and save them with
// one PATCH; the Audit view lists the customer's recent changes. All text
// from the server goes into the page as text (textContent), never as HTML.
import "./style.css";
import { ApiError, call, headers, makeClient, readClaims, type Client, type License, type Schemas, type Session } from "./api";
import { placeErrors } from "./errors";

type Customer = Schemas["Customer"];
type Instance = Schemas["ProviderInstance"];
type User = Schemas["CustomerUser"];
type AuditLog = Schemas["AuditLog"];

const USERS_PAGE_SIZE = 10;
const AUDIT_PAGE_SIZE = 20;
const CUSTOMERS_SHOWN = 100;
const STORAGE_KEY = "userlicenses.session";

// The API lives at the server's root; the page at root/ui/.
const root = new URL("..", document.baseURI).href.replace(/\/$/, "");

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

const ui = {
  signin: el<HTMLFormElement>("signin"),
  tenant: el<HTMLInputElement>("tenant"),
  token: el<HTMLTextAreaElement>("token"),
  remember: el<HTMLInputElement>("remember"),
  demoHint: el("demo-hint"),
  useReseller: el<HTMLButtonElement>("use-reseller"),
  app: el("app"),
  whoami: el("whoami"),
  signout: el<HTMLButtonElement>("signout"),
  alert: el("alert"),
  status: el("status"),
  customerSearch: el<HTMLInputElement>("customer-search"),
  customer: el<HTMLSelectElement>("customer"),
  instance: el<HTMLSelectElement>("instance"),
  customerNote: el("customer-note"),
  tabUsers: el<HTMLButtonElement>("tab-users"),
  tabAudit: el<HTMLButtonElement>("tab-audit"),
  usersView: el("users-view"),
  auditView: el("audit-view"),
  userSearch: el<HTMLFormElement>("user-search"),
  search: el<HTMLInputElement>("search"),
  users: el("users"),
  usersPrev: el<HTMLButtonElement>("users-prev"),
  usersNext: el<HTMLButtonElement>("users-next"),
  usersPage: el("users-page"),
  editor: el("editor"),
  editorTitle: el("editor-title"),
  editorUpn: el("editor-upn"),
  legend: el("licenses-legend"),
  licensesForm: el<HTMLFormElement>("licenses-form"),
  licenses: el("licenses"),
  save: el<HTMLButtonElement>("save"),
  closeEditor: el<HTMLButtonElement>("close-editor"),
  dirty: el("dirty"),
  auditFilters: el<HTMLFormElement>("audit-filters"),
  auditStatus: el<HTMLSelectElement>("audit-status"),
  auditOperation: el<HTMLSelectElement>("audit-operation"),
  auditFrom: el<HTMLInputElement>("audit-from"),
  auditTo: el<HTMLInputElement>("audit-to"),
  auditCorrelation: el<HTMLInputElement>("audit-correlation"),
  audit: el("audit"),
  auditPrev: el<HTMLButtonElement>("audit-prev"),
  auditNext: el<HTMLButtonElement>("audit-next"),
  auditPage: el("audit-page"),
};

interface State {
  session?: Session;
  client?: Client;
  customers: Customer[];
  instances: Instance[];
  usersPage: number;
  usersSearch: string;
  /** Display names of the users seen, for the audit view. */
  userNames: Map<string, string>;
  editing?: { user: User; licenses: License[] };
  auditPage: number;
  /** Bumped on every customer or instance change, so late answers for the old one are dropped. */
  generation: number;
}

const state: State = { customers: [], instances: [], usersPage: 1, usersSearch: "", userNames: new Map(), auditPage: 1, generation: 0 };

// ---- messages ---------------------------------------------------------

function clearMessages(): void {
  ui.alert.hidden = true;
  ui.alert.replaceChildren();
  ui.status.replaceChildren();
}

function say(text: string, correlationId?: string): void {
  ui.status.replaceChildren(text, ...(correlationId ? [" Correlation id: ", h("code", {}, correlationId), "."] : []));
}

/** Shows an error at the top, always with its correlation id. */
function showError(title: string, err: unknown, extra: string[] = [], focus = true): void {
  const lines: string[] = [...extra];
  let id: string | undefined;
  if (err instanceof ApiError) {
    id = err.correlationId;
    const status = err.status ? `${err.status}${err.body?.type ? " " + err.body.type : ""}: ` : "";
    lines.unshift(status + err.message);
  } else if (err !== undefined) {
    lines.unshift(String(err));
  }
  ui.alert.replaceChildren(
    h("strong", {}, title),
    h("ul", {}, ...lines.map((l) => h("li", {}, l))),
    ...(id ? [h("p", {}, "Correlation id: ", h("code", { class: "cid" }, id), " (quote it to find the audit records and log lines of this request).")] : []),
  );
  ui.alert.hidden = false;
  if (focus) ui.alert.focus();
}

/** A refused token ends the session: the form comes back with the token in it. */
function handle(title: string, err: unknown): void {
  if (err instanceof ApiError && err.status === 401) {
    signOut(false);
    showError("Your token was refused; sign in with a valid one.", err);
    return;
  }
  showError(title, err);
}

// ---- sign in ----------------------------------------------------------

function prefill(): void {
  const saved = sessionStorage.getItem(STORAGE_KEY);
  if (saved) {
    try {
      const s = JSON.parse(saved) as Session;
      ui.tenant.value = s.tenant;
      ui.token.value = s.token;
      ui.remember.checked = true;
      void signIn();
      return;
    } catch {
      sessionStorage.removeItem(STORAGE_KEY);
    }
  }
  const demoToken = meta("userlicenses-demo-token");
  if (demoToken) {
    ui.tenant.value = meta("userlicenses-demo-tenant");
    ui.token.value = demoToken;
    ui.demoHint.textContent = "licensesd demo filled in its csp token (valid 24 hours). Press Sign in.";
    ui.demoHint.hidden = false;
    if (meta("userlicenses-demo-reseller-token")) ui.useReseller.hidden = false;
  }
}

ui.useReseller.addEventListener("click", () => {
  ui.token.value = meta("userlicenses-demo-reseller-token");
  ui.demoHint.textContent = "The demo's reseller token (Adatum Reseller) is filled in. Press Sign in.";
  ui.token.focus();
});

ui.token.addEventListener("change", () => {
  const claims = readClaims(ui.token.value);
  if (!ui.tenant.value && claims?.tenant) ui.tenant.value = claims.tenant;
});

ui.signin.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void signIn();
});

async function signIn(): Promise<void> {
  clearMessages();
  const tenant = ui.tenant.value.trim();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, "");
  const missing = [!tenant && "Portal domain (X-Tenant) is required.", !token && "Bearer token is required."].filter(Boolean) as string[];
  ui.tenant.setAttribute("aria-invalid", String(!tenant));
  ui.token.setAttribute("aria-invalid", String(!token));
  if (missing.length) {
    showError("Cannot sign in.", undefined, missing, false);
    (tenant ? ui.token : ui.tenant).focus();
    return;
  }
  const session: Session = { tenant, token };
  state.session = session;
  state.client = makeClient(root, session);
  try {
    await Promise.all([loadInstances(), loadCustomers()]);
  } catch (err) {
    state.session = state.client = undefined;
    showError("Cannot sign in.", err);
    return;
  }
  if (ui.remember.checked) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  else sessionStorage.removeItem(STORAGE_KEY);
  const claims = readClaims(token);
  const until = typeof claims?.exp === "number" ? ` · token valid until ${new Date(claims.exp * 1000).toLocaleString()}` : "";
  ui.whoami.textContent = `${claims?.sub ?? "signed in"}${claims?.roles?.length ? " (" + claims.roles.join(", ") + ")" : ""} · ${tenant}${until}`;
  ui.whoami.hidden = ui.signout.hidden = false;
  ui.signin.hidden = true;
  ui.app.hidden = false;
  showView("users", false);
  await scopeChanged();
  ui.customer.focus();
}

function signOut(clearToken = true): void {
  sessionStorage.removeItem(STORAGE_KEY);
  state.session = state.client = state.editing = undefined;
  state.customers = [];
  state.instances = [];
  state.generation++;
  if (clearToken) ui.token.value = "";
  ui.app.hidden = true;
  ui.editor.hidden = true;
  ui.signin.hidden = false;
  ui.whoami.hidden = ui.signout.hidden = true;
  clearMessages();
  ui.token.focus();
}

ui.signout.addEventListener("click", () => {
  signOut();
  say("Signed out; the token is gone from this tab.");
});

// ---- customer and provider instance ------------------------------------

function api(): { client: Client; session: Session } {
  if (!state.client || !state.session) throw new Error("not signed in");
  return { client: state.client, session: state.session };
}

async function loadInstances(): Promise<void> {
  const { client, session } = api();
  const hdr = headers(session);
  const page = await call(hdr, () => client.GET("/v1/Providers/Instances", { params: { header: hdr, query: { pageSize: 200 } } }));
  state.instances = page.items;
  const previous = ui.instance.value;
  ui.instance.replaceChildren(
    ...page.items.map((i) => {
      const ms = i.provider.name === "microsoft";
      return h("option", { value: i.id }, `${i.alias ?? i.id} (${i.provider.name}${ms ? "" : ", no user licenses"})`);
    }),
  );
  const keep = page.items.find((i) => i.id === previous) ?? page.items.find((i) => i.provider.name === "microsoft") ?? page.items[0];
  if (keep) ui.instance.value = keep.id;
}

async function loadCustomers(search = ""): Promise<void> {
  const { client, session } = api();
  const hdr = headers(session);
  const query = { pageSize: CUSTOMERS_SHOWN, ...(search ? { searchValue: search } : {}) };
  const page = await call(hdr, () => client.GET("/v1/Customers", { params: { header: hdr, query } }));
  state.customers = page.items;
  const previous = ui.customer.value;
  ui.customer.replaceChildren(
    ...page.items.map((c) => h("option", { value: c.id }, `${c.companyName ?? c.id}${c.resellerName ? " · via " + c.resellerName : ""}`)),
  );
  const keep = page.items.find((c) => c.id === previous) ?? page.items[0];
  if (keep) ui.customer.value = keep.id;
  ui.customerNote.textContent =
    page.totalCount === 0
      ? search
        ? `No customer's name contains “${search}”.`
        : "No customers are visible to this token."
      : page.hasNextPage
        ? `Showing ${page.items.length} of ${page.totalCount} customers; type to narrow the list.`
        : `${page.totalCount} customer${page.totalCount === 1 ? "" : "s"}.`;
}

let customerSearchTimer: number | undefined;
ui.customerSearch.addEventListener("input", () => {
  window.clearTimeout(customerSearchTimer);
  customerSearchTimer = window.setTimeout(async () => {
    const before = ui.customer.value;
    try {
      await loadCustomers(ui.customerSearch.value.trim());
    } catch (err) {
      handle("Could not search the customers.", err);
      return;
    }
    if (ui.customer.value !== before) await scopeChanged();
  }, 300);
});

// The customer and instance the lists show, to go back to when a change
// of either would throw unsaved ticks away and the user says no.
let scope = { customer: "", instance: "" };
for (const select of [ui.customer, ui.instance]) {
  select.addEventListener("change", () => {
    if (!mayDiscard()) {
      ui.customer.value = scope.customer;
      ui.instance.value = scope.instance;
      return;
    }
    void scopeChanged();
  });
}

async function scopeChanged(): Promise<void> {
  scope = { customer: ui.customer.value, instance: ui.instance.value };
  state.generation++;
  state.usersPage = 1;
  closeEditor(false);
  if (!ui.customer.value) {
    ui.users.replaceChildren();
    ui.usersPage.textContent = "";
    ui.usersPrev.disabled = ui.usersNext.disabled = true;
    return;
  }
  await Promise.all([loadUsers(), ui.auditView.hidden ? Promise.resolve() : loadAudit()]);
}

// ---- users ------------------------------------------------------------

ui.userSearch.addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.usersSearch = ui.search.value.trim();
  state.usersPage = 1;
  void loadUsers();
});
ui.usersPrev.addEventListener("click", () => {
  state.usersPage = Math.max(1, state.usersPage - 1);
  void loadUsers();
});
ui.usersNext.addEventListener("click", () => {
  state.usersPage++;
  void loadUsers();
});

async function loadUsers(): Promise<void> {
  const customerId = ui.customer.value;
  const providerInstanceId = ui.instance.value;
  if (!customerId || !providerInstanceId) return;
  const { client, session } = api();
  const gen = state.generation;
  const hdr = headers(session);
  const query = {
    providerInstanceId,
    pageNumber: state.usersPage,
    pageSize: USERS_PAGE_SIZE,
    ...(state.usersSearch ? { search: state.usersSearch } : {}),
  };
  ui.users.setAttribute("aria-busy", "true");
  try {
    const page = await call(hdr, () =>
      client.GET("/v1/Customers/{customerId}/users", { params: { header: hdr, path: { customerId }, query } }),
    );
    if (gen !== state.generation) return;
    for (const u of page.items) state.userNames.set(u.id, u.displayName);
    ui.users.replaceChildren(
      ...(page.items.length
        ? page.items.map((u) =>
            h(
              "tr",
              {},
              h("td", { "data-label": "Name" }, u.displayName),
              h("td", { "data-label": "Sign-in name", class: "upn" }, u.userPrincipalName),
              h("td", {}, editButton(u)),
            ),
          )
        : [h("tr", {}, h("td", { colspan: "3" }, state.usersSearch ? `No user matches “${state.usersSearch}”.` : "This customer has no users."))]),
    );
    ui.usersPrev.disabled = !page.hasPreviousPage;
    ui.usersNext.disabled = !page.hasNextPage;
    ui.usersPage.textContent = page.totalCount
      ? `Page ${page.paginationParameters.pageNumber} of ${page.totalPages} · ${page.totalCount} user${page.totalCount === 1 ? "" : "s"}`
      : "";
  } catch (err) {
    handle("Could not list the users.", err);
  } finally {
    ui.users.removeAttribute("aria-busy");
  }
}

function editButton(u: User): HTMLButtonElement {
  const b = h("button", { type: "button", "aria-label": `Edit licenses of ${u.displayName}` }, "Edit licenses");
  b.addEventListener("click", () => void openUser(u));
  return b;
}

// ---- the editor ---------------------------------------------------------

/** Asks before unsaved ticks are thrown away; true when there are none or the user agrees. */
function mayDiscard(): boolean {
  const n = changes().length;
  return n === 0 || window.confirm(`Discard ${n} unsaved change${n === 1 ? "" : "s"} to the licenses of ${state.editing?.user.displayName ?? "this user"}?`);
}

async function openUser(user: User): Promise<void> {
  if (!mayDiscard()) return;
  clearMessages();
  const licenses = await fetchLicenses(user);
  if (!licenses) return;
  state.editing = { user, licenses };
  ui.editorTitle.textContent = `Licenses of ${user.displayName}`;
  ui.legend.textContent = `SKUs of ${ui.customer.selectedOptions[0]?.textContent ?? "the customer"} for ${user.displayName}`;
  ui.editorUpn.textContent = user.userPrincipalName;
  renderLicenses(licenses);
  ui.editor.hidden = false;
  ui.editor.focus();
}

async function fetchLicenses(user: User): Promise<License[] | undefined> {
  const { client, session } = api();
  const hdr = headers(session);
  try {
    return await call(hdr, () =>
      client.GET("/v1/Customers/{customerId}/users/{customerUserId}/licenses", {
        params: {
          header: hdr,
          path: { customerId: ui.customer.value, customerUserId: user.id },
          query: { providerInstanceId: ui.instance.value },
        },
      }),
    );
  } catch (err) {
    handle(`Could not read the licenses of ${user.displayName}.`, err);
    return undefined;
  }
}

function count(label: string, key: string, value: number | undefined): HTMLElement {
  return h("span", { class: "count" }, h("span", { class: "k" }, label + " "), h("b", { "data-count": key }, String(value ?? 0)));
}

function renderLicenses(licenses: License[], keepSelection?: Map<string, boolean>): void {
  ui.licenses.replaceChildren(
    ...(licenses.length
      ? licenses.map((l) => {
          const id = `sku-${l.skuId}`;
          const box = h("input", { type: "checkbox", id, "aria-describedby": `${id}-counts ${id}-error` });
          box.checked = keepSelection?.get(l.skuId) ?? l.isSelected;
          box.dataset.skuId = l.skuId;
          box.addEventListener("change", updateDirty);
          return h(
            "li",
            { class: "sku", "data-sku-id": l.skuId },
            h("div", { class: "sku-name" }, box, h("label", { for: id }, l.name ?? l.skuId)),
            h(
              "p",
              { class: "counts", id: `${id}-counts` },
              count("Available", "available", l.availableLicenses),
              count("Total", "total", l.totalLicenses),
              count("Suspended", "suspended", l.suspendedLicenses),
              count("Consumed", "consumed", l.consumedLicenses),
            ),
            h("p", { class: "row-error", id: `${id}-error`, hidden: "" }),
          );
        })
      : [h("li", {}, "The customer has no licenses under this provider instance.")]),
  );
  updateDirty();
}

/** The rows whose box differs from what the user holds. */
function changes(): { license: License; selected: boolean }[] {
  const out: { license: License; selected: boolean }[] = [];
  for (const l of state.editing?.licenses ?? []) {
    const box = document.getElementById(`sku-${l.skuId}`) as HTMLInputElement | null;
    if (box && box.checked !== l.isSelected) out.push({ license: l, selected: box.checked });
  }
  return out;
}

function updateDirty(): void {
  const n = changes().length;
  ui.dirty.textContent = n ? `${n} unsaved change${n === 1 ? "" : "s"}` : "No unsaved changes";
}

ui.closeEditor.addEventListener("click", () => {
  if (mayDiscard()) closeEditor(true);
});

function closeEditor(focusList: boolean): void {
  const user = state.editing?.user;
  state.editing = undefined;
  ui.editor.hidden = true;
  ui.licenses.replaceChildren();
  if (focusList && user) {
    const back = ui.users.querySelector<HTMLButtonElement>(`button[aria-label="Edit licenses of ${CSS.escape(user.displayName)}"]`);
    (back ?? ui.search).focus();
  }
}

ui.licensesForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  void save();
});

async function save(): Promise<void> {
  const editing = state.editing;
  if (!editing) return;
  clearMessages();
  for (const e of ui.licenses.querySelectorAll<HTMLElement>(".row-error")) {
    e.hidden = true;
    e.textContent = "";
  }
  for (const b of ui.licenses.querySelectorAll("input[aria-invalid]")) b.removeAttribute("aria-invalid");
  const changed = changes();
  if (!changed.length) {
    say("Nothing to save: no box was changed.");
    return;
  }
  // Only the changed SKUs are sent: the others are left as they are
  // (the API leaves SKUs it is not sent untouched), so a concurrent edit
  // of another SKU is not undone.
  const body = {
    providerInstanceId: ui.instance.value,
    customerUserLicenses: changed.map((c) => ({ skuId: c.license.skuId, name: c.license.name ?? null, isSelected: c.selected })),
  };
  const { client, session } = api();
  const hdr = headers(session);
  ui.save.disabled = true;
  ui.save.setAttribute("aria-busy", "true");
  try {
    await call(hdr, () =>
      client.PATCH("/v1/Customers/{customerId}/users/{customerUserId}/licenses", {
        params: { header: hdr, path: { customerId: ui.customer.value, customerUserId: editing.user.id } },
        body,
      }),
    );
    const fresh = await fetchLicenses(editing.user);
    if (fresh && state.editing === editing) {
      editing.licenses = fresh;
      renderLicenses(fresh);
    }
    say(`Saved ${changed.length} change${changed.length === 1 ? "" : "s"} for ${editing.user.displayName}; the counts are refreshed.`, hdr["X-Correlation-Id"]);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return handle("", err);
    const placed = placeErrors(err instanceof ApiError ? err.body : undefined, body.customerUserLicenses.map((c) => c.skuId));
    let first: HTMLInputElement | undefined;
    for (const [sku, messages] of placed.rows) {
      const box = document.getElementById(`sku-${sku}`) as HTMLInputElement | null;
      const slot = document.getElementById(`sku-${sku}-error`);
      if (!box || !slot) {
        placed.general.push(...messages);
        continue;
      }
      box.setAttribute("aria-invalid", "true");
      slot.textContent = messages.join(" ");
      slot.hidden = false;
      first ??= box;
    }
    const n = placed.rows.size;
    const title = n
      ? `Nothing was saved: ${n} license${n === 1 ? "" : "s"} could not be changed (see the marked row${n === 1 ? "" : "s"}).`
      : "Nothing was saved.";
    showError(title, err, placed.general, !first);
    first?.focus();
  } finally {
    ui.save.disabled = false;
    ui.save.removeAttribute("aria-busy");
  }
}

// ---- audit ------------------------------------------------------------

function showView(view: "users" | "audit", load = true): void {
  const audit = view === "audit";
  ui.usersView.hidden = audit;
  ui.editor.hidden = audit || !state.editing;
  ui.auditView.hidden = !audit;
  const [on, off] = audit ? [ui.tabAudit, ui.tabUsers] : [ui.tabUsers, ui.tabAudit];
  on.setAttribute("aria-current", "page");
  off.removeAttribute("aria-current");
  if (audit && load) {
    state.auditPage = 1;
    void loadAudit();
  }
}

ui.tabUsers.addEventListener("click", () => showView("users"));
ui.tabAudit.addEventListener("click", () => showView("audit"));
ui.auditFilters.addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.auditPage = 1;
  void loadAudit();
});
ui.auditPrev.addEventListener("click", () => {
  state.auditPage = Math.max(1, state.auditPage - 1);
  void loadAudit();
});
ui.auditNext.addEventListener("click", () => {
  state.auditPage++;
  void loadAudit();
});

function isoOrUndefined(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

async function loadAudit(): Promise<void> {
  const customerId = ui.customer.value;
  if (!customerId) return;
  const { client, session } = api();
  const gen = state.generation;
  const hdr = headers(session);
  const status = ui.auditStatus.value as Schemas["AuditLogStatus"] | "";
  const query = {
    customerId,
    PageNumber: state.auditPage,
    PageSize: AUDIT_PAGE_SIZE,
    ...(status ? { Status: status } : {}),
    ...(ui.auditOperation.value ? { Operations: ui.auditOperation.value } : {}),
    ...(isoOrUndefined(ui.auditFrom.value) ? { StartDate: isoOrUndefined(ui.auditFrom.value) } : {}),
    ...(isoOrUndefined(ui.auditTo.value) ? { EndDate: isoOrUndefined(ui.auditTo.value) } : {}),
    ...(ui.auditCorrelation.value.trim() ? { correlationId: ui.auditCorrelation.value.trim() } : {}),
  };
  ui.audit.setAttribute("aria-busy", "true");
  try {
    const page = await call(hdr, () => client.GET("/v1/AuditLogs", { params: { header: hdr, query } }));
    if (gen !== state.generation) return;
    ui.audit.replaceChildren(
      ...(page.items.length ? page.items.map(auditRow) : [h("tr", {}, h("td", { colspan: "5" }, "No changes match."))]),
    );
    ui.auditPrev.disabled = !page.hasPreviousPage;
    ui.auditNext.disabled = !page.hasNextPage;
    ui.auditPage.textContent = page.totalCount
      ? `Page ${page.paginationParameters.pageNumber} of ${page.totalPages} · ${page.totalCount} record${page.totalCount === 1 ? "" : "s"}`
      : "";
  } catch (err) {
    handle("Could not read the audit records.", err);
  } finally {
    ui.audit.removeAttribute("aria-busy");
  }
}

function auditRow(a: AuditLog): HTMLTableRowElement {
  const who = state.userNames.get(a.customerUserId) ?? a.customerUserId;
  const sku = a.skuName ?? a.skuId;
  const change = a.operation === "AssignUserLicense" ? `Assign ${sku} to ${who}` : `Remove ${sku} from ${who}`;
  const when = new Date(a.createdAt);
  const status = a.status === "Succeded" ? "Succeeded" : a.status;
  return h(
    "tr",
    { class: a.status === "Failed" ? "failed" : "" },
    h("td", { "data-label": "When" }, h("time", { datetime: a.createdAt }, when.toLocaleString())),
    h("td", { "data-label": "Change" }, change, ...(a.reason ? [h("br"), h("span", { class: "reason" }, a.reason)] : [])),
    h("td", { "data-label": "Status" }, status),
    h("td", { "data-label": "By" }, a.actor),
    h("td", { "data-label": "Correlation id" }, h("code", { class: "cid" }, a.correlationId)),
  );
}

prefill();
