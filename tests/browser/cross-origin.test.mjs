// cross-origin.test.mjs — students' own clients (issue 12 item 2): a page served by another
// server (another port of 127.0.0.1) and a page opened from file:// follow the feed with short
// poll, long poll, SSE and WebSocket and post to the JSON chat, against a pushlab started with
// the matching --allowed-origin; against a pushlab that does not allow them, the browser blocks
// every one of them (CORS, or the Origin check for the WebSocket) and no chat is published.
//
// The student's page is written here (plain script, as the slides' client), served by a tiny
// static server on 127.0.0.1:0 started by the test, and also saved as a file for file://.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { FEW_SECONDS, launchBrowser, startServer, stopServer } from "./harness.mjs";

/** The student's client: each transport once, against the pushlab named in ?server=. */
const CLIENT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>my client</title></head>
<body><p id="out">…</p>
<script>
const WAIT_MS = ${FEW_SECONDS / 3};
const server = new URLSearchParams(location.search).get("server");
const wsServer = server.replace(/^http/, "ws");
const within = (promise) =>
  Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve("no answer in time"), WAIT_MS))]);
const blocked = (error) => "blocked: " + (error && error.message ? error.message : error);

async function poll() {
  try {
    const answer = await (await fetch(server + "/api/poll?since=0")).json();
    return Array.isArray(answer.events) && answer.events.length > 0;
  } catch (error) { return blocked(error); }
}
async function longPoll() {
  try {
    const answer = await (await fetch(server + "/api/longpoll?since=0&timeout_ms=2000", { headers: { "X-Requested-With": "XMLHttpRequest" } })).json();
    return Array.isArray(answer.events);
  } catch (error) { return blocked(error); }
}
function sse() {
  return within(new Promise((resolve) => {
    const source = new EventSource(server + "/api/sse?since=0");
    const got = (event) => { source.close(); resolve(JSON.parse(event.data).seq > 0); };
    for (const kind of ["tick", "chat", "message"]) source.addEventListener(kind, got);
    source.onerror = () => { source.close(); resolve("blocked: EventSource error"); };
  }));
}
function webSocket() {
  return within(new Promise((resolve) => {
    const socket = new WebSocket(wsServer + "/ws");
    socket.onmessage = () => { socket.close(); resolve(true); };
    socket.onerror = () => resolve("blocked: WebSocket error");
    socket.onclose = () => resolve("blocked: closed before a message");
  }));
}
async function chat(text) {
  try {
    const answer = await fetch(server + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ author: "student", text }),
    });
    return answer.status;
  } catch (error) { return blocked(error); }
}
// What the page can read of an answer's Resource Timing: hidden (0) unless the server allows it.
window.readTiming = async () => {
  const url = server + "/api/poll?since=0&timing=" + Date.now();
  const body = await (await fetch(url, { cache: "no-store" })).text();
  for (let look = 0; look < 50; look++) {
    const entry = performance.getEntriesByName(url).at(-1);
    if (entry) return { body: new TextEncoder().encode(body).length, encoded: entry.encodedBodySize, transfer: entry.transferSize, requestStart: entry.requestStart };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
};
window.tryEverything = async (text) => {
  const results = { poll: await poll(), longpoll: await longPoll(), sse: await sse(), ws: await webSocket(), chat: await chat(text) };
  document.getElementById("out").textContent = JSON.stringify(results);
  return results;
};
</script></body></html>`;

let staticServer;
let pageOrigin;
let fileUrl;
let tempDir;
let allowsPort; // pushlab with --allowed-origin <the static server's origin>
let allowsNull; // pushlab with --allowed-origin null
let browser;

before(async () => {
  staticServer = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
    res.end(CLIENT_PAGE);
  });
  await new Promise((resolve) => staticServer.listen(0, "127.0.0.1", resolve));
  pageOrigin = `http://127.0.0.1:${staticServer.address().port}`;
  tempDir = await mkdtemp(join(tmpdir(), "pushlab-client-"));
  const file = join(tempDir, "client.html");
  await writeFile(file, CLIENT_PAGE);
  fileUrl = pathToFileURL(file).href;
  allowsPort = await startServer(["--allowed-origin", pageOrigin]);
  allowsNull = await startServer(["--allowed-origin", "null"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(allowsPort?.child);
  await stopServer(allowsNull?.child);
  await new Promise((resolve) => (staticServer ? staticServer.close(resolve) : resolve()));
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

/** Runs the student's page from `pageUrl` against `server`; returns its results. */
async function runClient(pageUrl, server, text) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${pageUrl}?server=${encodeURIComponent(server.url)}`);
    return await page.evaluate((t) => window.tryEverything(t), text);
  } finally {
    await context.close();
  }
}

/** The chat texts pushlab published, read from Node (no Origin: a tool). */
async function publishedChats(server) {
  const answer = await (await fetch(`${server.url}/api/poll?since=0`)).json();
  return answer.events.filter((e) => e.kind === "chat").map((e) => e.data.text);
}

/** What `pageUrl`'s page reads of a poll answer's Resource Timing from `server`. */
async function timingSeen(pageUrl, server) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${pageUrl}?server=${encodeURIComponent(server.url)}`);
    return await page.evaluate(() => window.readTiming());
  } finally {
    await context.close();
  }
}

