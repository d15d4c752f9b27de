// pages.test.mjs — the dashboard (/) and the protocol inspector (/protocol) in headless
// Chromium, against the real server.
//
// Starts target/debug/pushlab on 127.0.0.1:0 (the URL is read from its stdout), drives
// Debian's /usr/bin/chromium through playwright-core (which never downloads a browser), and
// checks what a student would see (server and browser from harness.mjs). Screenshots go to
// target/screenshots/ for a person to look at. Run from the repository root:
// `node --test tests/browser/` (after `cargo build` and `npm ci` in tests/browser; scripts/test
// does all three).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { connect } from "node:net";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS, FEW_SECONDS, TRANSPORTS, VIEWPORT, openPage, screenshot, startServer, stopServer } from "./harness.mjs";

const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

let server;
let baseUrl;
let browser;
let userDataDir;

/** Opens `path` in a new tab of the shared profile, recording what went wrong (see harness.mjs). */
const open = (path, options) => openPage(browser, baseUrl + path, options);

const panel = (transport) => `.panel[data-transport="${transport}"]`;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer());
  userDataDir = await mkdtemp(join(tmpdir(), "pushlab-chromium-"));
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    // Playwright adds --user-data-dir=<the fresh directory above> itself.
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
  });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

describe("the dashboard", () => {
  let page;
  let problems;

  before(async () => {
    ({ page, problems } = await open("/?lang=en"));
  });

  after(async () => {
    await page?.close();
  });

  test("loads with no console errors", async () => {
    await page.waitForSelector(`${panel("ws")} .state[data-state="open"]`, { timeout: FEW_SECONDS });
    await page.waitForTimeout(1000);
    assert.deepEqual(problems, []);
    assert.equal(await page.locator(".panel").count(), 5);
  });

  test("all five panels show events within a few seconds", async () => {
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      await page.waitForSelector(`${panel(transport)} .feed li[data-seq]`, { timeout: FEW_SECONDS });
    }
    const classicRows = page.frameLocator(`${panel("classic")} iframe`).locator("tr[data-seq]");
    await classicRows.first().waitFor({ timeout: FEW_SECONDS });
    for (const transport of TRANSPORTS) {
      // Events received count on this page's side too (the classic one after its first reload).
      await page.waitForFunction(
        (selector) => Number(document.querySelector(selector)?.textContent.replace(/\D/g, "")) > 0,
        `${panel(transport)} tr[data-counter="delivered"] .mine`,
        { timeout: FEW_SECONDS },
      );
    }
  });

  test("a chat sent from the WebSocket panel appears in all five", async () => {
    const text = `hello from the test ${Math.random().toString(36).slice(2, 8)}`;
    await page.fill(`${panel("ws")} .chat input`, text);
    await page.click(`${panel("ws")} .chat button`);
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      await page.locator(`${panel(transport)} .feed li`, { hasText: text }).first().waitFor({ timeout: FEW_SECONDS });
    }
    // The classic page shows it after its next reload (every 3 s).
    await page.frameLocator(`${panel("classic")} iframe`).locator("tr[data-seq]", { hasText: text }).first().waitFor({ timeout: FEW_SECONDS });
    assert.equal(await page.locator(`${panel("ws")} .error`).textContent(), "");
  });

  test("the classic panel's page reloads by itself", async () => {
    const iframe = page.locator(`${panel("classic")} iframe`);
    const loadsBefore = Number(await iframe.getAttribute("data-loads"));
    const lastSeqBefore = await page.frameLocator(`${panel("classic")} iframe`).locator("tr[data-seq]").first().getAttribute("data-seq");
    await page.waitForFunction(
      ([selector, before]) => Number(document.querySelector(selector).dataset.loads) > before,
      [`${panel("classic")} iframe`, loadsBefore],
      { timeout: FEW_SECONDS },
    );
    const lastSeqAfter = await page.frameLocator(`${panel("classic")} iframe`).locator("tr[data-seq]").first().getAttribute("data-seq");
    assert.ok(Number(lastSeqAfter) > Number(lastSeqBefore), `newest row went from ${lastSeqBefore} to ${lastSeqAfter}`);
  });

  test("the charts and the cost table have data", async () => {
    for (const chart of ["chart-latency", "chart-requests", "chart-bytes"]) {
      await page.waitForFunction(
        (id) => {
          const container = document.getElementById(id);
          return Number(container.dataset.samples) >= 3 && Number(container.dataset.points) > 0 && container.querySelector("canvas");
        },
        chart,
        { timeout: FEW_SECONDS },
      );
    }
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      const bytesPerEvent = await page.locator(`#cost-table tr[data-transport="${transport}"] td`).first().textContent();
      assert.match(bytesPerEvent, /\d+ ?(B|kB)/, `${transport} has a cost per event`);
    }
  });

  test("kept its console clean all along, and is photographed", async () => {
    await screenshot(page, "dashboard-en.png");
    assert.deepEqual(problems, []);
  });
});

