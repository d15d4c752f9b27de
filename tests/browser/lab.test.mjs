// lab.test.mjs — the guided experiments (/lab) in headless Chromium: eight experiments in English
// and in French, the student's own figures beside the class's, Apply buttons for the instructor
// only, and an Apply that really changes the server (and that every lab page then shows).
//
// Its own server (known --admin-token) and browser; a student and the instructor are two
// separate browser contexts (separate cookies), as two people in the room would be.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  FEW_SECONDS, TRANSPORTS, VIEWPORT, adminApi, launchBrowser, logIn, numberIn, openPage, pageBugs, screenshot, startServer, stopServer,
} from "./harness.mjs";

const TOKEN = `lab-test-${Math.random().toString(36).slice(2, 10)}`;
const LETTERS = ["a", "b", "c", "d", "e", "f", "g", "h"];

let server;
let baseUrl;
let browser;
let student;
let instructor;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN]));
  browser = await launchBrowser();
  student = await browser.newContext({ viewport: VIEWPORT });
  instructor = await browser.newContext({ viewport: VIEWPORT });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

const settingsNow = async () => (await adminApi(baseUrl, TOKEN, "GET", "/api/admin/settings")).body;
const row = (transport, who) => `#figures-table tr[data-transport="${transport}"][data-who="${who}"]`;
const cell = (transport, who, column) => `${row(transport, who)} td:nth-of-type(${column})`;

/** The eight experiments' titles and the labels of their four parts, as the page shows them. */
async function experimentsOf(page) {
  return page.$$eval("article[data-experiment]", (articles) => articles.map((article) => ({
    id: article.dataset.experiment,
    title: article.querySelector("h2").textContent,
    parts: [...article.querySelectorAll("dt")].map((dt) => dt.textContent),
    filled: [...article.querySelectorAll("dd")].every((dd) => dd.textContent.trim().length > 20),
    calls: [...article.querySelectorAll("pre.calls")].map((pre) => pre.textContent),
  })));
}

