// Copies the front-end packages saygac serves into web/static/vendor, and bundles the
// app's own entry points (web/assets/*.js) with esbuild into web/static/build.
// Run by bin/setup after `npm ci`; both output folders are build products, not committed.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "web", "static", "vendor");
const out = join(root, "web", "static", "build");
const modules = join(root, "node_modules");

rmSync(vendor, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
mkdirSync(vendor, { recursive: true });
mkdirSync(out, { recursive: true });

const copies = {
  "bpmn-js/dist/bpmn-navigated-viewer.production.min.js": "bpmn-navigated-viewer.js",
  "bpmn-js/dist/bpmn-modeler.production.min.js": "bpmn-modeler.js",
  "bpmn-js/dist/assets": "bpmn-js",
  "dmn-js/dist/dmn-modeler.production.min.js": "dmn-modeler.js",
  "dmn-js/dist/assets": "dmn-js",
  "@bpmn-io/properties-panel/dist/assets/properties-panel.css": "properties-panel.css",
  "bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css": "bpmn-js-bpmnlint.css",
  "axe-core/axe.min.js": "axe.min.js",
  "chart.js/dist/chart.umd.min.js": "chart.umd.js",
  "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css": "swagger-ui.css",
};
for (const [from, to] of Object.entries(copies)) {
  const source = join(modules, from);
  if (existsSync(source)) cpSync(source, join(vendor, to), { recursive: true });
}

const assets = join(root, "web", "assets");
const entries = existsSync(assets) ? readdirSync(assets).filter((f) => f.endsWith(".js")) : [];
if (entries.length) {
  await build({
    entryPoints: entries.map((f) => join(assets, f)),
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    outdir: out,
    loader: { ".bpmnlintrc": "json" },
    logLevel: "warning",
  });
}
console.log(`assets: ${Object.keys(copies).length} vendor files, ${entries.length} bundles`);
