// The license editor at /ui/ in a real browser against a real licensesd.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { accessibilityViolations, launch, newPage, screenshot, skipReason, startDemo } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log(`# SKIPPED the browser tests of /ui/: ${skip}`);

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

/** Problems other than the ones a test provokes on purpose. */
function unexpected(problems, allowed = []) {
  return problems.filter((p) => !allowed.some((re) => re.test(p)));
}
// Chromium logs every 4xx answer to fetch as a console error.
const refused = (status) => new RegExp(`Failed to load resource: the server responded with a status of ${status}`);

async function signIn(page, server, { reseller = false } = {}) {
  await page.goto(server.url + "/ui/");
  if (reseller) await page.getByRole("button", { name: "Use the demo reseller token" }).click();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Customer", { exact: true }).waitFor();
  await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
}

/** The four counts shown beside a SKU's check box. */
async function counts(page, skuName) {
  const row = page.locator("li.sku", { has: page.getByRole("checkbox", { name: skuName, exact: true }) });
  const read = async (k) => Number(await row.locator(`[data-count="${k}"]`).textContent());
  return { available: await read("available"), total: await read("total"), suspended: await read("suspended"), consumed: await read("consumed") };
}

async function openUser(page, search, name) {
  await page.getByLabel("Search users by name or sign-in name").fill(search);
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("button", { name: `Edit licenses of ${name}` }).click();
  await page.getByRole("heading", { name: `Licenses of ${name}` }).waitFor();
}

