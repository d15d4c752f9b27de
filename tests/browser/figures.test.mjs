// figures.test.mjs — figures a student can trust at a glance (issue 13, items 2 to 5), in headless
// Chromium against the real server: a reset every open page announces (and after which no page
// counts more than all clients), latencies no finer than the clock offset allows, a hidden tab
// that reports nothing, and a cost table that reads right.
//
// Its own server (known --admin-token) and browser; two visitors (two contexts), as two students.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FEW_SECONDS, VIEWPORT, adminApi, launchBrowser, numberIn, openPage, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

const TOKEN = `figures-test-${Math.random().toString(36).slice(2, 10)}`;
const COUNTERS = ["requests", "delivered", "empty"];

let server;
let baseUrl;
let browser;
let alice;
let bob;
/** Alice's dashboard (English), Bob's (French) and Bob's lab (French). */
let dashEn;
let dashFr;
let labFr;

const panel = (transport) => `.panel[data-transport="${transport}"]`;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN]));
  browser = await launchBrowser();
  alice = await browser.newContext({ viewport: VIEWPORT });
  bob = await browser.newContext({ viewport: VIEWPORT });
  dashEn = await openPage(alice, `${baseUrl}/?lang=en`);
  dashFr = await openPage(bob, `${baseUrl}/?lang=fr`);
  // Bob's dashboard holds his browser's SSE and long poll before his lab opens. Which tab of a
  // browser takes a lease is the first to ask for it, once its clock offset is measured (the
  // pages' top-level await), not the first opened: on a loaded machine the lab can ask first.
  for (const transport of ["sse", "longpoll"]) {
    await dashFr.page.waitForSelector(`${panel(transport)}[data-lease="held"]`, { timeout: FEW_SECONDS });
  }
  labFr = await openPage(bob, `${baseUrl}/lab?lang=fr`);
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

/** Every "this page" and "server, all clients" count of a dashboard, per transport. */
function dashboardCounts(page) {
  return page.evaluate((counters) => {
    const read = (cell) => Number((cell?.textContent ?? "").replace(/\D/g, "") || "NaN");
    const out = {};
    for (const panel of document.querySelectorAll(".panel[data-transport]")) {
      out[panel.dataset.transport] = Object.fromEntries(counters.map((counter) => {
        const row = panel.querySelector(`tr[data-counter="${counter}"]`);
        return [counter, { mine: read(row.querySelector(".mine")), server: read(row.querySelector(".server")) }];
      }));
    }
    return out;
  }, COUNTERS);
}

/** The lab's "you" and "class" rows, per transport, for the same counters. */
function labCounts(page) {
  return page.evaluate((counters) => {
    const read = (cell) => Number((cell?.textContent ?? "").replace(/\D/g, "") || "NaN");
    // The figure cells of a row, in the table's order: req/s, requests, events, empty, ...
    const index = { requests: 1, delivered: 2, empty: 3 };
    const out = {};
    for (const row of document.querySelectorAll('#figures-table tr[data-who="you"]')) {
      const mine = [...row.querySelectorAll("td")];
      const them = [...row.nextElementSibling.querySelectorAll("td")];
      out[row.dataset.transport] = Object.fromEntries(counters.map((counter) =>
        [counter, { mine: read(mine[index[counter]]), server: read(them[index[counter]]) }]));
    }
    return out;
  }, COUNTERS);
}

function assertNoPageAboveAll(counts, where) {
  for (const [transport, figures] of Object.entries(counts)) {
    for (const [counter, { mine, server: all }] of Object.entries(figures)) {
      if (Number.isNaN(mine) || Number.isNaN(all)) continue; // "–": not counted on this page
      assert.ok(mine <= all, `${where}: ${transport} ${counter}: this page ${mine} > all clients ${all}`);
    }
  }
}

