// wire-estimates.test.mjs — the byte sizes the pages rebuild (static/js/wire/estimates.js) against
// the heads the real server writes, read off a raw socket.
//
// A browser hides response heads from the page (Resource Timing puts a flat 300 B in their place),
// and SSE records, chunk sizes and the 101 answer entirely. The panels and the inspector then show
// estimates rebuilt from pushlab's formats; an estimate that forgets a header line the server adds
// (a middleware's `vary: Origin`, the CORS lines a page following another server of its cluster
// gets) is wrong on every answer, silently. Runs in Node against the
// server, no browser: each head is compared byte for byte in length (the `date` line has a fixed
// length, RFC 9110 §5.6.7).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { adminApi, startServer, stopServer } from "./harness.mjs";
import {
  CLASSIC_ANSWER, JSON_ANSWER, plainResponseHeadBytes, sseMissedBytes, sseResetBytes, sseResponseHeadBytes,
  switchingProtocolsAnswer, utf8Length,
} from "../../static/js/wire/estimates.js";

let server;
let baseUrl;
/** A dashboard of another server of the cluster, following this one (an admitted origin). */
const PAGE_ORIGIN = "http://127.0.0.1:18080";

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", "wire-estimates", "--allowed-origin", PAGE_ORIGIN]));
});

after(async () => {
  await stopServer(server);
});

/**
 * Sends `request` on a new connection and resolves with what came back once `enough(bytes)` says
 * so (or the server closed): the raw bytes, as a Buffer.
 */
