// classic.test.mjs — the standalone classic page (/classic) in headless Chromium: its links back
// to the dashboard and to the other language, and its projector mode (?projector=1), which has
// the dashboard's projector type and is kept across the page's own reloads (meta refresh), its
// form (post/redirect/get) and its links. The page has no script: everything here is the
// server's HTML and the browser's own navigation. Inside the dashboard the page comes without
// its links (the browser says it loads a frame: Sec-Fetch-Dest: iframe).
//
// Screenshots of the projected page go to target/screenshots/ for a person to read.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FEW_SECONDS, adminApi, launchBrowser, openPage, pageBugs, screenshot, standStill, startServer, stopServer } from "./harness.mjs";

const SIZES = [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }];

let server;
let baseUrl;
let browser;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--chat-per-min", "600"]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

/** In the page: its root and body type (px), whether it is in projector mode, and its overflow. */
function typeAndFit() {
  const px = (element) => parseFloat(getComputedStyle(element).fontSize);
  const root = document.documentElement;
  return {
    projector: root.classList.contains("projector"),
    root: px(root),
    body: px(document.body),
    cell: px(document.querySelector("td") ?? document.body),
    lang: root.lang,
    overflow: root.scrollWidth - window.innerWidth,
    nav: document.querySelector("nav")?.textContent.trim() ?? null,
  };
}

/** The dashboard's root type in projector mode at `size` (px). */
async function dashboardProjectorType(size) {
  const context = await browser.newContext({ viewport: size });
  await context.addInitScript(() => {
    try { localStorage.setItem("pushlab.projector", "on"); } catch (_) { /* no storage */ }
  });
  try {
    const { page } = await openPage(context, `${baseUrl}/?lang=fr`);
    return await page.evaluate(() => ({
      projector: document.documentElement.classList.contains("projector"),
      root: parseFloat(getComputedStyle(document.documentElement).fontSize),
    }));
  } finally {
    await context.close();
  }
}

test("?projector=1 gives the standalone page the dashboard's projector type, at 1280×720 and 1920×1080, in French and English", async () => {
  for (const size of SIZES) {
    const dashboard = await dashboardProjectorType(size);
    assert.ok(dashboard.projector, "the dashboard is in projector mode");
    for (const lang of ["fr", "en"]) {
      const context = await browser.newContext({ viewport: size });
      try {
        const { page, problems } = await openPage(context, `${baseUrl}/classic?lang=${lang}&projector=1`);
        const seen = await page.evaluate(typeAndFit);
        const where = `${lang} ${size.width}×${size.height}`;
        assert.ok(seen.projector, `${where}: no projector class`);
        assert.equal(seen.root, dashboard.root, `${where}: root type ${seen.root} px, the projected dashboard's ${dashboard.root} px`);
        assert.equal(seen.body, seen.root, `${where}: body text ${seen.body} px`);
        assert.ok(seen.cell >= seen.root - 0.5, `${where}: rows in ${seen.cell} px`);
        assert.ok(seen.overflow <= 0, `${where}: the page is ${seen.overflow} px wider than the window`);
        assert.deepEqual(pageBugs(problems), []);
        await screenshot(page, `classic-projector-${lang}-${size.width}x${size.height}.png`);
        // Without the parameter, the page's own desk type.
        await page.goto(`${baseUrl}/classic?lang=${lang}`);
        const desk = await page.evaluate(typeAndFit);
        assert.ok(!desk.projector && desk.body === 15, `${where}: without projector=1, body ${desk.body} px`);
      } finally {
        await context.close();
      }
    }
  }
});

