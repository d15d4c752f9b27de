// module-graph.mjs — a page's module graph read from the import statements, as the browser would
// walk it: each specifier resolved against the URL of the module that names it. Used by
// module-graph.test.mjs to check the templates' modulepreload lists.
//
// Not a test file itself (node --test only runs *.test.mjs).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./harness.mjs";

/** The specifiers a module imports statically (`import … from "x"`, `import "x"`, `export … from "x"`). */
export function importedSpecifiers(source) {
  // Comments may quote an import: whole-line ones go first (they may hold "/*", as in
  // "/api/admin/*"), then blocks that open a line (JSDoc).
  const code = source.replace(/^\s*\/\/.*$/gm, "").replace(/^\s*\/\*[\s\S]*?\*\//gm, "");
  const clause = String.raw`(?:import\s+(?:[\w$]+\s*,?\s*)?(?:\{[^}]*\}|\*\s*as\s+[\w$]+)?|export\s+(?:\{[^}]*\}|\*(?:\s*as\s+[\w$]+)?))\s*from`;
  const statements = new RegExp(String.raw`^\s*(?:${clause}|import)\s*["']([^"']+)["']`, "gm");
  return [...code.matchAll(statements)].map((match) => match[1]);
}

/** Every module URL path (e.g. "/static/js/shared/dom.js") reachable from `entry`, entry included. */
export function moduleGraph(entry) {
  const seen = new Set();
  const pending = [entry];
  while (pending.length > 0) {
    const path = pending.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    const source = readFileSync(join(ROOT, path), "utf8");
    for (const specifier of importedSpecifiers(source)) {
      pending.push(new URL(specifier, `http://pushlab${path}`).pathname);
    }
  }
  return seen;
}
