// module-graph.test.mjs — each page template preloads exactly its script's module graph.
//
// Without <link rel="modulepreload">, the browser learns of a module only when the one importing it
// has arrived: the dashboard's 35 modules came eight levels deep, one round trip per level. The
// lists in templates/ are written by hand, so this test walks the import statements from each
// page's script and fails, naming the lines to add or remove, when a list misses a module or
// names one the page no longer loads. Runs in Node: no server, no browser.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./harness.mjs";
import { importedSpecifiers, moduleGraph } from "./module-graph.mjs";

const TEMPLATES = join(ROOT, "templates");
const STATIC_JS = join(ROOT, "static", "js");

/** Templates that load a page script: { name, entry, preloads } (base.html's empty block is skipped). */
function pageTemplates() {
  return readdirSync(TEMPLATES)
    .filter((name) => name.endsWith(".html"))
    .map((name) => {
      const source = readFileSync(join(TEMPLATES, name), "utf8");
      const entry = /\{% block script %\}([^{]+)\{% endblock %\}/.exec(source)?.[1].trim();
      const preloads = [...source.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
      return { name, entry, preloads };
    })
    .filter((page) => page.entry);
}

/** Every .js file under static/js, as a URL path. */
function allModules(dir = STATIC_JS) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return allModules(path);
    return entry.name.endsWith(".js") ? ["/" + relative(ROOT, path).split("\\").join("/")] : [];
  });
}

test("the import reader sees every form of static import, and not the ones in comments", () => {
  const source = [
    'import a, { b,\n  c } from "./x.js";',
    'import * as y from "../y.js";',
    'export { z } from "./z.js";',
    'export * from "./w.js";',
    'import "./side-effect.js";',
    '// import { old } from "./commented-out.js";',
    "/** A JSDoc that quotes\n * import { doc } from \"./in-a-comment.js\"; */",
    'export function f() { return document.querySelector(".not-a-module"); }',
  ].join("\n");
  assert.deepEqual(importedSpecifiers(source), ["./x.js", "../y.js", "./z.js", "./w.js", "./side-effect.js"]);
});

test("every page template preloads its script's whole module graph, and nothing else", () => {
  const pages = pageTemplates();
  assert.deepEqual(pages.map((page) => page.name).sort(), ["admin.html", "index.html", "lab.html", "protocol.html"]);
  for (const { name, entry, preloads } of pages) {
    const graph = moduleGraph(entry);
    const listed = new Set(preloads);
    const line = (path) => `  <link rel="modulepreload" href="${path}">`;
    const missing = [...graph].filter((path) => !listed.has(path)).sort();
    const extra = preloads.filter((path) => !graph.has(path));
    assert.deepEqual(missing, [], `${name} imports these without preloading them; add:\n${missing.map(line).join("\n")}`);
    assert.deepEqual(extra, [], `${name} preloads these but ${entry} never imports them; remove:\n${extra.map(line).join("\n")}`);
    assert.equal(listed.size, preloads.length, `${name} names a module twice in its modulepreload list`);
  }
});

test("every module in static/js belongs to some page's graph (none orphaned, none missed by the reader)", () => {
  const loaded = new Set(pageTemplates().flatMap(({ entry }) => [...moduleGraph(entry)]));
  const orphans = allModules().filter((path) => !loaded.has(path));
  assert.deepEqual(orphans, [], "modules no page imports: delete them, or import them where they are used");
});