describe("a reset everyone can see", () => {
  test("every open page announces it, says since when totals count, and no page counts more than all clients", async () => {
    // Traffic first: both dashboards have polled a few times.
    for (const { page } of [dashEn, dashFr]) {
      await page.waitForFunction(
        (selector) => Number(document.querySelector(selector)?.textContent.replace(/\D/g, "")) >= 3,
        `${panel("poll")} tr[data-counter="requests"] .server`,
        { timeout: FEW_SECONDS },
      );
    }
    await labFr.page.waitForSelector("#stats-period .period-since:not(:empty)", { timeout: FEW_SECONDS });
    assert.match(await dashEn.page.locator("#stats-period .period-since").textContent(), /since \d{1,2}:\d{2}:\d{2}/);
    assert.match(await dashFr.page.locator("#stats-period .period-since").textContent(), /depuis \d{2}:\d{2}:\d{2}/);

    const reset = await adminApi(baseUrl, TOKEN, "POST", "/api/admin/reset");
    assert.equal(reset.status, 200);
    for (const [{ page }, words] of [[dashEn, /reset the stats at/], [dashFr, /remis les statistiques à zéro/], [labFr, /remis les statistiques à zéro/]]) {
      await page.waitForSelector('#stats-period[data-last-change="reset"]', { timeout: FEW_SECONDS });
      assert.match(await page.locator("#stats-period .period-news").textContent(), words);
    }

    // Totals grow again; at every update, each page counts at most what all clients did.
    for (let update = 0; update < 4; update++) {
      for (const { page } of [dashEn, dashFr]) {
        const before = (await dashboardCounts(page)).poll.requests.server;
        await page.waitForFunction(
          ([selector, was]) => Number(document.querySelector(selector)?.textContent.replace(/\D/g, "")) > was,
          [`${panel("poll")} tr[data-counter="requests"] .server`, before],
          { timeout: FEW_SECONDS },
        );
      }
      assertNoPageAboveAll(await dashboardCounts(dashEn.page), "English dashboard");
      assertNoPageAboveAll(await dashboardCounts(dashFr.page), "French dashboard");
      assertNoPageAboveAll(await labCounts(labFr.page), "French lab");
    }
    const header = await dashEn.page.locator(`${panel("poll")} .counters thead`).textContent();
    assert.match(header, /this page\s*since \d{1,2}:\d{2}:\d{2}/);
    assert.match(header, /server, all clients\s*since \d{1,2}:\d{2}:\d{2}/);
    await screenshot(dashFr.page, "figures-reset-fr.png");
  });
});

describe("a classic reload in flight across a reset", () => {
  for (const heardFirst of [true, false]) test(`is counted in the period that ended, as the server counted it (${heardFirst ? "answer after" : "answer before"} the page heard of the reset)`, async () => {
    // Dave's dashboard on a server of its own (his page is its only client, so "this page"
    // equals "all clients" once no load is under way). One of his classic reloads reaches the
    // server (counted, events delivered) just before the instructor resets, and its answer
    // reaches the page after the page heard of the reset, or before (the news comes with the
    // next stats record, up to a second later).
    const token = `${TOKEN}-dave`;
    const { child, url } = await startServer(["--admin-token", token]);
    const dave = await browser.newContext({ viewport: VIEWPORT });
    try {
      let fetched;
      const atServer = new Promise((resolve) => (fetched = resolve));
      let release;
      const released = new Promise((resolve) => (release = resolve));
      let held = false;
      await dave.route(/\/classic\?.*seen=/, async (route) => {
        if (held) return route.continue();
        held = true;
        const response = await route.fetch();
        fetched();
        await released;
        await route.fulfill({ response });
      });
      const { page } = await openPage(dave, `${url}/?lang=en`);
      await atServer;
      assert.equal((await adminApi(url, token, "POST", "/api/admin/reset")).status, 200);
      if (heardFirst) await page.waitForSelector('#stats-period[data-last-change="reset"]', { timeout: FEW_SECONDS });
      release();
      await page.waitForSelector('#stats-period[data-last-change="reset"]', { timeout: FEW_SECONDS });
      // Two more reloads after it, and the totals that count them: the page is never above.
      for (let update = 0; update < 3; update++) {
        const before = (await dashboardCounts(page)).classic.requests.server;
        await page.waitForFunction(
          ([selector, was]) => Number(document.querySelector(selector)?.textContent.replace(/\D/g, "")) > was,
          [`${panel("classic")} tr[data-counter="requests"] .server`, before],
          { timeout: FEW_SECONDS },
        );
        const counts = await dashboardCounts(page);
        assertNoPageAboveAll({ classic: counts.classic }, `after ${update + 1} totals`);
      }
    } finally {
      await dave.close();
      await stopServer(child);
    }
  });
});

