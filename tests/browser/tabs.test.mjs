// tabs.test.mjs — many tabs in ONE browser profile over plain http://, as an instructor and a
// student really open them: five dashboards, the console, the lab and the inspector.
//
// A browser keeps at most six HTTP/1.1 connections to one server, shared by all the tabs of a
// profile; a tab that keeps connections for good (an SSE stream, a held long poll) takes them from
// every other tab. Checked here: every page loads in under 2 s and `fetch('/api/time')` answers in
// under 1 s from every tab, sampled over most of a minute; every panel either follows the feed
// (its seq advances) or says on screen that another tab of this browser holds that transport, and
// why; closing the holding tab hands the transport to another tab, which resumes with nothing
// missed; and time a request spent queued in the browser is never counted as latency.
//
// Its own server and browser (one context = one profile, one pool of connections). Every wait is
// bounded and every failure is an assertion that names the tab and the figure, not a runner's
// timeout.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FEW_SECONDS, TRANSPORTS, VIEWPORT, launchBrowser, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

const TOKEN = `tabs-test-${Math.random().toString(36).slice(2, 10)}`;
/** The issue's bounds: a page loads in under 2 s, /api/time answers in under 1 s. */
const LOAD_BOUND_MS = 2000;
const TIME_BOUND_MS = 1000;
/** A page or a fetch still waiting after this is given up on (and fails its bound). */
const GIVE_UP_MS = 6000;
/** Sampling: this many rounds, this far apart (about 45 s in all). */
const ROUNDS = 9;
const ROUND_EVERY_MS = 5000;
/** A panel must have advanced within this many rounds (10 s: the classic page reloads every 3 s). */
const FLOW_WINDOW_ROUNDS = 2;
/** What a paused panel must say, in each language: another tab holds it, and the six connections. */
const EXPLANATION = {
  en: /another tab of this browser[\s\S]*6 HTTP\/1\.1 connections/,
  fr: /autre onglet de ce navigateur[\s\S]*6 connexions HTTP\/1\.1/,
};
/** The transports one tab per browser holds; the others run in every tab. */
const SHARED = ["longpoll", "sse"];

let server;
let baseUrl;
let browser;
let profile;
/** Every open tab: { name, path, kind, lang, page, problems, loads, loadMs }. */
const tabs = [];

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN]));
  browser = await launchBrowser();
  profile = await browser.newContext({ viewport: VIEWPORT });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

/** `promise`, or `fallback` once `ms` have passed (a tab whose page never loaded answers nothing). */
function within(ms, promise, fallback) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  return Promise.race([promise.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}

/**
 * Goes to `url` in `page`: the time from the navigation's start to its `load` event as the browser
 * measured it (PerformanceNavigationTiming), or null when it had not loaded after GIVE_UP_MS.
 */
async function loadTime(page, url) {
  try {
    await page.goto(url, { waitUntil: "load", timeout: GIVE_UP_MS });
    return await page.evaluate(() => Math.round(performance.getEntriesByType("navigation")[0].loadEventStart));
  } catch {
    return null; // still loading
  }
}

/**
 * Opens `path` in a new tab of the profile and times its load. A page the browser keeps waiting
 * for a connection waits every time; a machine shared with compilers may stall any page once:
 * so a load over the bound is tried once more (a reload), and both times are kept.
 */
async function openTab(name, path, kind, lang) {
  const page = await profile.newPage();
  const problems = [];
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  const loads = [await loadTime(page, baseUrl + path)];
  if (loads[0] == null || loads[0] >= LOAD_BOUND_MS) loads.push(await loadTime(page, baseUrl + path));
  const tab = { name, path, kind, lang, page, problems, loads, loadMs: loads.at(-1) };
  tabs.push(tab);
  return tab;
}

/** Times fetch('/api/time') from inside the tab: ms, or null when no answer came within GIVE_UP_MS. */
function timeFetch(tab) {
  return within(GIVE_UP_MS + 1000, tab.page.evaluate(async (giveUp) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), giveUp);
    const started = performance.now();
    try {
      const response = await fetch("/api/time", { cache: "no-store", signal: controller.signal });
      await response.json();
      return performance.now() - started;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }, GIVE_UP_MS), null);
}

/**
 * Each transport's view in a dashboard or lab tab: how far it got (events received), whether it
 * says another tab holds it, and what it says.
 */
