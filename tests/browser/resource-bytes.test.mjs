// resource-bytes.test.mjs — how a page reads its answers' sizes from Resource Timing
// (static/js/measures/resource-bytes.js). Runs in Node: no server, no browser.

import { test } from "node:test";
import assert from "node:assert/strict";
import { receivedBytes } from "../../static/js/measures/resource-bytes.js";
import { JSON_ANSWER, plainResponseHeadBytes } from "../../static/js/wire/estimates.js";

globalThis.location = new URL("http://127.0.0.1:8080/");
const poll = (sizes) => ({ name: "http://127.0.0.1:8080/api/poll?since=3", ...sizes });

test("an answer whose head the browser hides is rebuilt: an estimate", () => {
  const { bytes, measured } = receivedBytes(poll({ transferSize: 356, encodedBodySize: 56 }), JSON_ANSWER);
  assert.equal(bytes, 56 + plainResponseHeadBytes(56, JSON_ANSWER));
  assert.equal(measured, false);
});

test("an answer whose head the browser reports is measured", () => {
  assert.deepEqual(receivedBytes(poll({ transferSize: 203, encodedBodySize: 56 }), JSON_ANSWER), { bytes: 203, measured: true });
});

test("an aborted request (a long poll paused while held) brings 0 bytes and says nothing of how the others are known", () => {
  // Before: { measured: true }, and the panel's estimate lost its mark after a pause.
  assert.deepEqual(receivedBytes(poll({ transferSize: 0, encodedBodySize: 0 }), JSON_ANSWER), { bytes: 0, measured: null });
});
