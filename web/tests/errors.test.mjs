// Where the page puts the API's errors (src/ui/errors.ts), table-driven.
// The module is compiled with the pinned TypeScript (it imports types only)
// and loaded from memory; no browser needed.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../src/ui/errors.ts");
const js = ts.transpileModule(fs.readFileSync(src, "utf8"), {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
}).outputText;
const { placeErrors } = await import("data:text/javascript;base64," + Buffer.from(js).toString("base64"));

const E3 = "05e9a617-0261-4cee-bb44-138d3ef5d965";
const EO1 = "4b9405b0-7788-4568-add1-99614e613b69";
const body = (...errors) => ({ statusCode: 400, errors });

const cases = [
  {
    name: "an item's skuId goes to the row of the SKU sent at that index",
    body: body({ propertyName: "customerUserLicenses[1].skuId", description: ["0 available, 1 needed."] }),
    sent: [E3, EO1],
    rows: { [EO1]: ["0 available, 1 needed."] },
    general: [],
  },
  {
    name: "the item itself and its other properties go to its row too, messages kept in order",
    body: body(
      { propertyName: "customerUserLicenses[0]", description: ["listed twice"] },
      { propertyName: "customerUserLicenses[0].isSelected", description: ["must be a boolean", "again"] },
    ),
    sent: [E3],
    rows: { [E3]: ["listed twice", "must be a boolean", "again"] },
    general: [],
  },
  {
    name: "an index the page did not send goes to the top",
    body: body({ propertyName: "customerUserLicenses[7].skuId", description: ["unknown"] }),
    sent: [E3],
    rows: {},
    general: ["customerUserLicenses[7].skuId: unknown"],
  },
  {
    name: "other properties go to the top, named",
    body: body({ propertyName: "providerInstanceId", description: ["not a Microsoft instance"] }, { propertyName: "X-Tenant", description: ["required"] }),
    sent: [E3],
    rows: {},
    general: ["providerInstanceId: not a Microsoft instance", "X-Tenant: required"],
  },
  {
    name: "a look-alike name is not an item",
    body: body({ propertyName: "customerUserLicensesX[0].skuId", description: ["x"] }, { propertyName: "customerUserLicenses", description: ["too many"] }),
    sent: [E3],
    rows: {},
    general: ["customerUserLicensesX[0].skuId: x", "customerUserLicenses: too many"],
  },
  {
    name: "no property name and no description still say something",
    body: body({ description: ["The request is invalid."] }, { propertyName: "customerUserLicenses[0].skuId" }),
    sent: [E3],
    rows: { [E3]: ["Invalid."] },
    general: ["The request is invalid."],
  },
  { name: "no body (no answer at all)", body: undefined, sent: [E3], rows: {}, general: [] },
  { name: "errors: null", body: { statusCode: 500, errors: null }, sent: [E3], rows: {}, general: [] },
];

for (const c of cases) {
  test(c.name, () => {
    const placed = placeErrors(c.body, c.sent);
    assert.deepEqual(Object.fromEntries(placed.rows), c.rows);
    assert.deepEqual(placed.general, c.general);
  });
}