function viewsOf(tab) {
  return within(GIVE_UP_MS, tab.page.evaluate(({ kind, transports }) => {
    const views = {};
    for (const transport of transports) {
      const view = kind === "dashboard"
        ? document.querySelector(`.panel[data-transport="${transport}"]`)
        : document.querySelector(`#figures-table tr[data-transport="${transport}"][data-who="you"]`);
      if (!view) {
        views[transport] = { progress: null, elsewhere: false, text: "" };
        continue;
      }
      // Events this page received over the transport (the classic page's rows are gone while it reloads).
      const delivered = kind === "dashboard"
        ? view.querySelector('tr[data-counter="delivered"] .mine')
        : view.querySelector("td:nth-of-type(3)");
      const progress = Number(delivered?.textContent.replace(/\D/g, "") || -1);
      views[transport] = {
        progress,
        elsewhere: view.dataset.lease === "elsewhere",
        text: view.querySelector(".held-elsewhere")?.textContent ?? "",
      };
    }
    return views;
  }, { kind: tab.kind, transports: TRANSPORTS }), null);
}

/** "573 ms", "1.17 s", "26 µs" (as formatMicros writes them) in seconds. */
function secondsIn(text) {
  const match = /([\d.,]+)\s*(µs|ms|s)$/.exec(text.trim());
  assert.ok(match, `a duration: ${text}`);
  const value = Number(match[1].replace(",", "."));
  return value / { µs: 1e6, ms: 1e3, s: 1 }[match[2]];
}

const followers = () => tabs.filter((tab) => tab.kind === "dashboard" || tab.kind === "lab");

describe("eight tabs in one browser profile", () => {
  test("every page loads in under 2 s, /api/time answers in under 1 s from every tab, every panel flows or says why not", async () => {
    // The instructor's session, as the login form would set it (the request does not use the tabs' connections).
    const login = await profile.request.post(`${baseUrl}/admin/login`, { form: { token: TOKEN, lang: "en" }, maxRedirects: 0 });
    assert.equal(login.status(), 303, "logged in");

    for (let i = 1; i <= 5; i++) {
      const lang = i === 5 ? "fr" : "en";
      await openTab(`dashboard ${i}`, `/?lang=${lang}`, "dashboard", lang);
    }
    await openTab("console", "/admin?lang=en", "console", "en");
    await openTab("lab", "/lab?lang=en", "lab", "en");
    await openTab("inspector", "/protocol?lang=en", "inspector", "en");

    const slowLoads = tabs
      .filter((tab) => tab.loadMs == null || tab.loadMs >= LOAD_BOUND_MS)
      .map((tab) => `${tab.name} (${tab.path}): ${tab.loads.map((ms) => (ms == null ? `not loaded after ${GIVE_UP_MS} ms` : `${ms} ms`)).join(", then ")}`);
    assert.deepEqual(slowLoads, [], `every page loads in under ${LOAD_BOUND_MS} ms`);
    assert.ok(await tabs.find((tab) => tab.kind === "console").page.locator("#console").count(), "the console is logged in");

    const history = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, ROUND_EVERY_MS));
      // As for loads: a sample over the bound is taken again at once, and both must miss to fail.
      const times = await Promise.all(tabs.map(async (tab) => {
        const first = await timeFetch(tab);
        return first != null && first < TIME_BOUND_MS ? first : timeFetch(tab);
      }));
      const slow = tabs
        .map((tab, i) => [tab, times[i]])
        .filter(([, ms]) => ms == null || ms >= TIME_BOUND_MS)
        .map(([tab, ms]) => `${tab.name}: ${ms == null ? `no answer after ${GIVE_UP_MS} ms` : `${Math.round(ms)} ms`}`);
      assert.deepEqual(slow, [], `round ${round + 1}: fetch('/api/time') answers in under ${TIME_BOUND_MS} ms from every tab`);

      history.push(await Promise.all(followers().map(viewsOf)));
      if (round < FLOW_WINDOW_ROUNDS) continue;
      const before = history[round - FLOW_WINDOW_ROUNDS];
      const now = history[round];
      const stuck = [];
      followers().forEach((tab, i) => {
        for (const transport of TRANSPORTS) {
          const was = before[i]?.[transport];
          const is = now[i]?.[transport];
          const flowing = is && was && is.progress > was.progress && !is.elsewhere;
          const explained = is?.elsewhere && EXPLANATION[tab.lang].test(is.text);
          if (!flowing && !explained) {
            stuck.push(`${tab.name} ${transport}: ${was?.progress} → ${is?.progress}, ${is?.elsewhere ? `paused without the explanation: "${is.text}"` : "not paused"}`);
          }
        }
      });
      assert.deepEqual(stuck, [], `round ${round + 1}: every panel advanced in the last ${FLOW_WINDOW_ROUNDS * ROUND_EVERY_MS / 1000} s or says why it is paused`);
      for (const transport of SHARED) {
        const holders = followers().filter((_, i) => !now[i][transport].elsewhere).map((tab) => tab.name);
        assert.equal(holders.length, 1, `round ${round + 1}: one tab of the browser holds ${transport} (${holders.join(", ") || "none"})`);
      }
    }

    // Honest figures: no wait in the browser's queue (seconds, then minutes, when the tabs hold
    // every connection) reached the class's percentiles. A short poll's own latency is up to its
    // interval (1 s) and a loaded CI machine adds some: 3 s is far below a stall.
    const stats = await (await fetch(`${baseUrl}/api/stats`)).json();
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      const p99 = stats.transports[transport].client_latency_us.p99;
      assert.ok(p99 < 3_000_000, `${transport}: client latency p99 ${p99} µs stays under 3 s`);
    }

    const holderOf = (transport) => followers().find((tab, i) => tab.kind === "dashboard" && !history.at(-1)[i][transport].elsewhere);
    const paused = followers().find((tab, i) => tab.kind === "dashboard" && tab.lang === "en" && history.at(-1)[i].sse.elsewhere);
    const french = followers().find((tab) => tab.lang === "fr");
    if (holderOf("sse")) await screenshot(holderOf("sse").page, "tabs-holder-en.png");
    if (paused) await screenshot(paused.page, "tabs-paused-en.png");
    await screenshot(french.page, "tabs-fr.png");
    await screenshot(tabs.find((tab) => tab.kind === "lab").page, "tabs-lab-en.png");
    for (const tab of tabs) assert.deepEqual(pageBugs(tab.problems), [], `${tab.name} has no page bug`);
  });
});

