// Builds the web assets licensesd embeds (internal/webui/dist), or checks
// that the committed ones are exactly what the sources produce.
//
//   node scripts/build.mjs            generate src/api/schema.ts from ../api/openapi.yaml,
//                                     type-check, build into ../internal/webui/dist
//   node scripts/build.mjs --check    the same into temporary folders, compared with
//                                     the working tree (schema.ts and the dist)
//
// Output:
//   ui/index.html, ui/assets/*        the editor (Vite, minified, no source maps)
//   docs/index.html, docs/init.js,    the API reference page, its start-up script
//   docs/docs.css                     and its style sheet
//   docs/swagger-ui-bundle.js.gz,     Swagger UI from swagger-ui-dist, stored gzipped
//   docs/swagger-ui.css.gz            (1.9 MB of text, 0.5 MB compressed); served as
//                                     is to browsers that take gzip. The check compares
//                                     the uncompressed content, so a different zlib
//                                     does not count as a difference.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { build } from "vite";

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const committed = path.resolve(web, "../internal/webui/dist");
const check = process.argv.includes("--check");

// The TypeScript client's types, from the spec (openapi-typescript).
const spec = path.resolve(web, "../api/openapi.yaml");
const schema = path.join(web, "src/api/schema.ts");
const generateSchema = (to) =>
  execFileSync(process.execPath, [path.join(web, "node_modules/openapi-typescript/bin/cli.js"), spec, "-o", to], { stdio: "pipe" });
if (check) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "userlicenses-schema-"));
  try {
    generateSchema(path.join(tmp, "schema.ts"));
    const fresh = fs.readFileSync(path.join(tmp, "schema.ts"));
    if (!fs.existsSync(schema) || !fresh.equals(fs.readFileSync(schema))) {
      console.error("check-generate: web/src/api/schema.ts differs from what api/openapi.yaml produces (openapi-typescript).");
      console.error("Run 'make generate' and commit web/src/api/schema.ts and internal/webui/dist with the spec.");
      process.exit(1);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  generateSchema(schema);
}

// Type-check first: Vite strips types without checking them, and the
// point of the generated client is that the page follows the contract at
// compile time.
execFileSync(process.execPath, [path.join(web, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", path.join(web, "tsconfig.json")], {
  stdio: "inherit",
});

const out = check ? fs.mkdtempSync(path.join(os.tmpdir(), "userlicenses-web-")) : committed;
try {
  fs.rmSync(out, { recursive: true, force: true });
  await buildAll(out);
  if (check) {
    const diffs = compare(committed, out);
    if (diffs.length > 0) {
      console.error("check-generate: internal/webui/dist differs from what web/ builds:");
      for (const d of diffs) console.error("  " + d);
      console.error("Run 'make generate' (or 'make web-build') and commit internal/webui/dist with its sources.");
      process.exitCode = 1;
    } else {
      console.log("check-generate: internal/webui/dist matches web/");
    }
  } else {
    report(out);
  }
} finally {
  if (check) fs.rmSync(out, { recursive: true, force: true });
}

async function buildAll(dir) {
  const common = {
    configFile: false,
    logLevel: "warn",
    build: { minify: true, sourcemap: false, reportCompressedSize: false, emptyOutDir: true, modulePreload: { polyfill: false } },
  };
  // The editor: served at /ui/, so every reference is relative (./assets/…).
  await build({
    ...common,
    root: path.join(web, "src/ui"),
    base: "./",
    build: { ...common.build, outDir: path.join(dir, "ui"), assetsInlineLimit: 0 },
  });
  // The reference page's script: one file with a fixed name, loaded by
  // docs/index.html from /docs.
  await build({
    ...common,
    root: web,
    build: {
      ...common.build,
      outDir: path.join(dir, "docs"),
      lib: { entry: path.join(web, "src/docs/init.ts"), formats: ["iife"], name: "userlicensesDocs", fileName: () => "init.js" },
    },
  });
  for (const f of ["index.html", "docs.css"]) fs.copyFileSync(path.join(web, "src/docs", f), path.join(dir, "docs", f));
  const swagger = path.join(web, "node_modules/swagger-ui-dist");
  for (const f of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
    const body = stripSourceMap(fs.readFileSync(path.join(swagger, f), "utf8"));
    fs.writeFileSync(path.join(dir, "docs", f + ".gz"), zlib.gzipSync(body, { level: 9 }));
  }
  // Swagger UI is Apache-2.0: its licence travels with it.
  fs.copyFileSync(path.join(swagger, "LICENSE"), path.join(dir, "docs/swagger-ui-LICENSE.txt"));
}

// The source maps are not shipped, so their references go too.
function stripSourceMap(text) {
  return text.replace(/\n?\/[/*][#@] sourceMappingURL=[^\n]*\s*$/, "\n");
}

function files(dir, prefix = "") {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name), prefix + e.name + "/") : [prefix + e.name],
  );
}

function content(file) {
  const raw = fs.readFileSync(file);
  return file.endsWith(".gz") ? zlib.gunzipSync(raw) : raw;
}

function compare(want, got) {
  const a = new Set(files(want));
  const b = new Set(files(got));
  const diffs = [];
  for (const f of b) if (!a.has(f)) diffs.push(`missing from the working tree: ${f}`);
  for (const f of a) if (!b.has(f)) diffs.push(`not produced by the sources (stale): ${f}`);
  for (const f of a) if (b.has(f) && !content(path.join(want, f)).equals(content(path.join(got, f)))) diffs.push(`differs: ${f}`);
  return diffs.sort();
}

function report(dir) {
  let total = 0;
  for (const f of files(dir)) {
    const n = fs.statSync(path.join(dir, f)).size;
    total += n;
    console.log(`${String(n).padStart(9)}  internal/webui/dist/${f}`);
  }
  console.log(`${String(total).padStart(9)}  in all`);
}