describe("statistics that arrive late", () => {
  test("a page whose stats come 400 ms late still never counts more than all clients", async () => {
    // Carol's browser holds every stats record back 400 ms, as a loaded network or server would:
    // the page must read its own counts as they stood when the server read its totals (`at`),
    // not when the record arrived, nor count a request before the server could.
    const carol = await browser.newContext({ viewport: VIEWPORT });
    await carol.addInitScript(() => {
      const Native = window.WebSocket;
      window.WebSocket = class extends Native {
        constructor(url, protocols) {
          super(url, protocols);
          if (!String(url).includes("/api/stats/ws")) return;
          const hold = (listener) => (event) => setTimeout(() => listener.call(this, event), 400);
          const add = this.addEventListener.bind(this);
          this.addEventListener = (type, listener, options) => add(type, type === "message" ? hold(listener) : listener, options);
          let onmessage = null;
          Object.defineProperty(this, "onmessage", {
            get: () => onmessage,
            set: (listener) => {
              onmessage = listener;
              add("message", hold((event) => onmessage?.(event)));
            },
          });
        }
      };
    });
    // Her own server, where she is the only client: all clients are her page.
    const own = await startServer();
    try {
      const { page, problems } = await openPage(carol, `${own.url}/?lang=en`);
      await page.waitForFunction(
        (selector) => /\d/.test(document.querySelector(selector)?.textContent ?? ""),
        `${panel("poll")} tr[data-counter="requests"] .server`,
        { timeout: FEW_SECONDS },
      );
      // Short polls every 100 ms (once the server's first suggestion is in: the student's own
      // choice holds after it): four of them fit in the 400 ms a record is held back.
      await page.fill("#poll-interval", "100");
      await page.dispatchEvent("#poll-interval", "change");
      for (let update = 0; update < 6; update++) {
        const before = (await dashboardCounts(page)).poll.requests.server;
        await page.waitForFunction(
          ([selector, was]) => Number(document.querySelector(selector)?.textContent.replace(/\D/g, "")) > was,
          [`${panel("poll")} tr[data-counter="requests"] .server`, before],
          { timeout: FEW_SECONDS },
        );
        assertNoPageAboveAll(await dashboardCounts(page), `late stats, update ${update}`);
      }
      // The page did poll faster than the records come: its counts did move.
      const last = await dashboardCounts(page);
      assert.ok(last.poll.requests.mine >= 10, JSON.stringify(last.poll));
      assert.deepEqual(pageBugs(problems), []);
    } finally {
      await carol.close();
      await stopServer(own.child);
    }
  });
});