test("projector mode and the language are kept across the page's reloads, its form and its links", async () => {
  const context = await browser.newContext({ viewport: SIZES[0] });
  try {
    const { page, problems } = await openPage(context, `${baseUrl}/classic?lang=fr&projector=1&refresh=1`);
    // Its own reload (meta refresh, every second) carries the mode.
    await page.waitForURL(/[?&]seen=\d+/, { timeout: FEW_SECONDS });
    let seen = await page.evaluate(typeAndFit);
    assert.ok(seen.projector && seen.lang === "fr", `after a reload: ${JSON.stringify(seen)}`);
    assert.match(page.url(), /refresh=1.*projector=1/);

    // The form: post, 303, the page again, still projected (reloads slow enough not to
    // interrupt the typing).
    await page.goto(`${baseUrl}/classic?lang=fr&projector=1&refresh=60`);
    const text = `projecteur ${Math.random().toString(36).slice(2, 8)}`;
    await page.fill('input[name="author"]', "ana");
    await page.fill('input[name="text"]', text);
    await Promise.all([page.waitForURL(/\/classic\?/), page.click("button")]);
    await page.locator("tr[data-seq]", { hasText: text }).first().waitFor({ timeout: FEW_SECONDS });
    seen = await page.evaluate(typeAndFit);
    assert.ok(seen.projector && seen.lang === "fr", `after the form: ${JSON.stringify(seen)}`);
    assert.match(page.url(), /refresh=60.*projector=1/);

    // The links: the other language keeps the mode and the reloads; the mode's link leaves it.
    assert.match(seen.nav, /^Tableau de bord · EN FR · Taille normale$/);
    await Promise.all([page.waitForURL(/lang=en/), page.click('nav a[lang="en"]')]);
    seen = await page.evaluate(typeAndFit);
    assert.ok(seen.projector && seen.lang === "en", `after EN: ${JSON.stringify(seen)}`);
    assert.match(page.url(), /refresh=60.*lang=en&projector=1/);
    await Promise.all([page.waitForURL((url) => !url.search.includes("projector")), page.click('nav a:has-text("Normal size")')]);
    seen = await page.evaluate(typeAndFit);
    assert.ok(!seen.projector && seen.lang === "en", `after Normal size: ${JSON.stringify(seen)}`);
    assert.equal(seen.nav, "Dashboard · EN FR · Projector");
    // And back to the dashboard, in the page's language.
    await Promise.all([page.waitForURL(/\/\?lang=en$/), page.click('nav a:has-text("Dashboard")')]);
    await page.waitForSelector(".panel");
    assert.deepEqual(pageBugs(problems), []);
  } finally {
    await context.close();
  }
});

test("inside the dashboard the classic page comes without its links", async () => {
  const context = await browser.newContext({ viewport: SIZES[1] });
  try {
    const { page } = await openPage(context, `${baseUrl}/?lang=fr`);
    const frame = page.frameLocator('.panel[data-transport="classic"] iframe');
    await frame.locator("tr[data-seq]").first().waitFor({ timeout: FEW_SECONDS });
    assert.equal(await frame.locator("nav").count(), 0);
    assert.equal(await frame.locator("h1").count(), 1);
  } finally {
    await context.close();
  }
});

