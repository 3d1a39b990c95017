// The API reference at /docs in a real browser: Swagger UI, vendored
// through npm and embedded, renders the embedded spec under the page's
// policy, and "Try it out" calls this server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launch, newPage, screenshot, skipReason, startDemo } from "./harness.mjs";

const skip = skipReason();
if (skip) console.log(`# SKIPPED the browser tests of /docs: ${skip}`);

describe("the API reference", { skip: skip || false }, () => {
  let browser;
  let server;
  before(async () => {
    browser = await launch();
    server = await startDemo();
  });
  after(async () => {
    await server?.stop();
    await browser?.close();
  });

  test("renders the spec with no policy violation, links back to the editor, and tries requests against this server", async () => {
    const { page, context, problems } = await newPage(browser);
    const external = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) external.push(r.url());
    });
    const res = await page.goto(server.url + "/docs");
    assert.match(res.headers()["content-security-policy"], /script-src 'self';/);
    assert.doesNotMatch(res.headers()["content-security-policy"], /unsafe/);
    await page.getByRole("heading", { name: /CloudCockpit CSP API/ }).waitFor();
    const servers = await page.locator(".servers select option").allTextContents();
    assert.deepEqual(servers.map((s) => s.split(" ")[0]), [server.url], "Try it out targets this server only");

    // Try it out: GET /healthz from the page, answered by this licensesd.
    await page.locator("#operations-Health-GetHealth").getByRole("button").first().click();
    await page.getByRole("button", { name: "Try it out" }).click();
    await page.getByRole("button", { name: "Execute" }).click();
    const live = page.locator("#operations-Health-GetHealth .live-responses-table tr.response .response-col_status").first();
    await live.waitFor();
    assert.equal((await live.textContent()).trim(), "200");
    // Open a schema and another operation too: no view may need inline style or script.
    await page.locator("#operations-CustomerUsers-UpdateCustomerUserLicenses").getByRole("button").first().click();
    await page.locator(".models").getByRole("button").filter({ hasText: "ErrorResponse" }).first().click();
    await page.locator(".models .model-box").filter({ hasText: "correlationId" }).first().waitFor();
    await screenshot(page, "docs");

    await page.getByRole("link", { name: "License editor" }).click();
    await page.waitForURL(server.url + "/ui/");
    assert.deepEqual(external, [], "the reference fetched nothing from elsewhere");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