describe("no figure finer than its measurement", () => {
  test("latencies are never 0,00 ms nor µs, and the page says how the offset was measured", async () => {
    const { page } = dashEn;
    await page.waitForFunction((selector) => document.querySelectorAll(selector).length >= 5, `${panel("ws")} .feed .lat:not(.caught-up)`, { timeout: FEW_SECONDS });
    const offset = await page.locator("#clock-offset").textContent();
    assert.match(offset, /from \d+ round trips to \/api\/time: the best took [\d.,]+ ms, so latencies are known to ± [\d.,]+ ms/);
    const half = Number(/± ([\d.]+) ms/.exec(offset)[1]);
    // This page's own figures resolve what its offset resolves; the class's figures (cost
    // table, the lab's "classe") what the finest report of the class resolves (the server's
    // client_resolution_us: each report's latencies are recorded as at least its own ±).
    const mine = [
      ...(await page.locator(".panel .feed .lat:not(.caught-up)").allTextContents()),
      ...(await page.locator(".panel .latency strong").allTextContents()),
    ];
    const classes = [
      ...(await page.locator('#cost-table td[data-column="client_p50"]').allTextContents()),
      ...(await labFr.page.locator('#figures-table tr[data-who="class"] td:last-child').allTextContents()),
    ];
    // The lab's "vous" rows resolve what the lab page's own offset resolves.
    const labOffset = await labFr.page.locator("#clock-offset").textContent();
    const labHalf = Number(/± ([\d,.]+)\s?ms/u.exec(labOffset)[1].replace(",", "."));
    const labMine = await labFr.page.locator('#figures-table tr[data-who="you"] td:last-child').allTextContents();
    const { transports } = await (await fetch(`${baseUrl}/api/stats`)).json();
    const classHalf = Math.min(...Object.values(transports).map((t) => t.client_resolution_us).filter((us) => us > 0)) / 1000;
    assert.ok(mine.length + classes.length > 10, [...mine, ...classes].join(" | "));
    for (const [texts, bound] of [[mine, half], [labMine, labHalf], [classes, Number.isFinite(classHalf) ? classHalf : 0]]) {
      for (const text of texts) {
        assert.doesNotMatch(text, /µs|^0[.,]00 ms$/, `a latency written finer than it was measured: ${text}`);
        const plain = /^([\d.,]+) ms$/.exec(text);
        // Above the resolution, a value is at least the resolution (below it, "< …").
        if (plain) assert.ok(Number(plain[1].replace(",", ".")) >= bound - 0.05 || bound === 0, `${text} below ± ${bound} ms`);
      }
    }
    assert.match(await labFr.page.locator("#clock-offset").textContent(), /allers-retours vers \/api\/time/);
  });
});

describe("a hidden tab", () => {
  test("reports no latency while hidden, and says so on its return", async () => {
    const { page } = dashEn;
    const reports = [];
    const onRequest = (request) => {
      if (request.method() === "POST" && request.url().endsWith("/api/client-metrics")) {
        reports.push({ at: Date.now(), body: JSON.parse(request.postData() ?? "{}") });
      }
    };
    page.on("request", onRequest);
    try {
      // A report comes while visible, and it says its round trip.
      await waitFor(() => reports.some((r) => r.body.transport === "ws"), "a report while visible");
      assert.ok(reports.find((r) => r.body.transport === "ws").body.rtt_us > 0, "reports give rtt_us");

      await setVisibility(page, "hidden");
      const hiddenAt = Date.now();
      const seqBefore = await topSeq(page, "ws");
      // Well past a report's period (2 s) while events keep coming (5/s).
      await page.waitForFunction(
        ([selector, before]) => Number(document.querySelector(selector)?.dataset.seq) >= before + 15,
        [`${panel("ws")} .feed li[data-seq]`, seqBefore],
        { timeout: FEW_SECONDS },
      );
      // A report already on its way when the page was hidden may still be seen just after.
      const whileHidden = reports.filter((r) => r.at > hiddenAt + 300);
      assert.deepEqual(whileHidden.map((r) => r.body.transport), [], "no latency reported while hidden");

      await setVisibility(page, "visible");
      await page.waitForFunction((selector) => Number(document.querySelector(selector)?.dataset.hiddenLeftOut) > 0, panel("ws"), { timeout: FEW_SECONDS });
      assert.match(await page.locator(`${panel("ws")} .notice`).textContent(), /Tab hidden \d+ s: its measures were left out/);
      const shownAt = Date.now();
      await waitFor(() => reports.some((r) => r.at > shownAt && r.body.transport === "ws"), "reports again once visible");
    } finally {
      page.off("request", onRequest);
    }
  });
});