test("the dashboard counts each classic load as the server did, the reloads of an empty page included", async () => {
  // A feed that starts silent: the first pages have no row, and their own reloads (meta refresh)
  // carry seen=0, which the server counts after. The page is the server's only client.
  const { child, url } = await startServer(["--admin-token", "classic-counts"]);
  const context = await browser.newContext();
  try {
    assert.equal((await adminApi(url, "classic-counts", "PUT", "/api/admin/settings", { paused: true })).status, 200);
    assert.equal((await adminApi(url, "classic-counts", "POST", "/api/admin/reset")).status, 200);
    const { page, problems } = await openPage(context, `${url}/?lang=en`);
    const frameLoads = () => page.$eval('.panel[data-transport="classic"] iframe', (frame) => Number(frame.dataset.loads ?? 0));
    // Two loads of the empty page: the first, then its own reload.
    await page.waitForFunction(
      () => Number(document.querySelector('.panel[data-transport="classic"] iframe')?.dataset.loads ?? 0) >= 2,
      null,
      { timeout: FEW_SECONDS },
    );
    assert.equal((await adminApi(url, "classic-counts", "PUT", "/api/admin/settings", { paused: false })).status, 200);
    const loadsBefore = await frameLoads();
    await page.waitForFunction(
      (loads) => Number(document.querySelector('.panel[data-transport="classic"] iframe')?.dataset.loads ?? 0) >= loads + 2,
      loadsBefore,
      { timeout: FEW_SECONDS },
    );
    const counts = () => page.$eval('.panel[data-transport="classic"]', (panel) => Object.fromEntries(["requests", "delivered", "empty"].map((counter) => {
      const row = panel.querySelector(`tr[data-counter="${counter}"]`);
      const read = (cell) => Number(row.querySelector(cell).textContent.replace(/\D/g, "") || "NaN");
      return [counter, { page: read(".mine"), server: read(".server") }];
    })));
    // The server's totals come once a second, the page's counts shown as they stood then.
    await page.waitForFunction(() => {
      const row = document.querySelector('.panel[data-transport="classic"] tr[data-counter="delivered"]');
      const read = (cell) => row?.querySelector(cell)?.textContent.replace(/\D/g, "");
      return read(".server") && Number(read(".server")) > 0 && read(".mine") === read(".server");
    }, null, { timeout: FEW_SECONDS }).catch(() => {});
    const figures = await counts();
    for (const [counter, { page: mine, server: all }] of Object.entries(figures)) {
      assert.equal(mine, all, `classic ${counter}: this page ${mine}, the server ${all} (${JSON.stringify(figures)})`);
    }
    assert.ok(figures.delivered.server > 0, JSON.stringify(figures));
    assert.deepEqual(pageBugs(problems), []);
  } finally {
    await context.close();
    await stopServer(child);
  }
});

test("a dashboard that stood still: its classic page's overdue reload is counted once, as the server counts it", async () => {
  // The page is the server's only client: after the stop, the server's classic figures are the page's.
  const { child, url } = await startServer(["--admin-token", "classic-still", "--buffer", "16"]);
  const context = await browser.newContext();
  try {
    const { page } = await openPage(context, `${url}/?lang=en`);
    const classic = '.panel[data-transport="classic"]';
    await page.waitForFunction((selector) => Number(document.querySelector(`${selector} iframe`)?.dataset.loads ?? 0) >= 2, classic, { timeout: FEW_SECONDS });
    // The page's scripts stop 8 s (a laptop's lid closed): the frame's reload (every 3 s) and the
    // watchdog (3 s and a 5 s grace) are both overdue when it runs again.
    await standStill(context, page, 8000);
    const loads = await page.$eval(`${classic} iframe`, (frame) => Number(frame.dataset.loads));
    await page.waitForFunction(([selector, n]) => Number(document.querySelector(`${selector} iframe`).dataset.loads) >= n + 2, [classic, loads], { timeout: FEW_SECONDS });
    // The figures of one stats record taken after the last load: "this page" and "all clients".
    await page.waitForFunction((selector) => {
      const row = (counter) => document.querySelector(`${selector} tr[data-counter="${counter}"]`);
      const same = (counter) => row(counter)?.querySelector(".mine").textContent === row(counter)?.querySelector(".server").textContent;
      return same("requests") && same("missed");
    }, classic, { timeout: FEW_SECONDS }).catch(() => {});
    const figures = await page.$eval(classic, (panel) => Object.fromEntries(["requests", "missed"].map((counter) => {
      const row = panel.querySelector(`tr[data-counter="${counter}"]`);
      return [counter, { page: row.querySelector(".mine").textContent, server: row.querySelector(".server").textContent }];
    })));
    assert.equal(figures.requests.page, figures.requests.server, JSON.stringify(figures));
    assert.equal(figures.missed.page, figures.missed.server, JSON.stringify(figures));
  } finally {
    await context.close();
    await stopServer(child);
  }
});
