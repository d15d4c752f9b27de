// cluster.test.mjs — lab experiment (h), walked in Chromium: two pushlab servers share one feed
// through the RabbitMQ that scripts/test starts (PUSHLAB_TEST_BROKER; skipped without it). A
// dashboard on the first shows the same seqs as the second and a chat posted on the second;
// then the first server stops, and the dashboard moves to the second: every panel but the
// classic page resumes there with nothing missed. A server killed outright (a laptop that
// crashes) moves the page too, and each stream then runs once on the second server.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { FEW_SECONDS, ROOT, launchBrowser, openPage, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

const BROKER = process.env.PUSHLAB_TEST_BROKER;
const MOVING = ["poll", "longpoll", "sse", "ws"];
const panel = (transport) => `.panel[data-transport="${transport}"]`;

let first;
let second;
let browser;
/** The test's stream: its queues are deleted at the end (scripts/rabbitmq's node). */
const stream = `pushlab.test.browser.${process.pid}.${Date.now()}`;

/** A port nobody listens on now (the servers must know each other's address before they start). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

before(async () => {
  if (!BROKER) return;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(first);
  await stopServer(second);
  if (BROKER) {
    for (const name of [stream, `${stream}.epoch`, `${stream}.settings`]) {
      spawnSync(join(ROOT, "scripts", "rabbitmq"), ["ctl", "delete_queue", name], { stdio: "ignore" });
    }
  }
});

const SKIP = { skip: !BROKER && "PUSHLAB_TEST_BROKER is not set (scripts/test sets it)" };

/**
 * Servers A and B of one feed, each naming the other, and a dashboard of A whose moving panels
 * show events. Returns their addresses and the page.
 */
async function clusterAndDashboard() {
  await stopServer(first);
  await stopServer(second);
  const [portA, portB] = [await freePort(), await freePort()];
  const [urlA, urlB] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];
  const cluster = (name, peer) => ["--broker", BROKER, "--broker-stream", stream, "--server-name", name, "--peer-url", peer];
  ({ child: first } = await startServer(cluster("A", urlB), { bind: `127.0.0.1:${portA}` }));
  ({ child: second } = await startServer(cluster("B", urlA), { bind: `127.0.0.1:${portB}` }));

  const context = await browser.newContext();
  const { page, problems } = await openPage(context, `${urlA}/?lang=en`);
  await page.waitForFunction(() => /Server A \(127\.0\.0\.1:\d+\) · broker connected/.test(document.querySelector("#server-line").textContent), null, { timeout: FEW_SECONDS });
  for (const transport of MOVING) {
    await page.waitForSelector(`${panel(transport)} .feed li[data-seq]`, { timeout: FEW_SECONDS });
  }
  return { urlA, urlB, context, page, problems };
}

/** Waits until the page follows B and every moving panel has resumed there with nothing missed. */
async function movedToB(page, urlB) {
  await page.waitForFunction((b) => {
    const line = document.querySelector("#server-line").textContent;
    return line.includes("Server B") && line.includes(`now following ${b}`);
  }, urlB, { timeout: FEW_SECONDS * 2 });
  for (const transport of MOVING) {
    await page.waitForFunction(
      (selector) => {
        const element = document.querySelector(selector);
        return Number(element.dataset.reconnects) >= 1 && element.dataset.recoveryMissed === "0";
      },
      panel(transport),
      { timeout: FEW_SECONDS * 2 },
    );
  }
}

test("experiment (h): two servers, one feed; the dashboard of a stopped server moves to the other with nothing missed", SKIP, async () => {
  const { urlB, context, page, problems } = await clusterAndDashboard();

  // The same seqs on both servers: the newest the page shows is the same event on B.
  const shown = await page.$eval(`${panel("ws")} .feed li[data-seq]`, (li) => ({ seq: Number(li.dataset.seq), ts: Number(li.dataset.ts) }));
  const onB = await (await fetch(`${urlB}/api/poll?since=${shown.seq - 1}`)).json();
  assert.equal(onB.events[0].seq, shown.seq);
  assert.equal(onB.events[0].ts, shown.ts, "the same event, with the same ts, on both servers");

  // A chat posted on B reaches the dashboard of A, every panel.
  const posted = await fetch(`${urlB}/api/chat`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author: "bea", text: "from server B" }),
  });
  assert.equal(posted.status, 201);
  const chat = await posted.json();
  for (const transport of MOVING) {
    await page.waitForSelector(`${panel(transport)} .feed li[data-seq="${chat.seq}"]`, { timeout: FEW_SECONDS });
  }

  // Server A stops: the page moves to B and every panel resumes there, nothing missed.
  await stopServer(first);
  await movedToB(page, urlB);
  // The classic page stays with A: B's totals are not its, and are not shown beside it.
  await page.waitForSelector(`${panel("classic")} .notice:has-text("the classic page stays with its own")`, { timeout: FEW_SECONDS });
  await page.waitForFunction((selector) => [...document.querySelectorAll(selector)].every((cell) => cell.textContent.trim() === "–"),
    `${panel("classic")} tr[data-counter] .server`, { timeout: FEW_SECONDS });
  // And the feed goes on there (the generator moved to B when A stopped).
  const resumedAt = await page.$eval(`${panel("ws")} .feed li[data-seq]`, (li) => Number(li.dataset.seq));
  await page.waitForFunction(([selector, seq]) => Number(document.querySelector(selector).dataset.seq) > seq + 3,
    [`${panel("ws")} .feed li[data-seq]`, resumedAt], { timeout: FEW_SECONDS });
  await screenshot(page, "dashboard-moved-to-second-server.png");
  // The stopped server's requests failed on the way (that is the point); no page bug.
  assert.deepEqual(pageBugs(problems), []);
  await context.close();
});