function exchange(request, enough, url = baseUrl) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 10 s; got:\n${received}`));
    }, 10_000);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(received);
    };
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (enough(received)) done();
    });
    socket.on("end", done);
    socket.on("error", reject);
  });
}

/** The head of a raw answer (status line to the blank line, included) and its bytes. */
function headOf(raw) {
  const end = raw.indexOf("\r\n\r\n");
  assert.ok(end > 0, `an HTTP head: ${raw}`);
  return raw.subarray(0, end + 4).toString("latin1");
}

function get(path, headers = {}, url = baseUrl) {
  const lines = Object.entries({ Host: new URL(url).host, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `GET ${path} HTTP/1.1\r\n${lines.join("")}\r\n`;
}

/** A GET answered with a Content-Length body: its head, and the body's length. */
async function plainAnswer(path, headers) {
  const raw = await exchange(get(path, headers), (bytes) => {
    const end = bytes.indexOf("\r\n\r\n");
    if (end < 0) return false;
    const length = Number(/content-length: (\d+)/i.exec(bytes.subarray(0, end).toString())?.[1]);
    return bytes.length >= end + 4 + length;
  });
  const head = headOf(raw);
  return { head, bodyBytes: Number(/content-length: (\d+)/i.exec(head)[1]) };
}

for (const path of ["/api/poll?since=0", "/api/longpoll?since=0&timeout_ms=100"]) {
  test(`a ${path.split("?")[0]} answer's head is as long as the page's estimate`, async () => {
    const { head, bodyBytes } = await plainAnswer(path);
    assert.equal(plainResponseHeadBytes(bodyBytes, JSON_ANSWER), Buffer.byteLength(head), `the server wrote:\n${head}`);
  });
}

for (const path of ["/api/poll?since=0", "/api/longpoll?since=0&timeout_ms=100"]) {
  test(`a ${path.split("?")[0]} answer to a page of another admitted origin: its head, CORS lines included, as long as the estimate`, async () => {
    const { head, bodyBytes } = await plainAnswer(path, { Origin: PAGE_ORIGIN });
    assert.match(head, /access-control-allow-origin/i, "a CORS answer");
    assert.equal(plainResponseHeadBytes(bodyBytes, JSON_ANSWER, PAGE_ORIGIN), Buffer.byteLength(head), `the server wrote:\n${head}`);
  });
}

test("the classic page's head is as long as the page's estimate", async () => {
  // As the dashboard's frame loads it: an HTML navigation in French.
  const { head, bodyBytes } = await plainAnswer("/classic", { "Accept-Language": "fr", "Sec-Fetch-Dest": "iframe" });
  assert.equal(plainResponseHeadBytes(bodyBytes, CLASSIC_ANSWER), Buffer.byteLength(head), `the server wrote:\n${head}`);
});

test("the SSE head and its first chunk are as long as the page's estimate", async () => {
  const raw = await exchange(get("/api/sse", { Accept: "text/event-stream" }), (bytes) => bytes.includes("retry: 2000\n\n\r\n"));
  const end = raw.indexOf("retry: 2000\n\n\r\n") + "retry: 2000\n\n\r\n".length;
  assert.equal(sseResponseHeadBytes(), end, `the server wrote:\n${raw.subarray(0, end)}`);
});

test("the SSE head to a page of another admitted origin, CORS lines included, is as long as the estimate", async () => {
  const raw = await exchange(get("/api/sse", { Accept: "text/event-stream", Origin: PAGE_ORIGIN }), (bytes) => bytes.includes("retry: 2000\n\n\r\n"));
  const end = raw.indexOf("retry: 2000\n\n\r\n") + "retry: 2000\n\n\r\n".length;
  assert.match(raw.toString(), /access-control-allow-origin/i, "a CORS answer");
  assert.equal(sseResponseHeadBytes(PAGE_ORIGIN), end, `the server wrote:\n${raw.subarray(0, end)}`);
});

test("an SSE resume from another run: the reset notice in the first chunk is as long as the page adds for it", async () => {
  const first = "retry: 2000\n\n";
  const raw = await exchange(get("/api/sse?since=3&epoch=deadbeef"), (bytes) => /\r\n\r\n[0-9a-f]+\r\nretry[\s\S]*?\n\n\r\n/.test(bytes.toString()));
  const text = raw.toString();
  const data = /event: reset\ndata: (.*)\n\n/.exec(text)?.[1];
  assert.ok(data, `a reset notice after ${first}: ${text}`);
  const end = text.indexOf(`data: ${data}\n\n\r\n`) + `data: ${data}\n\n\r\n`.length;
  assert.equal(sseResponseHeadBytes() + sseResetBytes(data), Buffer.byteLength(text.slice(0, end)), `the server wrote:\n${text.slice(0, end)}`);
});

test("an SSE resume after events left the replay buffer: the missed notice is as long as the page adds for it", async () => {
  const { child, url } = await startServer(["--admin-token", "wire-missed", "--buffer", "4"]);
  try {
    assert.equal((await adminApi(url, "wire-missed", "POST", "/api/admin/burst", { count: 20 })).status, 200);
    const { epoch } = await (await fetch(`${url}/api/poll`)).json();
    const raw = await exchange(
      get("/api/sse", { "Last-Event-ID": `${epoch}:1` }, url),
      (bytes) => /event: missed\ndata: .*\n\n\r\n/.test(bytes.toString()),
      url,
    );
    const text = raw.toString();
    const chunk = /\r\n([0-9a-f]+\r\nevent: missed\ndata: (.*)\n\n\r\n)/.exec(text);
    assert.ok(chunk, `a missed notice in a chunk of its own: ${text}`);
    assert.equal(sseMissedBytes(chunk[2]), Buffer.byteLength(chunk[1]), `the server wrote:\n${chunk[1]}`);
  } finally {
    await stopServer(child);
  }
});

test("the 101 answer to a page of another admitted origin, rebuilt with its CORS lines, is as long as the head written", async () => {
  const raw = await exchange(
    get("/ws", {
      Upgrade: "websocket",
      Connection: "Upgrade",
      Origin: PAGE_ORIGIN,
      "Sec-WebSocket-Version": "13",
      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
      "Sec-WebSocket-Protocol": "pushlab.json",
    }),
    (bytes) => bytes.includes("\r\n\r\n"),
  );
  const head = headOf(raw);
  assert.match(head, /access-control-allow-origin/i, "a CORS answer");
  // As a moved page rebuilds it: it cannot read the other server's handshake log.
  const rebuilt = switchingProtocolsAnswer({ accept: "=".repeat(28), chosen_subprotocol: "pushlab.json" }, PAGE_ORIGIN);
  assert.equal(utf8Length(rebuilt), Buffer.byteLength(head), `the server wrote:\n${head}`);
});

for (const protocol of [null, "pushlab.json"]) {
  test(`the 101 answer (${protocol ?? "no subprotocol"}): the inspector's record is the head as written, and the estimate as long`, async () => {
    const tag = `estimate-${(protocol ?? "none").replace(".", "-")}-${Date.now()}`;
    const raw = await exchange(
      get(`/ws?inspect=${tag}`, {
        Upgrade: "websocket",
        Connection: "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...(protocol ? { "Sec-WebSocket-Protocol": protocol } : {}),
      }),
      (bytes) => bytes.includes("\r\n\r\n"),
    );
    const head = headOf(raw);
    const record = await (await fetch(`${baseUrl}/api/handshake/${tag}`)).json();
    // The record, as the inspector draws it, is the head the server wrote (its date aside).
    const recorded = switchingProtocolsAnswer(record);
    const withoutDate = (text) => text.replace(/^date: .*\r\n/m, "");
    assert.equal(withoutDate(recorded), withoutDate(head), "the inspector shows the head as written");
    assert.equal(utf8Length(recorded), Buffer.byteLength(head));
    // Without a record of the head (an older server), the estimate is as long.
    const estimate = switchingProtocolsAnswer({ accept: record.accept, chosen_subprotocol: record.chosen_subprotocol });
    assert.equal(utf8Length(estimate), Buffer.byteLength(head), `the server wrote:\n${head}`);
  });
}
