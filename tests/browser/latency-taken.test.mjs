// latency-taken.test.mjs — a poll's latency ends when its answer is read, not when the page has
// finished looking at the answer's Resource Timing.
//
// The polling panels look for each answer's timing entry (to tell time queued in the browser),
// and a browser may report it some 100 ms after the body (Chromium at once; others later: the
// page looks for up to 200 ms). A latency read after that look counted the page's own wait.
// Here the page never finds the entry, as in the slowest browser: every poll latency the page
// reports must still be at most the time from the event's publication to its answer's body.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FEW_SECONDS, VIEWPORT, launchBrowser, standStill, startServer, stopServer } from "./harness.mjs";

let server;
let baseUrl;
let browser;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", "latency-taken"]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

/** Runs in the page before its scripts: hides /api/poll's timing entries, notes when answers are read. */
function hideTimingAndNoteAnswers() {
  const isPoll = (name) => new URL(name, location.href).pathname === "/api/poll";
  /** For every short-poll answer with events: its body's arrival minus each event's ts, µs. */
  window.answeredAfterUs = [];
  const json = Response.prototype.json;
  Response.prototype.json = async function () {
    const value = await json.call(this);
    if (isPoll(this.url) && value?.events?.length) {
      const atUs = (performance.timeOrigin + performance.now()) * 1000;
      window.answeredAfterUs.push(...value.events.map((event) => atUs - event.ts));
    }
    return value;
  };
  const byName = Performance.prototype.getEntriesByName;
  Performance.prototype.getEntriesByName = function (name, type) {
    return isPoll(name) ? [] : byName.call(this, name, type);
  };
  const Observer = window.PerformanceObserver;
  window.PerformanceObserver = class extends Observer {
    constructor(callback) {
      super((list, observer) => callback({ getEntries: () => list.getEntries().filter((e) => !isPoll(e.name)) }, observer));
    }
  };
}

test("a short poll's latency ends when its answer is read, however late the browser reports its timing", async () => {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.addInitScript(hideTimingAndNoteAnswers);
    const reported = [];
    page.on("request", (request) => {
      if (!request.url().endsWith("/api/client-metrics")) return;
      const report = JSON.parse(request.postData() ?? "{}");
      // On the page's clock: the offset it added taken back out (whatever its error).
      if (report.transport === "poll") reported.push(...report.latencies_us.map((us) => us - report.offset_us));
    });
    await page.goto(`${baseUrl}/?lang=en`);
    await page.waitForSelector('.panel[data-transport="poll"] .feed li[data-seq]', { timeout: FEW_SECONDS });
    // Reports leave every 2 s: wait for a few of them.
    const deadline = Date.now() + FEW_SECONDS;
    while (reported.length < 10 && Date.now() < deadline) await page.waitForTimeout(500);
    assert.ok(reported.length >= 10, `the poll panel reported latencies (${reported.length})`);
    const answered = await page.evaluate(() => window.answeredAfterUs);
    const longest = Math.max(...answered);
    // Both on the page's clock; between the body's arrival and the latency's reading, only the
    // promise's continuation (a latency is clamped at 0, hence the margin below too).
    const TOLERANCE_US = 5_000;
    assert.ok(Math.max(...reported) <= longest + TOLERANCE_US,
      `no reported latency beyond its answer's arrival: reported up to ${Math.max(...reported)} µs, answers read at most ${Math.round(longest)} µs after their events`);
  } finally {
    await context.close();
  }
});

test("a page that stood still (asleep, frozen, busy) times none of what waited in it meanwhile", async () => {
  const context = await browser.newContext({ viewport: VIEWPORT });
  try {
    const page = await context.newPage();
    await page.goto(`${baseUrl}/?lang=en`);
    for (const transport of ["ws", "sse"]) {
      await page.waitForSelector(`.panel[data-transport="${transport}"] .feed li[data-seq]`, { timeout: FEW_SECONDS });
    }
    // The page's scripts stop for 4 s (as a laptop's lid closed, or a frozen tab), visible all
    // along: the streams' events wait in the browser meanwhile.
    await standStill(context, page, 4000);
    // Ten more live events, and the page's reports sent (every 2 s).
    const newest = await page.$eval('.panel[data-transport="ws"] .feed li[data-seq]', (li) => Number(li.dataset.seq));
    await page.waitForFunction((seq) => Number(document.querySelector('.panel[data-transport="ws"] .feed li[data-seq]')?.dataset.seq) > seq + 10,
      newest, { timeout: FEW_SECONDS });
    let stats;
    for (let tries = 0; tries < 20; tries += 1) {
      stats = await (await fetch(`${baseUrl}/api/stats`)).json();
      if (stats.transports.ws.client_latency_us.count > 10 && stats.transports.sse.client_latency_us.count > 10) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    for (const transport of ["ws", "sse"]) {
      const latency = stats.transports[transport].client_latency_us;
      assert.ok(latency.count > 10, `${transport}: latencies reported after the stop (${latency.count})`);
      assert.ok(latency.p99 < 1_000_000, `${transport}: the class's p99 is ${latency.p99} µs: the page's stop was timed as the transport's`);
    }
  } finally {
    await context.close();
  }
});