describe("a student", () => {
  test("in English: eight experiments, each with goal, setting, observation and question; no Apply button", async () => {
    const { page, problems } = await openPage(student, `${baseUrl}/lab?lang=en`);
    const experiments = await experimentsOf(page);
    assert.deepEqual(experiments.map((e) => e.id), LETTERS);
    for (const experiment of experiments) {
      assert.match(experiment.title, new RegExp(`^\\(${experiment.id}\\) `));
      assert.deepEqual(experiment.parts, ["Goal", "Setting", "What to observe", "For your report"], experiment.id);
      assert.ok(experiment.filled, `every part of (${experiment.id}) says something`);
    }
    // The exact values, as the admin API takes them.
    assert.match(experiments[0].calls[0], /"rate_hz":1,"poll_interval_ms":2000/);
    assert.match(experiments[1].calls[0], /"rate_hz":50/);
    assert.match(experiments[3].calls[0], /"rate_hz":0/);
    assert.match(experiments[4].calls.join("\n"), /"kind":"drop","transport":"ws"/);
    assert.match(await page.getAttribute('#experiment-f a.go', "href"), /^\/protocol\?lang=en#echo$/);
    // (h) needs a cluster: this lone server (no --peer-url) says how to start one.
    assert.match(await page.textContent("#experiment-h"), /scripts\/class-demo/);
    assert.match(await page.textContent("#experiment-h .cluster-links"), /no --peer-url/);
    await page.waitForFunction(() => /Server .* · no broker/.test(document.querySelector("#server-line").textContent), null, { timeout: FEW_SECONDS });

    assert.equal(await page.locator("button.apply").count(), 0, "a student cannot apply");
    assert.match(await page.textContent("#role-note"), /Your instructor applies the settings/);
    // And the API says the same if a student tries anyway.
    const status = await page.evaluate(async () => (await fetch("/api/admin/settings", {
      method: "PUT", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: '{"rate_hz":1}',
    })).status);
    assert.equal(status, 401);
    assert.equal((await settingsNow()).rate_hz, 5);
    // The settings in force are shown as such.
    await page.waitForSelector('#experiment-c .in-effect[data-in-effect="true"]', { timeout: FEW_SECONDS });
    assert.equal(await page.locator('#experiment-a .in-effect[data-in-effect="false"]').count(), 1);
    // Only the refusal tried on purpose went wrong (and Chromium's console line for it).
    assert.deepEqual(problems, [
      `HTTP 401 for ${baseUrl}/api/admin/settings`,
      "console: Failed to load resource: the server responded with a status of 401 (Unauthorized)",
    ]);
    await page.close();
  });

  test("sees their own figures beside the class's, per transport", async () => {
    const { page, problems } = await openPage(student, `${baseUrl}/lab?lang=en`);
    for (const transport of TRANSPORTS) {
      assert.equal(await page.locator(row(transport, "you")).count(), 1, transport);
      assert.equal(await page.locator(row(transport, "class")).count(), 1, transport);
    }
    // Columns: req/s, requests, events, empty, missed, bytes ↓ / event, latency p50.
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      await page.waitForFunction((selector) => Number(document.querySelector(selector).textContent.replace(/\D/g, "")) > 0,
        cell(transport, "you", 3), { timeout: FEW_SECONDS });
    }
    await page.waitForFunction(([mine, theirs]) => {
      const read = (s) => Number(document.querySelector(s).textContent.replace(/\D/g, "") || "0");
      return read(mine) > 2 && read(theirs) >= read(mine);
    }, [cell("poll", "you", 2), cell("poll", "class", 2)], { timeout: FEW_SECONDS });
    // The class is every client: this page's own requests are part of it.
    const mine = numberIn(await page.textContent(cell("poll", "you", 2)));
    const theirs = numberIn(await page.textContent(cell("poll", "class", 2)));
    assert.ok(theirs >= mine, `class ${theirs} ≥ you ${mine}`);
    assert.match(await page.textContent(cell("ws", "you", 6)), /\d+ B/, "bytes per event, as this page estimates them");
    assert.match(await page.textContent(cell("ws", "class", 6)), /\d+ B/, "bytes per event, as the server counts them");
    await page.waitForSelector(`${row("ws", "you")} .state[data-state="open"]`, { timeout: FEW_SECONDS });
    await screenshot(page, "lab-en.png");
    assert.deepEqual(problems, []);
    await page.close();
  });

  test("in French: the same eight experiments, in the course's words", async () => {
    const { page, problems } = await openPage(student, `${baseUrl}/lab?lang=fr`);
    assert.equal(await page.getAttribute("html", "lang"), "fr");
    assert.equal((await page.textContent("h1")).trim(), "TP : huit expériences guidées");
    const experiments = await experimentsOf(page);
    assert.deepEqual(experiments.map((e) => e.id), LETTERS);
    for (const experiment of experiments) {
      assert.deepEqual(experiment.parts, ["Objectif", "Réglage", "À observer", "Pour votre compte rendu"], experiment.id);
      assert.ok(experiment.filled, experiment.id);
    }
    const titles = experiments.map((e) => e.title).join("\n");
    assert.match(titles, /polling court/);
    assert.match(titles, /long polling/);
    assert.match(titles, /en-têtes/);
    assert.match(titles, /Sous-protocoles/);
    assert.match(titles, /six connexions par serveur/);
    assert.match(await page.textContent("#experiment-f"), /poignée de main/);
    assert.equal(await page.locator("button.apply").count(), 0);
    assert.equal((await page.textContent(`${row("ws", "you")} .who`)).trim(), "vous");
    assert.equal((await page.textContent(`${row("ws", "class")} .who`)).trim(), "classe");
    await page.waitForSelector(`${row("sse", "you")} .state[data-state="open"]`, { timeout: FEW_SECONDS });
    await page.waitForFunction((selector) => /\d/.test(document.querySelector(selector).textContent), cell("poll", "class", 2), { timeout: FEW_SECONDS });
    await screenshot(page, "lab-fr.png");
    assert.deepEqual(problems, []);
    await page.close();
  });
});