describe("handing a transport over", () => {
  test("closing the tab that holds SSE and the long poll hands them to another tab, which resumes with nothing missed", async () => {
    // A profile of its own: two dashboards and the lab.
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const open = async (name, path, kind) => {
        const page = await context.newPage();
        const problems = [];
        page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
        await within(GIVE_UP_MS, page.goto(baseUrl + path), null);
        return { name, kind, lang: "en", page, problems };
      };
      const first = await open("dashboard A", "/?lang=en", "dashboard");
      for (const transport of SHARED) {
        const held = await within(FEW_SECONDS, first.page.waitForSelector(`.panel[data-transport="${transport}"][data-lease="held"] .feed li[data-seq]`), null);
        assert.ok(held, `the first dashboard holds ${transport} and receives events`);
      }
      const others = [await open("dashboard B", "/?lang=en", "dashboard"), await open("lab", "/lab?lang=en", "lab")];
      for (const tab of others) {
        for (const transport of SHARED) {
          const paused = await within(FEW_SECONDS, tab.page.waitForSelector(`[data-transport="${transport}"][data-lease="elsewhere"]`), null);
          assert.ok(paused, `${tab.name} leaves ${transport} to the first dashboard`);
        }
      }

      await first.page.close();
      for (const transport of SHARED) {
        // Another tab takes it over within a few seconds, from the seq the closed tab saw last.
        const selector = `[data-transport="${transport}"][data-lease="held"][data-takeovers="1"][data-recovery-missed]`;
        const successor = await Promise.any(others.map(async (tab) => {
          await tab.page.waitForSelector(selector, { timeout: FEW_SECONDS });
          return tab;
        })).catch(() => null);
        assert.ok(successor, `another tab took ${transport} over within ${FEW_SECONDS} ms`);
        const taken = await successor.page.$eval(selector, (view) => ({ ...view.dataset }));
        assert.equal(taken.recoveryMissed, "0", `${successor.name} resumed ${transport} after seq ${taken.resumedAfter} with nothing missed`);
        assert.ok(Number(taken.resumedAfter) > 0, `${successor.name} resumed from the seq the closed tab saw (${taken.resumedAfter})`);
        const rest = others.filter((tab) => tab !== successor);
        for (const tab of rest) {
          assert.equal(await tab.page.getAttribute(`[data-transport="${transport}"][data-lease]`, "data-lease"), "elsewhere", `${tab.name} still leaves ${transport} to ${successor.name}`);
        }
        await screenshot(successor.page, `tabs-takeover-${transport}.png`);
      }
      for (const tab of others) assert.deepEqual(pageBugs(tab.problems), [], `${tab.name} has no page bug`);
    } finally {
      await context.close();
    }
  });
});