describe("a hidden tab whose poll brings the catch-up after its return", () => {
  test("counts in its notice every event published while hidden, also those arriving after the return", async () => {
    // A hidden tab's throttled poll brings what was published while hidden only after the tab
    // is shown again: those events are not timed either, and the notice must count them.
    const { page } = dashEn;
    const feed = `${panel("poll")} .feed`;
    const lastSeq = async () => (await (await fetch(`${baseUrl}/healthz`)).json()).last_seq;
    // One answer every 2.5 s (5 events/s): an answer brings a dozen events, fewer than the feed's 20.
    await page.fill("#poll-interval", "2500");
    await page.dispatchEvent("#poll-interval", "change");
    try {
      const seqBefore = await topSeq(page, "poll");
      await setVisibility(page, "hidden");
      // Hidden until an answer came, then shown while events published since wait for the next one.
      await page.waitForFunction(([selector, before]) => Number(document.querySelector(selector)?.dataset.seq) > before,
        [`${feed} li[data-seq]`, seqBefore], { timeout: FEW_SECONDS });
      const shownOnPage = await topSeq(page, "poll");
      await waitForAsync(async () => (await lastSeq()) >= shownOnPage + 2, "two events published since the hidden tab's last answer");
      await setVisibility(page, "visible");
      const publishedHidden = await lastSeq();
      assert.equal(await topSeq(page, "poll"), shownOnPage, "the next answer came before the return: the test's timing failed");
      await page.waitForFunction(([selector, seq]) => Number(document.querySelector(selector)?.dataset.seq) >= seq,
        [`${feed} li[data-seq]`, publishedHidden], { timeout: FEW_SECONDS });
      const untimed = await page.$$eval(`${feed} li[data-seq]`, (items, before) =>
        items.filter((li) => Number(li.dataset.seq) > before && li.querySelector(".lat.caught-up")).map((li) => Number(li.dataset.seq)), seqBefore);
      const arrivedLate = untimed.filter((seq) => seq > shownOnPage);
      assert.ok(arrivedLate.length >= 2, `events of the hidden spell that arrived after the return: ${arrivedLate}`);
      const leftOut = Number(await page.getAttribute(panel("poll"), "data-hidden-left-out"));
      assert.equal(leftOut, untimed.length, `the notice's count against the untimed events shown: ${untimed}`);
      assert.match(await page.locator(`${panel("poll")} .notice`).textContent(), new RegExp(`left out \\(${leftOut} events shown but not timed`));
    } finally {
      await setVisibility(page, "visible");
      await page.fill("#poll-interval", "1000");
      await page.dispatchEvent("#poll-interval", "change");
    }
  });
});

describe("a panel paused, then resumed", () => {
  test("shows what was published during the pause untimed, and its poll tells the server so", async () => {
    // The instructor's walk: after a 20 s pause, the live latency p50 read 2.1 s (WebSocket)
    // and the server's poll hand-off p50 4.96 s, the pause's wait counted as the transport's.
    // The long poll and the classic page too: the long poll gets its loop back through this
    // browser's lease, the classic page reloads (both timed the pause before).
    const PAUSED = ["ws", "poll", "longpoll", "classic"];
    const { page } = dashEn;
    const lastSeq = async () => (await (await fetch(`${baseUrl}/healthz`)).json()).last_seq;
    const catchUpOf = async (transport) => (await (await fetch(`${baseUrl}/api/stats`)).json()).transports[transport].catch_up;
    const pollCatchUp = () => catchUpOf("poll");
    const polls = [];
    const classicLoads = [];
    const onRequest = (request) => {
      if (request.url().includes("/api/poll?")) polls.push({ at: Date.now(), url: request.url() });
      if (request.url().includes("/classic?")) classicLoads.push({ at: Date.now(), url: request.url() });
    };
    page.on("request", onRequest);
    try {
      const catchUpBefore = await pollCatchUp();
      const classicCatchUpBefore = await catchUpOf("classic");
      for (const transport of PAUSED) await page.click(`${panel(transport)} button.pause`);
      const pausedAt = await lastSeq();
      await waitForAsync(async () => (await lastSeq()) >= pausedAt + 6, "events published during the pause");
      const resumedAt = Date.now();
      const publishedPaused = await lastSeq();
      for (const transport of PAUSED) await page.click(`${panel(transport)} button.pause`);
      // The classic panel has no list of events: its reload after the pause says catch_up=1,
      // and the server counts what it brings as catch-up.
      for (const transport of PAUSED.filter((t) => t !== "classic")) {
        await page.waitForFunction(([selector, seq]) => Number(document.querySelector(selector)?.dataset.seq) >= seq,
          [`${panel(transport)} .feed li[data-seq]`, publishedPaused], { timeout: FEW_SECONDS })
          .catch((error) => assert.fail(`${transport}: the pause's events never shown (${error.message})`));
        const timed = await page.$$eval(`${panel(transport)} .feed li[data-seq]`, (items, [from, to]) =>
          items.filter((li) => Number(li.dataset.seq) > from + 1 && Number(li.dataset.seq) < to && !li.querySelector(".lat.caught-up"))
            .map((li) => Number(li.dataset.seq)), [pausedAt, publishedPaused]);
        assert.deepEqual(timed, [], `${transport}: events of the pause timed as live`);
      }
      const first = polls.find((p) => p.at >= resumedAt);
      assert.match(first?.url ?? "", /[?&]catch_up=1(&|$)/, "the first poll after the pause says the panel was away");
      const next = polls.filter((p) => p.at >= resumedAt)[1];
      if (next) assert.doesNotMatch(next.url, /catch_up/, "only the first one");
      await waitForAsync(async () => (await pollCatchUp()) >= catchUpBefore + (publishedPaused - pausedAt - 1),
        "the server counts the pause's events as the poll's catch-up");
      await waitForAsync(async () => classicLoads.some((l) => l.at >= resumedAt), "the classic reload after the pause");
      assert.match(classicLoads.find((l) => l.at >= resumedAt).url, /[?&]catch_up=1(&|$)/, "the classic reload says the panel was away");
      await waitForAsync(async () => (await catchUpOf("classic")) >= classicCatchUpBefore + (publishedPaused - pausedAt - 1),
        "the server counts the pause's events as the classic page's catch-up");
    } finally {
      page.off("request", onRequest);
      for (const transport of PAUSED) {
        if ((await page.getAttribute(`${panel(transport)} button.pause`, "aria-pressed")) === "true") {
          await page.click(`${panel(transport)} button.pause`);
        }
      }
    }
  });
});