describe("the instructor", () => {
  let lab;
  let labProblems;
  let studentLab;

  before(async () => {
    const { page } = await logIn(instructor, baseUrl, TOKEN);
    await page.close();
    ({ page: lab, problems: labProblems } = await openPage(instructor, `${baseUrl}/lab?lang=en`));
    ({ page: studentLab } = await openPage(student, `${baseUrl}/lab?lang=en`));
  });

  after(async () => {
    await lab?.close();
    await studentLab?.close();
  });

  test("gets an Apply button for each setting the server can take", async () => {
    const perExperiment = await lab.$$eval("article[data-experiment]", (articles) =>
      Object.fromEntries(articles.map((a) => [a.dataset.experiment, a.querySelectorAll("button.apply").length])));
    assert.deepEqual(perExperiment, { a: 1, b: 1, c: 2, d: 1, e: 3, f: 0, g: 0, h: 0 });
    assert.match(await lab.textContent("#role-note"), /logged in as the instructor/);
  });

  test("an Apply click changes the server's settings, and every lab page shows them in force", async () => {
    await studentLab.waitForSelector('#experiment-a .in-effect[data-in-effect="false"]', { timeout: FEW_SECONDS });
    await lab.click("#experiment-a button.apply");
    await lab.waitForSelector('#experiment-a .action[data-result="ok"]', { timeout: FEW_SECONDS });
    const settings = await settingsNow();
    assert.equal(settings.rate_hz, 1);
    assert.equal(settings.poll_interval_ms, 2000);
    assert.equal(settings.paused, false);

    await lab.waitForSelector('#experiment-a .in-effect[data-in-effect="true"]', { timeout: FEW_SECONDS });
    await studentLab.waitForSelector('#experiment-a .in-effect[data-in-effect="true"]', { timeout: FEW_SECONDS });
    await studentLab.waitForSelector('#live-settings[data-rate-hz="1"]', { timeout: FEW_SECONDS });
    // The student's short-poll client follows the suggested interval.
    await studentLab.waitForFunction(() => document.getElementById("poll-interval").value === "2000", null, { timeout: FEW_SECONDS });
    assert.match(await studentLab.textContent("#poll-note"), /every 2,000 ms, as suggested by the instructor/);
    await screenshot(lab, "lab-instructor.png");
  });

  test("experiment (e): Apply drops the WebSockets, and the student's lab resumes with nothing missed", async () => {
    const ws = row("ws", "you");
    await studentLab.waitForSelector(`${ws} .state[data-state="open"]`, { timeout: FEW_SECONDS });
    await lab.click('#experiment-e button.apply:has-text("WebSocket")');
    await lab.waitForSelector('#experiment-e .action[data-result="ok"]', { timeout: FEW_SECONDS });
    assert.equal((await settingsNow()).rate_hz, 5);
    await studentLab.waitForSelector(`${ws}[data-reconnects="1"][data-recovery-missed="0"]`, { timeout: FEW_SECONDS });
    assert.match(await studentLab.textContent(`${ws} .recovery`), /reconnected ×1 · resumed after seq \d+ · missed 0/);
    assert.deepEqual(pageBugs(labProblems), []);
  });
});

describe("experiment (g), the browser's six connections per server", () => {
  test("six SSE streams keep fetch('/api/time') waiting in the browser, six WebSockets do not, and the wait is not counted as latency", async () => {
    // A visitor of its own: no other tab shares this browser's connections.
    const visitor = await browser.newContext({ viewport: VIEWPORT });
    try {
      const { page, problems } = await openPage(visitor, `${baseUrl}/lab?lang=en`);
      await page.waitForFunction((selector) => Number(document.querySelector(selector).textContent.replace(/\D/g, "")) > 0,
        cell("poll", "you", 3), { timeout: FEW_SECONDS });
      const probe = "#experiment-g .probe-box";
      const finished = `${probe}:is([data-result="waited"], [data-result="answered"], [data-result="error"])`;
      const HOLD_AND_MORE = 5000 + FEW_SECONDS;

      await page.click(`${probe} button[data-probe="sse"]`);
      await page.waitForSelector(`${probe}[data-result="running"]`);
      await page.waitForSelector(finished, { timeout: HOLD_AND_MORE });
      assert.equal(await page.getAttribute(probe, "data-result"), "waited", await page.textContent(`${probe} .probe-result`));
      assert.match(await page.textContent(`${probe} .probe-result`), /got no answer while they were open: it waited inside the browser/);
      await screenshot(page, "lab-connection-limit-sse.png");

      // The short poll asked during those seconds: its answer is shown, and its wait is not counted as latency.
      const pollRow = row("poll", "you");
      await page.waitForSelector(`${pollRow}[data-queued-answers]`, { timeout: FEW_SECONDS });
      assert.match(await page.textContent(`${pollRow} .problem`), /kept a request waiting .* the latencies of that answer are left out/);
      const { transports } = await (await fetch(`${baseUrl}/api/stats`)).json();
      for (const transport of ["poll", "longpoll"]) {
        const { max } = transports[transport].client_latency_us;
        assert.ok(max < 4_000_000, `no latency reported for ${transport} includes the 5 s wait (max ${max} µs)`);
      }

      await page.click(`${probe} button[data-probe="ws"]`);
      await page.waitForSelector(`${probe}[data-result="running"]`);
      await page.waitForSelector(finished, { timeout: HOLD_AND_MORE });
      assert.equal(await page.getAttribute(probe, "data-result"), "answered", await page.textContent(`${probe} .probe-result`));
      assert.match(await page.textContent(`${probe} .probe-result`), /6 of the 6 WebSockets opened, and fetch\('\/api\/time'\) was answered in/);
      await screenshot(page, "lab-connection-limit-ws.png");
      assert.deepEqual(pageBugs(problems), []);
    } finally {
      await visitor.close();
    }
  });
});
