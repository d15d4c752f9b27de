// admin.test.mjs — the instructor's console (/admin) in headless Chromium, and what the room sees
// of it on the dashboard: login (wrong and right token, the cookie's flags), live controls, the
// server's refusals shown next to their control, a dropped WebSocket that resumes with nothing
// missed, the suggested poll interval, faults on the panels, the exports, logout.
//
// Its own server (known --admin-token) and browser, so no other test file sees its settings.
// Tests run in order and build on each other: the instructor logs in once, then acts.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  FEW_SECONDS, VIEWPORT, adminApi, launchBrowser, openPage, pageBugs, screenshot, startServer, stopServer,
} from "./harness.mjs";

const TOKEN = `console-test-${Math.random().toString(36).slice(2, 10)}`;

let server;
let baseUrl;
let browser;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

const settingsNow = async () => (await adminApi(baseUrl, TOKEN, "GET", "/api/admin/settings")).body;
const panel = (transport) => `.panel[data-transport="${transport}"]`;
const faultRow = (transport) => `#fault-table tr[data-transport="${transport}"]:not(.fault-report)`;
const faultReport = (transport) => `#fault-table tr.fault-report[data-transport="${transport}"]`;

/** Types a value into a console box and commits it (Enter), as the instructor would. */
async function enter(page, selector, value) {
  await page.fill(selector, String(value));
  await page.press(selector, "Enter");
}