describe("a French page counting down", () => {
  test("writes its reconnection delay with a decimal comma", async () => {
    // It read "reconnexion dans 1.1 s" where the rest of the French page writes 1,1.
    const { page } = dashFr;
    const seen = page.waitForFunction((selector) => {
      const text = document.querySelector(selector)?.textContent ?? "";
      return /reconnexion dans/.test(text) ? text : null;
    }, `${panel("sse")} .state`, { timeout: FEW_SECONDS });
    const dropped = await adminApi(baseUrl, TOKEN, "POST", "/api/admin/fault", { kind: "drop", transport: "sse" });
    assert.equal(dropped.status, 200);
    assert.match(await (await seen).jsonValue(), /^reconnexion dans \d+,\d s$/);
    await page.waitForSelector(`${panel("sse")} .state:not([data-state="reconnecting"])`, { timeout: FEW_SECONDS });
  });
});

describe("a hidden tab that did not hold a transport", () => {
  test("says another tab held it, not that it left 0 events out", async () => {
    // Bob's dashboard holds his browser's SSE and long poll (one tab per browser); his lab follows
    // the WebSocket itself.
    const { page } = labFr;
    const row = (transport) => `#figures-table tr[data-transport="${transport}"][data-who="you"]`;
    for (const transport of ["sse", "longpoll"]) {
      await page.waitForSelector(`${row(transport)}[data-lease="elsewhere"]`, { timeout: FEW_SECONDS });
    }
    await setVisibility(page, "hidden");
    const delivered = async () => numberIn(await page.locator(`${row("ws")} td:nth-of-type(3)`).textContent());
    const before = await delivered();
    // (What "you" shows lags by up to a stats period: a dozen more are past the hiding.)
    await waitForAsync(async () => (await delivered()) >= before + 12, "a dozen WebSocket events while hidden");
    await setVisibility(page, "visible");
    await page.waitForSelector(`${row("ws")}[data-hidden-notice]`, { timeout: FEW_SECONDS });
    assert.equal(await page.getAttribute(row("ws"), "data-hidden-notice"), "notice.hidden");
    assert.ok(Number(await page.getAttribute(row("ws"), "data-hidden-left-out")) >= 3);
    for (const transport of ["sse", "longpoll"]) {
      assert.equal(await page.getAttribute(row(transport), "data-hidden-notice"), "notice.hidden_elsewhere", transport);
      assert.match(await page.locator(`${row(transport)} .problem`).textContent(), /un autre onglet de ce navigateur tenait ce transport/);
    }
  });
});