describe("the license editor", { skip: skip || false }, () => {
  let browser;
  let server;
  before(async () => {
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
  });
  const withServer = async (fn) => {
    server = await startDemo();
    try {
      await fn(server);
    } finally {
      await server.stop();
    }
  };

  test("sign in with the demo's token, find a user, tick a SKU, save: the seat counts change and the audit lists it", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await page.goto(server.url + "/ui/");
      assert.equal(await page.getByLabel("Bearer token").inputValue(), server.token, "the demo pre-fills its csp token");
      assert.equal(await page.getByLabel("Portal domain (X-Tenant)").inputValue(), server.tenant);
      await signIn(page, server);
      await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Fabrikam" });

      // Fabrikam's 30 users come in pages of 10.
      const pageInfo = page.locator("#users-page");
      await pageInfo.filter({ hasText: "Page 1 of 3 · 30 users" }).waitFor();
      assert.equal(await page.getByRole("button", { name: "Previous page" }).first().isDisabled(), true);
      await page.getByRole("button", { name: "Next page" }).first().click();
      await pageInfo.filter({ hasText: "Page 2 of 3" }).waitFor();
      await page.getByRole("button", { name: "Previous page" }).first().click();
      await pageInfo.filter({ hasText: "Page 1 of 3" }).waitFor();

      await page.getByLabel("Search users by name or sign-in name").fill("lovel");
      await page.getByRole("button", { name: "Search", exact: true }).click();
      await page.getByRole("button", { name: "Edit licenses of Ada Lovelace" }).waitFor();
      assert.equal(await page.getByRole("button", { name: /^Edit licenses of / }).count(), 1, "the server-side search leaves Ada only");
      await page.getByRole("button", { name: "Edit licenses of Ada Lovelace" }).click();

      const e3 = page.getByRole("checkbox", { name: "Microsoft 365 E3", exact: true });
      assert.equal(await e3.isChecked(), false);
      const beforeCounts = await counts(page, "Microsoft 365 E3");
      await e3.check();
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await page.getByRole("status").filter({ hasText: "Saved 1 change" }).waitFor();
      const savedUnder = UUID.exec(await page.getByRole("status").textContent())?.[0];
      assert.ok(savedUnder, "the confirmation shows the correlation id");

      const afterCounts = await counts(page, "Microsoft 365 E3");
      assert.deepEqual(afterCounts, { ...beforeCounts, available: beforeCounts.available - 1, consumed: beforeCounts.consumed + 1 });
      assert.equal(await e3.isChecked(), true, "the refreshed list shows her holding E3");
      await screenshot(page, "editor-saved");

      await page.getByRole("button", { name: "Audit", exact: true }).click();
      const entry = page.getByRole("row").filter({ hasText: "Assign Microsoft 365 E3 to Ada Lovelace" });
      await entry.waitFor();
      assert.match(await entry.textContent(), /Succeeded/);
      assert.match(await entry.textContent(), new RegExp(savedUnder));
      assert.match(await entry.textContent(), /demo-csp/);
      await screenshot(page, "audit");

      // The token is never in a cookie or the address, and without "keep
      // me signed in" not in storage either.
      assert.deepEqual(await context.cookies(), []);
      assert.ok(!page.url().includes(server.token));
      assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("over-assigning a SKU shows the API's error on that SKU's row, with the correlation id", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await signIn(page, server);
      await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Fabrikam" });
      await openUser(page, "ada", "Ada Lovelace");
      const full = page.getByRole("checkbox", { name: "Exchange Online (Plan 1)", exact: true });
      const before = await counts(page, "Exchange Online (Plan 1)");
      assert.equal(before.available, 0, "the demo's Exchange Online (Plan 1) has no seat left");
      await full.check();
      await page.getByRole("button", { name: "Save", exact: true }).click();

      const rowError = page.locator("li.sku", { has: full }).locator(".row-error");
      await rowError.waitFor();
      assert.match(await rowError.textContent(), /available/i);
      assert.equal(await full.getAttribute("aria-invalid"), "true");
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("type")), "checkbox", "focus moves to the failing row");
      const alert = page.getByRole("alert");
      assert.match(await alert.textContent(), /Nothing was saved: 1 license could not be changed/);
      assert.match(await alert.textContent(), UUID, "the alert shows the correlation id");
      // The error is on that row only.
      assert.equal(await page.locator(".row-error:visible").count(), 1);
      assert.deepEqual(await counts(page, "Exchange Online (Plan 1)"), before, "nothing changed");
      await screenshot(page, "editor-over-assigned");

      // The refusal is audited as Failed under the same correlation id.
      const id = UUID.exec(await alert.textContent())[0];
      await page.getByRole("button", { name: "Audit", exact: true }).click();
      const entry = page.getByRole("row").filter({ hasText: id });
      await entry.waitFor();
      assert.match(await entry.textContent(), /Failed/);
      assert.deepEqual(unexpected(problems, [refused(400)]), []);
      await context.close();
    }));

  test("a reseller token sees only its own customers", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await signIn(page, server, { reseller: true });
      const options = await page.getByLabel("Customer", { exact: true }).locator("option").allTextContents();
      assert.deepEqual(options.map((o) => o.split(" · ")[0]), ["Northwind Traders"]);
      assert.match(await page.locator("#whoami").textContent(), /demo-reseller \(reseller\)/);
      // The csp token of the same demo sees more: the list above is the
      // server's scoping, not a short demo.
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("Bearer token").fill(server.token);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
      const all = await page.getByLabel("Customer", { exact: true }).locator("option").allTextContents();
      assert.ok(all.length > 1 && all.some((o) => o.startsWith("Northwind Traders")), `csp sees ${all}`);
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("keyboard only: sign in, search, open a user, untick a SKU, save; focus is always visible", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await page.goto(server.url + "/ui/");
      const focused = () =>
        page.evaluate(() => {
          const e = document.activeElement;
          if (!e || e === document.body) return { name: "", visible: false };
          const s = getComputedStyle(e);
          const name = e.getAttribute("aria-label") || (e.id && document.querySelector(`label[for="${e.id}"]`)?.textContent) || e.textContent || "";
          return { name: name.trim(), tag: e.tagName, visible: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 };
        });
      // Tab (at most 40 times) until the focused control's name matches.
      const tabTo = async (re) => {
        for (let i = 0; i < 40; i++) {
          await page.keyboard.press("Tab");
          const f = await focused();
          if (f.tag !== "MAIN" && f.tag !== "SECTION") assert.ok(f.visible, `focus on "${f.name}" (${f.tag}) is not visible`);
          if (re.test(f.name)) return;
        }
        assert.fail(`no control named ${re} within 40 tabs`);
      };
      await tabTo(/^Sign in$/);
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
      assert.equal((await focused()).name, "Customer", "after sign-in, focus is on the customer picker");
      // Pick Fabrikam with the arrow keys, as a keyboard user does.
      const customer = page.getByLabel("Customer", { exact: true });
      for (let i = 0; i < 5 && (await customer.locator("option:checked").textContent()) !== "Fabrikam"; i++) await page.keyboard.press("ArrowUp");
      assert.equal(await customer.locator("option:checked").textContent(), "Fabrikam");
      await tabTo(/^Search users/);
      await page.keyboard.type("alan");
      await page.keyboard.press("Enter");
      await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
      await tabTo(/^Edit licenses of Alan Turing$/);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Licenses of Alan Turing" }).waitFor();
      const teams = page.getByRole("checkbox", { name: "Microsoft Teams Essentials", exact: true });
      assert.equal(await teams.isChecked(), true, "the demo's Alan holds Teams");
      await tabTo(/^Microsoft Teams Essentials$/);
      await page.keyboard.press("Space");
      assert.equal(await teams.isChecked(), false);
      await tabTo(/^Save$/);
      await page.keyboard.press("Enter");
      await page.getByRole("status").filter({ hasText: "Saved 1 change for Alan Turing" }).waitFor();
      assert.equal(await teams.isChecked(), false);
      await screenshot(page, "keyboard-saved");
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("usable at 360 px: nothing wider than the screen, every control reachable", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser, { width: 360, height: 780 });
      await page.goto(server.url + "/ui/");
      const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok((await overflow()) <= 0, "the sign-in form fits");
      await screenshot(page, "narrow-signin");
      await signIn(page, server);
      await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Fabrikam" });
      await openUser(page, "ada", "Ada Lovelace");
      assert.ok((await overflow()) <= 0, `the editor is ${await overflow()} px too wide`);
      for (const box of await page.getByRole("checkbox").all()) {
        const b = await box.boundingBox();
        assert.ok(b && b.x >= 0 && b.x + b.width <= 360, "a check box is off screen");
      }
      const save = await page.getByRole("button", { name: "Save", exact: true }).boundingBox();
      assert.ok(save && save.x + save.width <= 360 && save.height >= 24, "Save is on screen and big enough to tap");
      await screenshot(page, "narrow-editor");
      await page.getByRole("button", { name: "Audit", exact: true }).click();
      await page.getByRole("table").last().waitFor();
      assert.ok((await overflow()) <= 0, `the audit view is ${await overflow()} px too wide`);
      await screenshot(page, "narrow-audit");
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("axe-core finds no WCAG 2.1 A/AA violation: sign-in, users, editor with an error, audit, at 1280 and 360 px", () =>
    withServer(async (server) => {
      for (const viewport of [{ width: 1280, height: 900 }, { width: 360, height: 780 }]) {
        const { page, context } = await newPage(browser, viewport);
        await page.goto(server.url + "/ui/");
        assert.deepEqual(await accessibilityViolations(page), [], `sign-in at ${viewport.width} px`);
        await signIn(page, server);
        await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Fabrikam" });
        await page.locator("#users-page").filter({ hasText: "30 users" }).waitFor();
        assert.deepEqual(await accessibilityViolations(page), [], `users at ${viewport.width} px`);
        await openUser(page, "ada", "Ada Lovelace");
        await page.getByRole("checkbox", { name: "Exchange Online (Plan 1)", exact: true }).check();
        await page.getByRole("button", { name: "Save", exact: true }).click();
        await page.getByRole("alert").waitFor();
        assert.deepEqual(await accessibilityViolations(page), [], `editor with an error at ${viewport.width} px`);
        await page.getByRole("button", { name: "Audit", exact: true }).click();
        await page.getByRole("row").filter({ hasText: "Failed" }).first().waitFor();
        assert.deepEqual(await accessibilityViolations(page), [], `audit at ${viewport.width} px`);
        await context.close();
      }
    }));

  test("unsaved ticks are not thrown away without asking", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await signIn(page, server);
      await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Fabrikam" });
      await openUser(page, "ada", "Ada Lovelace");
      await page.getByRole("checkbox", { name: "Microsoft 365 E3", exact: true }).check();
      const asked = [];
      page.once("dialog", (d) => {
        asked.push(d.message());
        void d.dismiss();
      });
      await page.getByRole("button", { name: "Close", exact: true }).click();
      assert.deepEqual(asked, ["Discard 1 unsaved change to the licenses of Ada Lovelace?"]);
      assert.equal(await page.getByRole("checkbox", { name: "Microsoft 365 E3", exact: true }).isChecked(), true, "dismissed: the tick stays");
      // Another customer: asked too; no keeps Fabrikam and the tick.
      page.once("dialog", (d) => {
        asked.push(d.message());
        void d.dismiss();
      });
      await page.getByLabel("Customer", { exact: true }).selectOption({ label: "Tailspin Toys · via Litware Partners" });
      assert.equal(asked.length, 2);
      assert.equal(await page.getByLabel("Customer", { exact: true }).locator("option:checked").textContent(), "Fabrikam");
      assert.equal(await page.getByRole("checkbox", { name: "Microsoft 365 E3", exact: true }).isChecked(), true);
      page.once("dialog", (d) => void d.accept());
      await page.getByRole("button", { name: "Close", exact: true }).click();
      await page.getByRole("heading", { name: "Licenses of Ada Lovelace" }).waitFor({ state: "hidden" });
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("keep me signed in: the session survives a reload of the tab (sessionStorage only), sign out forgets it", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      await page.goto(server.url + "/ui/");
      await page.getByLabel("Keep me signed in in this tab (session storage)").check();
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
      await page.reload();
      await page.getByRole("button", { name: /^Edit licenses of / }).first().waitFor();
      assert.ok(await page.getByRole("button", { name: "Sign out" }).isVisible(), "still signed in after a reload");
      assert.deepEqual(await context.cookies(), []);
      assert.equal(await page.evaluate(() => localStorage.length), 0);
      await page.getByRole("button", { name: "Sign out" }).click();
      assert.equal(await page.evaluate(() => sessionStorage.length), 0, "sign out leaves nothing in storage");
      assert.equal(await page.getByLabel("Bearer token").inputValue(), "");
      assert.deepEqual(unexpected(problems), []);
      await context.close();
    }));

  test("the page's answers carry a strict policy; a wrong token is refused with the correlation id", () =>
    withServer(async (server) => {
      const { page, context, problems } = await newPage(browser);
      const res = await page.goto(server.url + "/ui/");
      const h = res.headers();
      assert.match(h["content-security-policy"], /script-src 'self';/);
      assert.doesNotMatch(h["content-security-policy"], /unsafe/);
      assert.equal(h["x-content-type-options"], "nosniff");
      assert.equal(h["referrer-policy"], "no-referrer");
      // An inline script injected into the page is refused by the policy.
      const ran = await page.evaluate(async () => {
        const s = document.createElement("script");
        s.textContent = "window.__inline = true";
        document.head.append(s);
        await new Promise((r) => setTimeout(r, 50));
        return Boolean(window.__inline);
      });
      assert.equal(ran, false, "an inline script ran");
      await page.getByLabel("Bearer token").fill(server.token.slice(0, -4) + "AAAA");
      await page.getByRole("button", { name: "Sign in" }).click();
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.textContent(), /401/);
      assert.match(await alert.textContent(), UUID);
      assert.ok(await page.getByRole("button", { name: "Sign in" }).isVisible(), "still on the sign-in form");
      assert.deepEqual(unexpected(problems, [refused(401), /Content Security Policy/]), []);
      assert.ok(problems.some((p) => /Content Security Policy/.test(p)), "the refused inline script was reported");
      await context.close();
    }));
});