test("a killed server: the page moves to the other, where each stream runs once and shows each event once", SKIP, async () => {
  const { urlB, context, page, problems } = await clusterAndDashboard();
  // Killed outright: every stream of the page breaks at once (WebSocket close 1006), and the
  // check that finds A gone moves the page while the WebSocket client waits for its verdict.
  const exited = new Promise((resolve) => first.once("exit", resolve));
  first.kill("SIGKILL");
  await exited;
  await movedToB(page, urlB);
  // Twenty more events on B (the generator moves to B when the broker drops A's lease).
  const resumedAt = await page.$eval(`${panel("ws")} .feed li[data-seq]`, (li) => Number(li.dataset.seq));
  await page.waitForFunction(([selector, seq]) => Number(document.querySelector(selector).dataset.seq) > seq + 20,
    [`${panel("ws")} .feed li[data-seq]`, resumedAt], { timeout: FEW_SECONDS * 2 });
  const shownTwice = await page.evaluate((transports) => Object.fromEntries(transports.map((transport) => {
    const seqs = [...document.querySelectorAll(`.panel[data-transport="${transport}"] .feed li[data-seq]`)].map((li) => li.dataset.seq);
    return [transport, seqs.filter((seq, i) => seqs.indexOf(seq) !== i)];
  })), MOVING);
  assert.deepEqual(shownTwice, Object.fromEntries(MOVING.map((t) => [t, []])), "seqs a panel shows twice");
  // One stream of each kind on B: the page's.
  const stats = await (await fetch(`${urlB}/api/stats`)).json();
  assert.deepEqual({ sse: stats.transports.sse.connections_active, ws: stats.transports.ws.connections_active }, { sse: 1, ws: 1 },
    "the page's streams open on B");
  assert.deepEqual(pageBugs(problems), []);
  await context.close();
});

test("two tabs of one browser move together; the tab that then takes a transport over says so, not a reconnection", SKIP, async () => {
  const { urlB, context, page, problems } = await clusterAndDashboard();
  // A second tab of the same browser: the first holds the transports, this one shows them held
  // elsewhere (tab-lease.js).
  const second = await openPage(context, page.url());
  for (const transport of ["longpoll", "sse"]) {
    await second.page.waitForSelector(`${panel(transport)}[data-lease="elsewhere"]`, { timeout: FEW_SECONDS });
  }
  await stopServer(first);
  await movedToB(page, urlB);
  await second.page.waitForFunction(() => document.querySelector("#server-line").textContent.includes("Server B"), null, { timeout: FEW_SECONDS * 2 });
  // The holder closes: the second tab takes the streams over, from where the first left them.
  await page.close();
  for (const transport of ["longpoll", "sse"]) {
    const selector = `${panel(transport)}[data-takeovers="1"]`;
    await second.page.waitForSelector(selector, { timeout: FEW_SECONDS * 2 });
    // Its first answer after the takeover is the takeover's.
    const takenAfter = Number(await second.page.getAttribute(selector, "data-resumed-after"));
    await second.page.waitForFunction(([feed, seq]) => Number(document.querySelector(feed)?.dataset.seq) > seq,
      [`${panel(transport)} .feed li[data-seq]`, takenAfter], { timeout: FEW_SECONDS });
    const recovery = await second.page.$eval(panel(transport), (element) => ({ reconnects: element.dataset.reconnects, line: element.querySelector(".recovery").textContent }));
    assert.equal(recovery.reconnects, "0", `${transport}: ${recovery.line}`);
    assert.match(recovery.line, /taken over/);
  }
  assert.deepEqual([...pageBugs(problems), ...pageBugs(second.problems)], []);
  await context.close();
});