describe("choosing where a transport runs", () => {
  test("pausing the holding panel hands the transport over; 'Follow it in this tab' takes it back", async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const open = async () => {
        const page = await context.newPage();
        await page.goto(`${baseUrl}/?lang=en`);
        return page;
      };
      const a = await open();
      const sse = '.panel[data-transport="sse"]';
      await a.waitForSelector(`${sse}[data-lease="held"] .feed li[data-seq]`, { timeout: FEW_SECONDS });
      const b = await open();
      await b.waitForSelector(`${sse}[data-lease="elsewhere"] .held-elsewhere:not([hidden])`, { timeout: FEW_SECONDS });

      // Paused in A: B takes the stream over, after the seq A saw last.
      await a.click(`${sse} button.pause`);
      await a.waitForSelector(`${sse}[data-lease="none"] .state[data-state="paused"]`);
      await b.waitForSelector(`${sse}[data-lease="held"][data-takeovers="1"][data-recovery-missed="0"]`, { timeout: FEW_SECONDS });

      // Resumed in A: B keeps it, and A says so; a click in A brings it back, again with nothing missed.
      await a.click(`${sse} button.pause`);
      await a.waitForSelector(`${sse}[data-lease="elsewhere"] .state[data-state="elsewhere"]`, { timeout: FEW_SECONDS });
      await a.click(`${sse} .held-elsewhere button.follow-here`);
      await a.waitForSelector(`${sse}[data-lease="held"][data-takeovers="1"][data-recovery-missed="0"]`, { timeout: FEW_SECONDS });
      await b.waitForSelector(`${sse}[data-lease="elsewhere"]`, { timeout: FEW_SECONDS });
      const seq = async (page) => Number(await page.getAttribute(`${sse} .feed li[data-seq]`, "data-seq"));
      const before = await seq(a);
      await a.waitForFunction(([selector, seen]) => Number(document.querySelector(selector)?.dataset.seq) > seen,
        [`${sse} .feed li[data-seq]`, before], { timeout: FEW_SECONDS });
      await screenshot(b, "tabs-paused-elsewhere.png");
    } finally {
      await context.close();
    }
  });
});

describe("time queued in the browser", () => {
  test("is never counted as latency: answers whose request waited are shown, their latencies left out", async () => {
    // A server of its own: its latency figures hold only what this test's tabs report. On a busy
    // machine the eight tabs above can see the shared server answer a second or more late, a
    // real latency that would sit in that server's maximum and hide what is checked here.
    const { child: own, url: baseUrl } = await startServer(["--admin-token", TOKEN]);
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const dashboard = await context.newPage();
      const problems = [];
      dashboard.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
      await dashboard.goto(`${baseUrl}/?lang=en`);
      await dashboard.waitForSelector('.panel[data-transport="longpoll"][data-lease="held"] .feed li[data-seq]', { timeout: FEW_SECONDS });
      await dashboard.waitForSelector('.panel[data-transport="poll"] .feed li[data-seq]', { timeout: FEW_SECONDS });

      // Another tab of the browser takes every connection it can for 5 s, as six raw SSE streams would.
      const hog = await context.newPage();
      await hog.goto(`${baseUrl}/protocol?lang=en`);
      const HOLD_MS = 5000;
      await hog.evaluate((holdMs) => new Promise((resolve) => {
        const streams = Array.from({ length: 6 }, () => new EventSource("/api/sse"));
        setTimeout(() => {
          streams.forEach((stream) => stream.close());
          resolve();
        }, holdMs);
      }), HOLD_MS);

      // The polls that waited: their latencies reach neither the server nor the panel.
      await dashboard.waitForTimeout(2500); // the next latency report (every 2 s)
      const { transports } = await (await fetch(`${baseUrl}/api/stats`)).json();
      for (const transport of ["poll", "longpoll"]) {
        const { max } = transports[transport].client_latency_us;
        assert.ok(max < HOLD_MS * 1000 - 1_000_000, `${transport}: no reported latency includes the ${HOLD_MS} ms wait (max ${max} µs)`);
        const p95 = await dashboard.textContent(`.panel[data-transport="${transport}"] .p95`);
        assert.ok(secondsIn(p95) < (HOLD_MS - 1000) / 1000, `${transport}: the panel's p95 (${p95}) does not include the wait`);
      }
      // And the panels say so.
      for (const transport of ["poll", "longpoll"]) {
        const noted = await within(FEW_SECONDS, dashboard.waitForSelector(`.panel[data-transport="${transport}"][data-queued-answers]`), null);
        assert.ok(noted, `the ${transport} panel says an answer waited in the browser`);
        assert.match(await dashboard.textContent(`.panel[data-transport="${transport}"] .notice`), /kept a request waiting .* left out/);
      }
      await screenshot(dashboard, "tabs-queued.png");
      assert.deepEqual(pageBugs(problems), []);
    } finally {
      await context.close();
      await stopServer(own);
    }
  });
});