/**
 * An allowed page reads sizes and phases (Timing-Allow-Origin): without them a dashboard that
 * moved to another server of its cluster counted 0 bytes for every poll answer.
 */
function assertTimingReadable(timing, what) {
  assert.ok(timing, `${what}: a timing entry`);
  assert.equal(timing.encoded, timing.body, `${what}: the body's size is readable ${JSON.stringify(timing)}`);
  assert.ok(timing.transfer > timing.body && timing.requestStart > 0, `${what}: the transfer and its phases are readable ${JSON.stringify(timing)}`);
}

const EVERY_TRANSPORT_WORKS = { poll: true, longpoll: true, sse: true, ws: true, chat: 201 };

function assertAllBlocked(results, what) {
  for (const [transport, outcome] of Object.entries(results)) {
    assert.ok(typeof outcome === "string" && outcome.startsWith("blocked"), `${what}: ${transport} should be blocked, got ${JSON.stringify(outcome)}`);
  }
}

describe("a page served from another port", () => {
  test("uses every transport and the chat when its origin is allowed", async () => {
    const text = "hello from port " + Date.now();
    const results = await runClient(`${pageOrigin}/client.html`, allowsPort, text);
    assert.deepEqual(results, EVERY_TRANSPORT_WORKS);
    assert.ok((await publishedChats(allowsPort)).includes(text));
    assertTimingReadable(await timingSeen(`${pageOrigin}/client.html`, allowsPort), "another port");
  });

  test("is blocked by the browser when its origin is not allowed", async () => {
    const text = "refused from port " + Date.now();
    const results = await runClient(`${pageOrigin}/client.html`, allowsNull, text);
    assertAllBlocked(results, "another port against --allowed-origin null");
    assert.ok(!(await publishedChats(allowsNull)).includes(text), "the refused chat was not published");
  });
});

describe("a page opened from file://", () => {
  test("uses every transport and the chat with --allowed-origin null", async () => {
    const text = "hello from a file " + Date.now();
    const results = await runClient(fileUrl, allowsNull, text);
    assert.deepEqual(results, EVERY_TRANSPORT_WORKS);
    assert.ok((await publishedChats(allowsNull)).includes(text));
    assertTimingReadable(await timingSeen(fileUrl, allowsNull), "file://");
  });

  test("is blocked by the browser when null is not allowed", async () => {
    const text = "refused from a file " + Date.now();
    const results = await runClient(fileUrl, allowsPort, text);
    assertAllBlocked(results, "file:// against an origin list without null");
    assert.ok(!(await publishedChats(allowsPort)).includes(text));
  });
});
