// The browser tests' harness: a real licensesd (`licensesd demo`: a fresh
// temporary SQLite database seeded with the demo data, on 127.0.0.1 and a
// free port) and Debian's Chromium driven by playwright-core.
//
// Bounded in time: licensesd runs under timeout(1), so it stops by itself
// even if this process dies; every test stops its own server (SIGTERM, by
// its PID) when it ends.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const LICENSESD = process.env.LICENSESD || "";
const SERVER_LIFETIME_SECONDS = 300;

/**
 * Why the browser tests cannot run here, or "" when they can. With
 * REQUIRE_BROWSER set (CI) a missing browser or server is a failure, not a
 * skip.
 */
export function skipReason() {
  let why = "";
  if (!fs.existsSync(CHROMIUM)) why = `${CHROMIUM} is not installed (make browser-tools installs it)`;
  else if (!LICENSESD || !fs.existsSync(LICENSESD)) why = "LICENSESD does not name a built licensesd (make test-browser builds one)";
  if (why && process.env.REQUIRE_BROWSER) throw new Error(`REQUIRE_BROWSER is set, but ${why}`);
  return why;
}

/** Where screenshots go: the test output folder (gitignored). */
export const OUTPUT = process.env.TEST_OUTPUT_DIR || path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../test-results");

/**
 * Starts `licensesd demo` and resolves once it serves, with its URL and the
 * tokens it printed.
 */
export async function startDemo() {
  const child = spawn("timeout", ["--signal=TERM", "--kill-after=5", String(SERVER_LIFETIME_SECONDS), LICENSESD, "demo", "--addr", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr.on("data", (d) => {
    err += d;
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`licensesd demo did not start within 30 s:\n${out}\n${err}`)), 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`licensesd demo exited (${code}):\n${out}\n${err}`));
    });
    child.stdout.on("data", (d) => {
      out += d;
      const url = /is serving (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const token = /^TOKEN=(\S+)$/m.exec(out)?.[1];
      const reseller = /^RESELLER_TOKEN=(\S+)$/m.exec(out)?.[1];
      if (url && token && reseller && out.includes("Stop with Ctrl-C.")) {
        clearTimeout(timer);
        resolve({ url, token, reseller });
      }
    });
  });
  const info = await ready;
  return {
    ...info,
    tenant: "portal.contoso.test",
    /** Stops the server (by its PID) and waits for it to exit. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export const LAUNCH_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS, timeout: 30_000 });
}

/**
 * A page that records every console error, page error and refused request
 * (a Content-Security-Policy violation shows as a console error), so that
 * each test can assert there were none.
 */
export async function newPage(browser, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    const why = r.failure()?.errorText ?? "";
    // openapi-fetch cancels the empty body of a 200 without content (the
    // PATCH), which Chromium reports as aborted although the answer came.
    void r.response().then((res) => {
      if (!(res && why === "net::ERR_ABORTED")) problems.push(`request failed: ${r.method()} ${r.url()} ${why}`);
    });
  });
  return { context, page, problems };
}

export async function screenshot(page, name) {
  fs.mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const axeSource = fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../node_modules/axe-core/axe.min.js"), "utf8");

/**
 * The WCAG 2.1 A/AA violations axe-core finds on the page as it is now,
 * one line each. axe is evaluated through the DevTools protocol, which the
 * page's policy does not govern (the page itself allows no inline script).
 */
export async function accessibilityViolations(page) {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return r.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  });
  return violations;
}