describe("the cost table and the lists read right", () => {
  test("push transports ask once per connection, events per answer explain the bytes, and every table and list is labelled", async () => {
    const { page } = dashEn;
    await page.waitForFunction(() => /\d/.test(document.querySelector('#cost-table tr[data-transport="poll"] td[data-column="events_per_answer"]')?.textContent), null, { timeout: FEW_SECONDS });
    for (const transport of ["sse", "ws"]) {
      const cell = (column) => page.locator(`#cost-table tr[data-transport="${transport}"] td[data-column="${column}"]`).textContent();
      assert.equal(await cell("requests_per_event"), "1 per connection");
      assert.match(await cell("events_per_answer"), /^1 per (message|frame)$/);
    }
    await dashFr.page.waitForFunction(() => document.querySelector('#cost-table tr[data-transport="ws"] td[data-column="requests_per_event"]')?.textContent !== "–", null, { timeout: FEW_SECONDS });
    assert.equal(await dashFr.page.locator('#cost-table tr[data-transport="ws"] td[data-column="requests_per_event"]').textContent(), "1 par connexion");
    const perAnswer = numberIn(await page.locator('#cost-table tr[data-transport="poll"] td[data-column="events_per_answer"]').textContent());
    assert.ok(perAnswer > 0, "short polling's events per answer");
    // The explanation gives today's figures, not a fixed rate (the server runs at 5 events/s).
    assert.match(await page.locator(".cost-why").textContent(), /in one answer \(now 5 events\/s and one poll every [\d.,]+ (ms|s): about [\d.,]+ per answer\)/);
    // Delays and latencies say they are live; a resume from an old since shows as catch-up.
    assert.match(await page.locator("#cost-table thead").textContent(), /live hand-off p50.*live latency p50/);
    assert.match(await dashFr.page.locator("#cost-table thead").textContent(), /rattrapage.*remise p50 en direct/);
    const resumed = await (await fetch(`${baseUrl}/api/poll?since=0`)).json();
    assert.ok(resumed.events.length > 0);
    await page.waitForFunction(() => /^[1-9]/.test(document.querySelector('#cost-table tr[data-transport="poll"] td[data-column="catch_up"]')?.textContent ?? ""), null, { timeout: FEW_SECONDS });

    // Every header cell of every table says what its column holds.
    for (const { page: p } of [dashEn, dashFr, labFr]) {
      const empty = await p.evaluate(() => [...document.querySelectorAll("table thead th")].filter((th) => th.textContent.trim() === "").map((th) => th.closest("table").className));
      assert.deepEqual(empty, [], "header cells without a name");
    }
    // The feed's two numbers are named where they are seen.
    const head = await page.locator(`${panel("ws")} .feed-head`);
    assert.ok(await head.isVisible());
    assert.match(await head.textContent(), /latency.*age/);
    assert.match(await dashFr.page.locator(`${panel("ws")} .feed-head`).textContent(), /latence.*âge/);
    await screenshot(page, "figures-cost-en.png");
  });

  test("the pages kept their consoles clean", () => {
    for (const { problems } of [dashEn, dashFr, labFr]) assert.deepEqual(pageBugs(problems), []);
  });
});

/** The newest seq in a panel's feed. */
async function topSeq(page, transport) {
  return Number(await page.locator(`${panel(transport)} .feed li[data-seq]`).first().getAttribute("data-seq"));
}

/**
 * Makes the page hidden or visible as a browser does for a background tab (WHATWG HTML "Page
 * visibility"): document.visibilityState changes and visibilitychange fires.
 */
async function setVisibility(page, state) {
  await page.evaluate((value) => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => value });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => value === "hidden" });
    document.dispatchEvent(new Event("visibilitychange"));
  }, state);
}

/** Waits (bounded: FEW_SECONDS) for the async `check` to hold, looking every 100 ms. */
async function waitForAsync(check, what) {
  const deadline = Date.now() + FEW_SECONDS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`waited in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits (bounded: FEW_SECONDS) for `check` to hold, looking every 100 ms. */
async function waitFor(check, what) {
  const deadline = Date.now() + FEW_SECONDS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`waited in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