describe("the protocol inspector", () => {
  let page;
  let problems;

  before(async () => {
    ({ page, problems } = await open("/protocol?lang=en"));
  });

  after(async () => {
    await page?.close();
  });

  test("shows an Accept value that matches the key it shows", async () => {
    await page.waitForSelector('#accept-verdict[data-ok="true"]', { timeout: FEW_SECONDS });
    const key = (await page.textContent("#accept-key")).trim();
    assert.equal(Buffer.from(key, "base64").length, 16, `the key ${key} is 16 random bytes`);
    const expected = createHash("sha1").update(key + WEBSOCKET_GUID).digest("base64");
    assert.equal((await page.textContent("#accept-computed")).trim(), expected, "computed by the page");
    assert.equal((await page.textContent("#accept-server")).trim(), expected, "answered by the server");
    const requestHead = await page.textContent("#request-head");
    assert.match(requestHead, new RegExp(`sec-websocket-key: ${key.replace(/[+/=]/g, "\\$&")}`));
    assert.match(await page.textContent("#response-head"), new RegExp(`sec-websocket-accept: ${expected.replace(/[+/=]/g, "\\$&")}`));
  });

  test("the RFC 6455 example gives the RFC's answer", async () => {
    await page.click("#key-rfc");
    await page.waitForFunction(() => document.getElementById("accept-computed").textContent === "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    await page.click("#key-mine");
    await page.waitForSelector('#accept-verdict[data-ok="true"]');
  });

  test("draws a text frame and a binary frame from their real payloads", async () => {
    for (const [id, opcode] of [["frame-text", "0x1"], ["frame-binary", "0x2"]]) {
      await page.waitForSelector(`#${id} .frame-total`, { timeout: FEW_SECONDS });
      const { header, payload } = await page.$eval(`#${id} .frame-total`, (p) => ({ header: Number(p.dataset.header), payload: Number(p.dataset.payload) }));
      assert.equal(header, payload <= 125 ? 2 : payload <= 65535 ? 4 : 10, `${id}: header size for ${payload} bytes`);
      assert.match(await page.textContent(`#${id} .fields`), new RegExp(opcode));
    }
  });

  test("compares one event's bytes on the five transports", async () => {
    await page.waitForSelector('#wire-table tr[data-row="total"]', { timeout: FEW_SECONDS });
    const totals = await page.$$eval('#wire-table tr[data-row="total"] td', (cells) => cells.map((cell) => cell.textContent));
    assert.equal(totals.length, 5);
    for (const total of totals) assert.match(total, /\d/);
  });

  test("counts an event's SSE record as the server writes it, its id naming the run", async () => {
    await page.waitForSelector('#wire-table tr[data-row="total"]', { timeout: FEW_SECONDS });
    const seq = Number(await page.getAttribute("#wire-table", "data-seq"));
    const cell = (row) => page.$eval(`#wire-table tr[data-row="${row}"] td[data-transport="sse"]`, (td) => Number(td.dataset.bytes));
    const shown = (await cell("framing")) + (await cell("payload"));
    // The same event off a raw stream: its chunk, size line and CRLFs included.
    const { epoch } = await (await fetch(`${baseUrl}/api/poll`)).json();
    const { hostname, port } = new URL(baseUrl);
    const raw = await new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(
        `GET /api/sse HTTP/1.1\r\nHost: ${hostname}:${port}\r\nLast-Event-ID: ${epoch}:${seq - 1}\r\n\r\n`));
      let text = "";
      const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no record ${seq}: ${text}`)); }, FEW_SECONDS);
      socket.on("data", (chunk) => {
        text += chunk.toString("latin1");
        const record = new RegExp(`\r\n([0-9a-f]+)\r\nid: ${epoch}:${seq}\n[\\s\\S]*?\n\n\r\n`).exec(text);
        if (record) {
          clearTimeout(timer);
          socket.destroy();
          resolve(record[0].slice(2));
        }
      });
      socket.on("error", reject);
    });
    assert.equal(shown, Buffer.byteLength(raw, "latin1"), `the record on the wire:\n${raw}`);
  });

  test("says the inspected socket is closed once it is (the page closes it after the first message)", async () => {
    await page.waitForSelector("#frame-text .frame-total", { timeout: FEW_SECONDS });
    await page.waitForSelector('#handshake-state[data-state="closed"]', { timeout: FEW_SECONDS });
    assert.match(await page.textContent("#handshake-state"), /closed \(code 1000\)/);
  });

  test("negotiates a subprotocol with /ws/echo", async () => {
    await page.click("#echo-chat");
    await page.waitForFunction(() => /code 1000/.test(document.getElementById("echo-log").textContent), null, { timeout: FEW_SECONDS });
    assert.match(await page.textContent("#echo-log"), /“chat”/);
  });

  test("kept its console clean, and is photographed", async () => {
    await screenshot(page, "protocol-en.png");
    assert.deepEqual(problems, []);
  });
});

describe("in French", () => {
  test("Accept-Language picks French, ?lang= overrides it, and both pages are photographed", async () => {
    const dashboard = await open("/", { acceptLanguage: "fr-FR,fr;q=0.9,en;q=0.5" });
    assert.equal(await dashboard.page.getAttribute("html", "lang"), "fr");
    await dashboard.page.waitForSelector(`${panel("ws")} .feed li[data-seq]`, { timeout: FEW_SECONDS });
    assert.equal((await dashboard.page.textContent(`${panel("classic")} h2`)).trim(), "Page classique");
    await dashboard.page.waitForFunction(() => Number(document.getElementById("chart-requests").dataset.samples) >= 3, null, { timeout: FEW_SECONDS });
    await dashboard.page.waitForTimeout(3000); // let the feeds and charts fill a little
    await screenshot(dashboard.page, "dashboard-fr.png");
    assert.deepEqual(dashboard.problems, []);
    await dashboard.page.close();

    const inspector = await open("/protocol?lang=fr");
    await inspector.page.waitForSelector('#wire-table tr[data-row="total"]', { timeout: FEW_SECONDS });
    assert.match(await inspector.page.textContent("h1"), /WebSocket, vu de près/);
    await screenshot(inspector.page, "protocol-fr.png");
    assert.deepEqual(inspector.problems, []);
    await inspector.page.close();

    const english = await open("/?lang=en", { acceptLanguage: "fr-FR" });
    assert.equal(await english.page.getAttribute("html", "lang"), "en");
    await english.page.close();
  });
});

describe("projector mode", () => {
  test("is a toggle remembered across reloads", async () => {
    const { page, problems } = await open("/protocol?lang=en");
    await page.click("#projector-toggle");
    assert.equal(await page.getAttribute("#projector-toggle", "aria-pressed"), "true");
    await page.reload();
    assert.ok(await page.evaluate(() => document.documentElement.classList.contains("projector")));
    await page.waitForSelector('#accept-verdict[data-ok="true"]', { timeout: FEW_SECONDS });
    await screenshot(page, "protocol-projector.png");
    await page.click("#projector-toggle"); // leave the shared profile as it was
    assert.ok(!(await page.evaluate(() => document.documentElement.classList.contains("projector"))));
    assert.deepEqual(problems, []);
    await page.close();
  });
});