describe("the login form", () => {
  let visitor;

  before(async () => {
    visitor = await browser.newContext({ viewport: VIEWPORT });
  });

  after(async () => {
    await visitor?.close();
  });

  test("without a cookie, /admin shows the login form and no console", async () => {
    const { page, problems } = await openPage(visitor, `${baseUrl}/admin?lang=en`);
    assert.equal(await page.locator("#login").count(), 1);
    assert.equal(await page.locator("#console").count(), 0, "no controls before login");
    assert.equal(await page.locator("#login-error").count(), 0);
    assert.equal((await page.textContent("#login label")).trim(), "Admin token");
    await screenshot(page, "admin-login.png");
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("a wrong token is refused with 401 and the error is shown, in the form's language", async () => {
    for (const [lang, expected] of [["en", /Wrong token/], ["fr", /Jeton incorrect/]]) {
      const { page, problems } = await openPage(visitor, `${baseUrl}/admin?lang=${lang}`);
      await page.fill("#token", "not-the-token");
      const [answer] = await Promise.all([
        page.waitForResponse((response) => response.url().endsWith("/admin/login")),
        // Loaded: its script has translated the English fallback of the HTML (see guard.test.mjs).
        page.waitForURL(/\/admin\/login$/, { waitUntil: "load" }),
        page.click('#login button[type="submit"]'),
      ]);
      assert.equal(answer.status(), 401);
      assert.match(await page.textContent("#login-error"), expected);
      assert.equal(await page.locator("#console").count(), 0);
      // Answered at /admin/login (POST only), the page's language switch still leads to /admin.
      assert.equal(await page.$eval('.lang-switch a[hreflang="fr"]', (a) => a.href), `${baseUrl}/admin?lang=fr`);
      if (lang === "en") await screenshot(page, "admin-wrong-token.png");
      assert.deepEqual(problems, [
        `HTTP 401 for ${baseUrl}/admin/login`,
        "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
      ], "only the expected refusal");
      await page.close();
    }
    const cookies = await visitor.cookies();
    assert.ok(!cookies.some((cookie) => cookie.name === "pushlab_admin"), "no session after a wrong token");
  });
});

describe("the console, logged in", () => {
  let instructor;
  let consolePage;
  let consoleProblems;
  let dashboard;
  let dashboardProblems;

  before(async () => {
    instructor = await browser.newContext({ viewport: VIEWPORT });
  });

  after(async () => {
    await instructor?.close();
  });

  test("the right token opens the console; the cookie is HttpOnly and SameSite=Strict", async () => {
    ({ page: consolePage, problems: consoleProblems } = await openPage(instructor, `${baseUrl}/admin?lang=en`));
    await consolePage.fill("#token", TOKEN);
    await Promise.all([consolePage.waitForURL(/\/admin\?lang=en$/), consolePage.click('#login button[type="submit"]')]);
    await consolePage.waitForSelector("#console");

    const cookie = (await instructor.cookies()).find((c) => c.name === "pushlab_admin");
    assert.ok(cookie, "the session cookie is set");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/");
    assert.ok(!(await consolePage.evaluate(() => document.cookie)).includes("pushlab_admin"), "scripts cannot read it");
    assert.ok(!(await consolePage.content()).includes(TOKEN), "the token is not in the page");

    // The inputs show the server's settings, and the strip is live.
    await consolePage.waitForFunction(() => document.getElementById("rate-number").value === "5", null, { timeout: FEW_SECONDS });
    await consolePage.waitForSelector('#live-settings[data-state="live"]', { timeout: FEW_SECONDS });
    assert.equal(await consolePage.inputValue("#longpoll-cap"), String((await settingsNow()).longpoll_max_ms));
    await consolePage.waitForSelector(`${faultRow("ws")} .fault-now[data-state="normal"]`);
    await screenshot(consolePage, "admin-console.png");
    assert.deepEqual(consoleProblems, []);
  });

  test("a rate changed in the console reaches a dashboard in another tab", async () => {
    ({ page: dashboard, problems: dashboardProblems } = await openPage(instructor, `${baseUrl}/?lang=en`));
    await dashboard.waitForSelector('#live-settings[data-rate-hz="5"]', { timeout: FEW_SECONDS });

    await enter(consolePage, "#rate-number", 7);
    await consolePage.waitForSelector('[data-control="rate"][data-result="ok"]', { timeout: FEW_SECONDS });
    await dashboard.waitForSelector('#live-settings[data-rate-hz="7"]', { timeout: FEW_SECONDS });
    assert.match(await dashboard.textContent('#live-settings [data-setting="rate"]'), /^7 events\/s$/);
    assert.equal((await settingsNow()).rate_hz, 7);

    // The slider moves on its 1-2-5 ladder: one step down from 5 is 2.
    await consolePage.fill("#rate-slider", "5");
    await dashboard.waitForSelector('#live-settings[data-rate-hz="2"]', { timeout: FEW_SECONDS });
    assert.equal(await consolePage.inputValue("#rate-number"), "2");
    assert.equal((await settingsNow()).rate_hz, 2);
  });

  test("the chat limit per address is shown in the console and changed there; a student over it gets 429", async () => {
    assert.equal(await consolePage.inputValue("#chat-per-min"), "60");
    assert.equal(await consolePage.inputValue("#reports-per-min"), "600");
    await enter(consolePage, "#chat-per-min", 3);
    await consolePage.waitForSelector('[data-control="chat-per-min"][data-result="ok"]', { timeout: FEW_SECONDS });
    await dashboard.waitForSelector('#live-settings[data-chat-per-min="3"]', { timeout: FEW_SECONDS });
    assert.equal((await settingsNow()).chat_per_min, 3);
    assert.equal((await settingsNow()).chat_burst, 1);
    // One chat, then the next is refused with the wait to respect.
    const post = () => fetch(`${baseUrl}/api/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ author: "ana", text: "vite" }),
    });
    assert.equal((await post()).status, 201);
    const refused = await post();
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get("retry-after"), "20");
    await enter(consolePage, "#chat-per-min", 60);
    await consolePage.waitForSelector('[data-control="chat-per-min"][data-result="ok"]', { timeout: FEW_SECONDS });
    assert.equal((await settingsNow()).chat_per_min, 60);
  });

  test("a refused value shows the server's message next to its control, and changes nothing", async () => {
    await enter(consolePage, "#rate-number", 5000);
    await consolePage.waitForSelector('[data-control="rate"][data-result="error"]', { timeout: FEW_SECONDS });
    assert.match(await consolePage.textContent('[data-control="rate"] .error'), /rate_hz must be 0 \(no ticks\) or a number from 0.01 to 1000/);

    await enter(consolePage, "#delay-sse", 20000);
    await consolePage.waitForSelector('[data-control="delay-sse"][data-result="error"]', { timeout: FEW_SECONDS });
    assert.match(await consolePage.textContent('[data-control="delay-sse"] .error'), /added_delay_ms\.sse must be at most 10000/);
    assert.notEqual(await consolePage.textContent('[data-control="rate"] .error'), "", "each error stays by its own control");

    await consolePage.fill(`${faultRow("ws")} input >> nth=0`, "10");
    await consolePage.click(`${faultRow("ws")} button.slow`);
    await consolePage.waitForSelector(`${faultRow("ws")}[data-result="error"]`, { timeout: FEW_SECONDS });
    assert.match(await consolePage.textContent(`${faultReport("ws")} .error`), /bytes_per_sec must be at least 64/);
    await screenshot(consolePage, "admin-errors.png");
    await consolePage.fill(`${faultRow("ws")} input >> nth=0`, "256");

    const settings = await settingsNow();
    assert.equal(settings.rate_hz, 2);
    assert.equal(settings.added_delay_ms.sse, 0);
    // The refusals are the page's expected 400s (and Chromium's console line for each), not failures of the page.
    const expected = (problem) => /^HTTP 400 for .*\/api\/admin\//.test(problem) || /status of 400 \(Bad Request\)$/.test(problem);
    assert.ok(consoleProblems.every(expected), consoleProblems.join("\n"));
  });

  test("classic pages and short polls have nothing to drop: their drop buttons are disabled", async () => {
    for (const transport of ["classic", "poll"]) {
      assert.equal(await consolePage.isDisabled(`${faultRow(transport)} button.drop`), true, transport);
    }
    for (const transport of ["longpoll", "sse", "ws"]) {
      assert.equal(await consolePage.isDisabled(`${faultRow(transport)} button.drop`), false, transport);
    }
  });

  test("dropping ws from the console: the dashboard's ws panel reconnects and keeps receiving with no gap", async () => {
    const ws = panel("ws");
    await dashboard.waitForSelector(`${ws} .state[data-state="open"]`, { timeout: FEW_SECONDS });
    await dashboard.waitForSelector(`${ws} .feed li[data-seq]`, { timeout: FEW_SECONDS });
    assert.equal(await dashboard.getAttribute(ws, "data-reconnects"), "0");

    await consolePage.click(`${faultRow("ws")} button.drop`);
    await consolePage.waitForFunction(
      (selector) => /dropped [1-9]\d* connection/.test(document.querySelector(selector).textContent),
      `${faultReport("ws")} .status`,
      { timeout: FEW_SECONDS },
    );

    await dashboard.waitForSelector(`${ws}[data-reconnects="1"][data-recovery-missed]`, { timeout: FEW_SECONDS });
    const resumedAfter = Number(await dashboard.getAttribute(ws, "data-resumed-after"));
    assert.equal(await dashboard.getAttribute(ws, "data-recovery-missed"), "0");
    // Two more events after the resume, then the feed holds every seq, in order, across the cut.
    await dashboard.waitForFunction(
      ([selector, after]) => Number(document.querySelector(`${selector} .feed li[data-seq]`).dataset.seq) >= after + 2,
      [ws, resumedAfter],
      { timeout: FEW_SECONDS },
    );
    const seqs = await dashboard.$$eval(`${ws} .feed li[data-seq]`, (items) => items.map((item) => Number(item.dataset.seq)));
    assert.ok(seqs.includes(resumedAfter) && seqs.includes(resumedAfter + 1), `the feed spans the cut: ${seqs}`);
    seqs.forEach((seq, i) => i === 0 || assert.equal(seqs[i - 1] - seq, 1, `no gap and no duplicate: ${seqs}`));
    assert.match(await dashboard.textContent(`${ws} .recovery`), new RegExp(`reconnected ×1 · resumed after seq ${resumedAfter} · missed 0`));
    // The room is told why: the stats stream reports the drop.
    await dashboard.waitForFunction((selector) => /dropped this transport/.test(document.querySelector(selector).textContent),
      `${ws} .notice`, { timeout: FEW_SECONDS });
    await consolePage.waitForFunction((selector) => /dropped ×1/.test(document.querySelector(selector).textContent),
      `${faultRow("ws")} .fault-now`, { timeout: FEW_SECONDS });
  });

  test("the suggested poll interval is adopted by the dashboard; a student's own choice holds until the next one", async () => {
    const note = `${panel("poll")} .panel-note`;
    await enter(consolePage, "#poll-interval", 2500);
    await dashboard.waitForFunction(() => document.getElementById("poll-interval").value === "2500", null, { timeout: FEW_SECONDS });
    assert.match(await dashboard.textContent(note), /every 2,500 ms, as suggested by the instructor/);

    await enter(dashboard, "#poll-interval", 1500);
    assert.match(await dashboard.textContent(note), /every 1,500 ms: your choice \(the instructor suggests 2,500 ms/);
    // Another second of stats (same suggestion) leaves the student's choice alone.
    const samples = Number(await dashboard.getAttribute("#chart-requests", "data-samples"));
    await dashboard.waitForFunction((before) => Number(document.getElementById("chart-requests").dataset.samples) > before, samples, { timeout: FEW_SECONDS });
    assert.equal(await dashboard.inputValue("#poll-interval"), "1500");

    await enter(consolePage, "#poll-interval", 3000);
    await dashboard.waitForFunction(() => document.getElementById("poll-interval").value === "3000", null, { timeout: FEW_SECONDS });
    assert.match(await dashboard.textContent(note), /every 3,000 ms, as suggested by the instructor/);

    // Suggesting the same value again is a new suggestion too (the server numbers them).
    await enter(dashboard, "#poll-interval", 1500);
    const status = await consolePage.evaluate(async () => (await fetch("/api/admin/settings", {
      method: "PUT", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ poll_interval_ms: 3000 }),
    })).status);
    assert.equal(status, 200);
    await dashboard.waitForFunction(() => document.getElementById("poll-interval").value === "3000", null, { timeout: FEW_SECONDS });
  });

  test("added delays and faults show on the dashboard's strip and panels", async () => {
    await enter(consolePage, "#delay-poll", 200);
    await consolePage.waitForSelector('[data-control="delay-poll"][data-result="ok"]', { timeout: FEW_SECONDS });
    await consolePage.fill(`${faultRow("sse")} td.inline >> nth=1 >> input`, "30");
    await consolePage.click(`${faultRow("sse")} button.refuse`);
    await consolePage.waitForSelector(`${faultRow("sse")}[data-result="ok"]`, { timeout: FEW_SECONDS });

    await dashboard.waitForSelector('#live-settings[data-faults="sse"]', { timeout: FEW_SECONDS });
    await dashboard.locator(`${panel("poll")} .conditions .chip`, { hasText: "+200 ms added delay" }).waitFor({ timeout: FEW_SECONDS });
    await dashboard.locator(`${panel("sse")} .conditions .chip`, { hasText: "refusing new requests (503)" }).waitFor({ timeout: FEW_SECONDS });
    assert.match(await dashboard.textContent('#live-settings [data-setting="delays"]'), /Short polling\s*\+200 ms/);
    await consolePage.waitForSelector(`${faultRow("sse")} .fault-now[data-state="fault"]`, { timeout: FEW_SECONDS });
    // A refusal only meets new requests: drop the open stream too, and the SSE panel's
    // reconnections meet the 503 and say so.
    await consolePage.click(`${faultRow("sse")} button.drop`);
    await dashboard.waitForSelector(`${panel("sse")} .state[data-state="reconnecting"]`, { timeout: FEW_SECONDS });
    await dashboard.waitForFunction((selector) => document.querySelector(selector).textContent !== "", `${panel("sse")} .error`, { timeout: FEW_SECONDS });
    await screenshot(dashboard, "dashboard-settings.png");
    await screenshot(consolePage, "admin-faults.png");

    // A refused poll says so in the page's words, from the fault the server names (it showed
    // the server's English sentence on French pages).
    await consolePage.fill(`${faultRow("poll")} td.inline >> nth=1 >> input`, "30");
    await consolePage.click(`${faultRow("poll")} button.refuse`);
    await dashboard.locator(`${panel("poll")} .error`, { hasText: /^Short polling refuses new requests for \d+ more s \(a network failure simulated by the instructor\)\.$/ })
      .waitFor({ timeout: FEW_SECONDS });
    await consolePage.click(`${faultRow("poll")} button.clear`);

    await consolePage.click(`${faultRow("sse")} button.clear`);
    await enter(consolePage, "#delay-poll", 0);
    await dashboard.waitForSelector('#live-settings[data-faults=""]', { timeout: FEW_SECONDS });
    await dashboard.waitForFunction((selector) => document.querySelector(selector).children.length === 0,
      `${panel("poll")} .conditions`, { timeout: FEW_SECONDS });
    // Cleared, the SSE panel comes back by itself, counts one reconnection, and lost nothing.
    await dashboard.waitForSelector(`${panel("sse")}[data-reconnects="1"][data-recovery-missed="0"]`, { timeout: FEW_SECONDS });
  });

  test("pause, burst and reset apply from the console", async () => {
    await consolePage.click("#pause");
    await dashboard.waitForSelector('#live-settings[data-paused="true"]', { timeout: FEW_SECONDS });
    assert.equal((await settingsNow()).paused, true);
    assert.equal(await consolePage.getAttribute("#pause", "aria-pressed"), "true");
    await consolePage.click("#pause");
    await dashboard.waitForSelector('#live-settings[data-paused="false"]', { timeout: FEW_SECONDS });

    const before = (await adminApi(baseUrl, TOKEN, "GET", "/api/stats")).body.feed.last_seq;
    await enter(consolePage, "#burst-count", 40);
    await consolePage.click("#burst");
    await consolePage.waitForSelector('[data-control="burst"][data-result="ok"]', { timeout: FEW_SECONDS });
    assert.match(await consolePage.textContent('[data-control="burst"] .status'), /published 40, last seq \d+/);
    assert.ok((await adminApi(baseUrl, TOKEN, "GET", "/api/stats")).body.feed.last_seq >= before + 40);

    await consolePage.click("#reset");
    await consolePage.waitForSelector('[data-control="reset"][data-result="ok"]', { timeout: FEW_SECONDS });
    assert.match(await consolePage.textContent('[data-control="reset"] .status'), /statistics zeroed/);
  });

  test("the charts download as one PNG, and the export links answer with attachments", async () => {
    await dashboard.waitForFunction(() => Number(document.getElementById("chart-bytes").dataset.samples) >= 3, null, { timeout: FEW_SECONDS });
    const [download] = await Promise.all([dashboard.waitForEvent("download"), dashboard.click("#charts-png")]);
    assert.match(download.suggestedFilename(), /^pushlab-charts-[\d-]+\.png$/);
    const png = await readFile(await download.path());
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "a PNG signature");
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    const canvases = await dashboard.$$eval(".chart-card .chart canvas", (list) => list.map((c) => ({ width: c.width, height: c.height })));
    assert.equal(canvases.length, 3);
    assert.ok(width > Math.max(...canvases.map((c) => c.width)), `${width} px wide holds every chart`);
    assert.ok(height > canvases.reduce((sum, c) => sum + c.height, 0), `${height} px high holds the three charts and their titles`);

    const links = await dashboard.$$eval(".downloads a", (anchors) => anchors.map((a) => a.getAttribute("href")));
    assert.deepEqual(links.sort(), [
      "/api/export/histograms.csv", "/api/export/histograms.json", "/api/export/stats.json",
      "/api/export/window.csv", "/api/export/window.json",
    ]);
    for (const link of links) {
      const response = await fetch(baseUrl + link);
      assert.equal(response.status, 200, link);
      assert.match(response.headers.get("content-disposition") ?? "", /^attachment/, link);
      await response.arrayBuffer();
    }
    assert.deepEqual(pageBugs(dashboardProblems), []);
  });

  test("logging out ends the session: the form again, no cookie, the API refuses", async () => {
    // Back to the login form, in the language the console was in.
    await Promise.all([consolePage.waitForURL(/\/admin\?lang=en$/), consolePage.click("#logout")]);
    await consolePage.waitForSelector("#login");
    assert.ok(!(await instructor.cookies()).some((cookie) => cookie.name === "pushlab_admin"));
    const status = await consolePage.evaluate(async () => (await fetch("/api/admin/settings", { credentials: "same-origin" })).status);
    assert.equal(status, 401);
    assert.deepEqual(pageBugs(consoleProblems), []);
    await consolePage.close();
    await dashboard.close();
  });
});
