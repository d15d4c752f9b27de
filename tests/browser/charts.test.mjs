// charts.test.mjs — the dashboard's live charts in headless Chromium: labels in the page's
// language (French clock times, decimal comma, o / ko), and a requests axis that follows the
// class after a reset (lab experiment (d): rate 0, short polling's one request a second drawn
// well above the axis, not flat under the old maximum).
//
// uPlot draws on a canvas; the chart keeps what it drew on its container for tests and curious
// readers: data-x-labels, data-y-labels (the tick labels), data-y-max (the top of the y axis),
// data-latest (each series' newest value). Its own server (known --admin-token) and browser.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { VIEWPORT, adminApi, launchBrowser, openPage, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

const TOKEN = `charts-test-${Math.random().toString(36).slice(2, 10)}`;
/** Long enough for a few one-second samples on a loaded machine. */
const SAMPLES_WITHIN_MS = 30_000;

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

const chart = (page, id) => page.$eval(`#chart-${id}`, (element) => ({ ...element.dataset }));

async function dashboard(lang) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const { page, problems } = await openPage(context, `${baseUrl}/?lang=${lang}`);
  await page.waitForFunction(() => Number(document.getElementById("chart-bytes")?.dataset.samples ?? 0) >= 3
    && /\S/.test(document.getElementById("chart-bytes").dataset.yLabels ?? ""), null, { timeout: SAMPLES_WITHIN_MS });
  return { context, page, problems };
}

test("French charts: French clock times, decimal comma, bytes in o / ko; English ones in B / kB", async () => {
  for (const lang of ["fr", "en"]) {
    const { context, page, problems } = await dashboard(lang);
    const requests = await chart(page, "requests");
    const bytes = await chart(page, "bytes");
    const latency = await chart(page, "latency");
    for (const [name, data] of [["requests", requests], ["bytes", bytes], ["latency", latency]]) {
      const times = data.xLabels.split(" | ");
      assert.ok(times.length >= 1, `${lang} ${name}: time ticks`);
      for (const label of times) assert.match(label, /^\d\d:\d\d:\d\d(\n.+)?$/, `${lang} ${name}: a 24-hour clock time, not ${JSON.stringify(label)}`);
      assert.doesNotMatch(data.xLabels, /am|pm|\//i, `${lang} ${name}: no US date`);
      assert.equal(new Set(times).size, times.length, `${lang} ${name}: no time written twice (${data.xLabels})`);
    }
    // The day, on the first tick, in the page's language.
    const day = requests.xLabels.split(" | ")[0].split("\n")[1];
    const days = [0, 1].map((back) => new Date(Date.now() - back * 86_400_000)
      .toLocaleDateString(lang === "fr" ? "fr-FR" : "en-GB", { day: "numeric", month: "short" }));
    assert.ok(days.includes(day), `${lang}: the first tick gives the day as ${days[0]}, not ${JSON.stringify(day)}`);
    const units = bytes.yLabels.split(" | ").map((label) => label.split(" ").at(-1));
    assert.ok(units.length > 0);
    for (const unit of units) assert.ok((lang === "fr" ? ["o", "ko", "Mo"] : ["B", "kB", "MB"]).includes(unit), `${lang}: byte unit ${unit} (${bytes.yLabels})`);
    const decimals = new Set(requests.yLabels.split(" | ").map((label) => label.split(lang === "fr" ? "," : ".")[1]?.length ?? 0));
    assert.equal(decimals.size, 1, `${lang}: one number format on the requests axis (${requests.yLabels})`);
    if (lang === "fr") assert.doesNotMatch(requests.yLabels, /\d\.\d/, "no decimal point in French");
    await screenshot(page, `charts-${lang}.png`);
    assert.deepEqual(pageBugs(problems), []);
    await context.close();
  }
});

test("after lab experiment (d) (rate 0, statistics zeroed) the requests axis rescales to short polling's one request a second", async () => {
  const { context, page, problems } = await dashboard("en");
  assert.equal((await adminApi(baseUrl, TOKEN, "PUT", "/api/admin/settings", { rate_hz: 50, paused: false })).status, 200);
  // Long polling makes a request per answer: tens a second at 50 events/s.
  await page.waitForFunction(() => Number(document.getElementById("chart-requests").dataset.yMax) > 10, null, { timeout: SAMPLES_WITHIN_MS });
  const before = await chart(page, "requests");
  // Experiment (d), as its Apply button does it.
  assert.equal((await adminApi(baseUrl, TOKEN, "PUT", "/api/admin/settings", { rate_hz: 0 })).status, 200);
  assert.equal((await adminApi(baseUrl, TOKEN, "POST", "/api/admin/reset")).status, 200);
  await page.waitForFunction(() => {
    const data = document.getElementById("chart-requests").dataset;
    return Number(data.samples) >= 3 && Number(data.yMax) <= 3 && JSON.parse(data.latest ?? "{}").poll >= 0.5;
  }, null, { timeout: SAMPLES_WITHIN_MS }).catch(async () => {
    const after = await chart(page, "requests");
    assert.fail(`the requests axis still tops at ${after.yMax} (was ${before.yMax}); newest values ${after.latest}`);
  });
  const after = await chart(page, "requests");
  const poll = JSON.parse(after.latest).poll;
  assert.ok(poll / Number(after.yMax) >= 0.25, `one request a second (${poll}) is drawn well above the axis (top ${after.yMax})`);
  await screenshot(page, "charts-rate-0-after-reset.png");
  assert.deepEqual(pageBugs(problems), []);
  await context.close();
});
