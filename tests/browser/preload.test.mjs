// preload.test.mjs — the modulepreload lists in a real browser: each page fetches every module
// of its graph exactly once, and every module it fetches was announced by the template.
//
// module-graph.test.mjs checks the lists against the imports without a browser. This file checks
// what only a browser shows: a preload whose request does not match the one the import makes (a
// URL spelled differently, e.g. with a query) is not used, and the module is fetched a second time.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, openPage, pageBugs, startServer, stopServer } from "./harness.mjs";

const PAGES = ["/?lang=en", "/lab?lang=en", "/protocol?lang=en", "/admin?lang=en"];

let server;
let baseUrl;
let browser;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer());
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

for (const path of PAGES) {
  test(`${path} fetches each module of its graph once, all announced by modulepreload`, async () => {
    // A fresh context per page: an empty cache, so every module is really requested.
    const context = await browser.newContext();
    try {
      const fetched = [];
      context.on("request", (request) => {
        const url = new URL(request.url());
        if (url.pathname.endsWith(".js")) fetched.push(url.pathname);
      });
      // page.goto resolves on `load`, which waits for the module graph to run.
      const { page, problems } = await openPage(context, baseUrl + path);
      const announced = await page.$$eval('link[rel="modulepreload"]', (links) =>
        links.map((link) => new URL(link.href).pathname));
      assert.ok(announced.length > 0, `${path} announces no module`);
      const twice = fetched.filter((module, index) => fetched.indexOf(module) !== index);
      assert.deepEqual(twice, [], `${path} fetched these modules twice: a preload was not used`);
      assert.deepEqual([...fetched].sort(), [...announced].sort(), `${path} fetched what it announced`);
      assert.deepEqual(pageBugs(problems), []);
    } finally {
      await context.close();
    }
  });
}
