// modules.test.mjs — the page modules that need no browser, run in Node: the SHA-1 fallback
// (used when a classroom opens pushlab over plain http on the teacher's address, where
// crypto.subtle does not exist), the RFC 6455 frame headers the protocol page draws, the rate
// ladder, the string tables, and the transport list's plain one-line-per-transport form.

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { sha1 } from "../../static/js/pages/inspector/sha1.js";
import { frameHeader, frameSize, headerSize, maskPayload } from "../../static/js/wire/frames.js";

test("the JavaScript SHA-1 agrees with node:crypto, across block boundaries", () => {
  for (const text of ["", "abc", "x".repeat(55), "x".repeat(56), "x".repeat(64), "é".repeat(200)]) {
    const mine = Buffer.from(sha1(new TextEncoder().encode(text))).toString("hex");
    assert.equal(mine, createHash("sha1").update(text).digest("hex"), `${text.length} characters`);
  }
});

test("the JavaScript SHA-1 gives the Accept value of RFC 6455's example", () => {
  const digest = sha1(new TextEncoder().encode("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
  assert.equal(Buffer.from(digest).toString("base64"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

test("frame headers take the 7-, 16- and 64-bit length forms of RFC 6455 §5.2", () => {
  assert.deepEqual([...frameHeader({ opcode: 0x1, length: 5 })], [0x81, 0x05]); // RFC 6455 §5.7 "Hello"
  assert.deepEqual([...frameHeader({ opcode: 0x2, length: 256 })], [0x82, 0x7e, 0x01, 0x00]);
  assert.deepEqual([...frameHeader({ opcode: 0x2, length: 65536 })], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.equal(headerSize(125, false), 2);
  assert.equal(headerSize(126, false), 4);
  assert.equal(headerSize(65535, true), 8);
  assert.equal(frameSize(65536, true), 14 + 65536);
});

test("a masked client frame matches RFC 6455 §5.7's example", () => {
  const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
  const header = frameHeader({ opcode: 0x1, length: 5, maskingKey: key });
  const payload = maskPayload(new TextEncoder().encode("Hello"), key);
  assert.deepEqual([...header, ...payload], [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
});

test("the rate slider's ladder maps rates to the nearest step and back", async () => {
  const { RATE_STEPS, rateOfStep, stepOfRate } = await import("../../static/js/pages/console/rate-steps.js");
  assert.equal(RATE_STEPS[0], 0);
  assert.equal(RATE_STEPS.at(-1), 1000, "the server's highest rate is on the slider");
  for (let step = 0; step < RATE_STEPS.length; step++) assert.equal(stepOfRate(rateOfStep(step)), step);
  assert.equal(rateOfStep(stepOfRate(0.3)), 0.2);
  assert.equal(rateOfStep(stepOfRate(0.4)), 0.5);
  assert.equal(rateOfStep(stepOfRate(700)), 500);
  assert.equal(rateOfStep(stepOfRate(5000)), 1000);
  assert.equal(stepOfRate(-1), 0);
  assert.equal(rateOfStep(99), 1000);
});

test("every text exists in English and French, once, with the same {placeholders}", async () => {
  const { COMMON_STRINGS } = await import("../../static/js/strings/common.js");
  const { CONSOLE_STRINGS } = await import("../../static/js/strings/console.js");
  const { LAB_STRINGS } = await import("../../static/js/strings/lab.js");
  const files = { "strings/common.js": COMMON_STRINGS, "strings/console.js": CONSOLE_STRINGS, "strings/lab.js": LAB_STRINGS };
  const seen = new Map();
  const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [file, strings] of Object.entries(files)) {
    for (const [key, entry] of Object.entries(strings)) {
      assert.ok(!seen.has(key), `${key} is defined in ${seen.get(key)} and ${file}`);
      seen.set(key, file);
      assert.ok(entry.en && entry.fr, `${key} (${file}) has both languages`);
      assert.deepEqual(placeholders(entry.fr), placeholders(entry.en), `${key} (${file}) fills the same values in both`);
    }
  }
});

test("transports.js lists one plain line per transport, as a test without a JavaScript parser reads it", async () => {
  const { TRANSPORTS } = await import("../../static/js/shared/transports.js");
  const source = readFileSync(new URL("../../static/js/shared/transports.js", import.meta.url), "utf8");
  const lines = [...source.matchAll(/^\s*\{ id: "([a-z]+)", path: "([^"]+)" \},$/gm)].map(([, id, path]) => ({ id, path }));
  assert.deepEqual(lines, TRANSPORTS, "each entry on its own line, `{ id: \"…\", path: \"…\" },`, nothing computed");
  assert.deepEqual(TRANSPORTS.map(({ id }) => id), ["classic", "poll", "longpoll", "sse", "ws"], "the server's order");
});
