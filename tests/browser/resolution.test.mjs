// resolution.test.mjs — client latencies are written no finer than their clock offset allows
// (issue 13, item 3): measures/resolution.js runs in Node, no browser needed.

import { test } from "node:test";
import assert from "node:assert/strict";
import { formatLatency, resolutionOf, stepFor, stepOf } from "../../static/js/measures/resolution.js";

test("the resolution is half the best round trip, unknown without one", () => {
  assert.equal(resolutionOf({ offsetUs: -5, rttUs: 301 }), 151);
  assert.equal(resolutionOf({ offsetUs: 0, rttUs: 0 }), null);
  assert.equal(resolutionOf(null), null);
});

test("at or below the resolution a latency is '< the round trip', never 0,00 ms nor microseconds", () => {
  // 150 itself too: the server raises every client latency below the resolution to it, so a
  // class p50 equal to it was measured at or below it, as the page's own would be.
  for (const us of [0, 3, 80, 149, 150]) {
    assert.equal(formatLatency(us, 150, "fr-FR"), "< 0,3 ms", `${us} µs`);
    assert.equal(formatLatency(us, 150, "en-GB"), "< 0.3 ms", `${us} µs`);
  }
  // The bound is rounded up, never down: 2 × 151 µs is under 0,4 ms, not under 0,3.
  assert.equal(formatLatency(10, 151, "fr-FR"), "< 0,4 ms");
  assert.equal(formatLatency(900, 2000, "fr-FR"), "< 4 ms");
  // No offset measured: still never a zero.
  assert.equal(formatLatency(3, null, "fr-FR"), "< 0,01 ms");
});

test("above it a latency is rounded to a step no finer than the resolution", () => {
  assert.equal(formatLatency(1234, 150, "fr-FR"), "1,2 ms");
  assert.equal(formatLatency(1234, 40, "fr-FR"), "1,23 ms");
  assert.equal(formatLatency(1234, 400, "en-GB"), "1.2 ms");
  assert.equal(formatLatency(6789, 2000, "en-GB"), "7 ms");
  assert.equal(formatLatency(12_345, 150, "fr-FR"), "12 ms");
  assert.equal(formatLatency(1_234_567, 150, "fr-FR"), "1,23 s");
  assert.equal(formatLatency(1_234_567, 300_000, "en-GB"), "1.2 s");
  assert.equal(formatLatency(null, 150, "fr-FR"), "–");
  // Just above the resolution: rounded up to it, never down below it.
  assert.equal(formatLatency(2401, 2400, "en-GB"), "3 ms");
  // ...but never to nearly twice it: 1,4 ms rounds up to 2 by 43%, so one digit more.
  assert.equal(formatLatency(1450, 1400, "en-GB"), "1.5 ms");
  assert.equal(formatLatency(24_001, 24_000, "en-GB"), "30 ms");
  assert.equal(stepFor(150), 100);
  assert.equal(stepFor(3), 10);
  assert.equal(stepOf(150), 100);
  assert.equal(stepOf(10_500), 1000);
});

test("a school network's round trip of 10 to 25 ms is not written as nearly twice itself", () => {
  // The instructor's walk: at an 11 ms round trip, events read "< 20 ms" next to "6 ms" and
  // "7 ms"; at 21 ms, 11, 21 and 23 ms all read "20 ms" beside "< 30 ms".
  assert.equal(formatLatency(2000, 5500, "en-GB"), "< 11 ms");
  assert.equal(formatLatency(6000, 5500, "en-GB"), "6 ms");
  assert.equal(formatLatency(2000, 10_500, "en-GB"), "< 21 ms");
  assert.equal(formatLatency(11_000, 10_500, "en-GB"), "11 ms");
  assert.equal(formatLatency(23_000, 10_500, "en-GB"), "23 ms");
  // Every "< X" is at most 1.4 times the round trip, every figure above it at most 1.4 times
  // the resolution when it is raised to it (but for the finest step, 0,01 ms).
  for (let resolution = 7; resolution < 400_000; resolution = Math.round(resolution * 1.13 + 1)) {
    const [, bound, unit] = /^< ([\d.,]+) (ms|s)$/.exec(formatLatency(0, resolution, "en-GB"));
    const boundUs = Number(bound.replace(/,/g, "")) * (unit === "s" ? 1e6 : 1e3);
    assert.ok(boundUs <= Math.max(2 * resolution * 1.4, 20), `± ${resolution} µs: < ${bound} ${unit}`);
  }
});

test("no written latency has more digits than its resolution, whatever the value", () => {
  for (const resolution of [7, 60, 150, 999, 1400, 2400, 2500, 24_000, 40_000]) {
    for (let us = 0; us < 3_000_000; us = Math.round(us * 1.37 + 1)) {
      const text = formatLatency(us, resolution, "en-GB");
      assert.doesNotMatch(text, /µs|^0\.00 ms$/, `${us} µs at ± ${resolution}: ${text}`);
      if (text.startsWith("<")) {
        assert.ok(us <= resolution, `${us} µs at ± ${resolution}: ${text}`);
        continue;
      }
      const [, number, unit] = /^([\d.,]+) (ms|s)$/.exec(text);
      // The value written is a whole number of steps of the resolution (or coarser).
      const shownUs = Math.round(Number(number.replace(/,/g, "")) * (unit === "s" ? 1e6 : 1e3));
      assert.equal(shownUs % stepOf(resolution), 0, `${us} µs at ± ${resolution}: ${text}`);
      // Nor a figure below the resolution (2401 µs at ± 2400 µs read "2 ms").
      assert.ok(shownUs >= resolution, `${us} µs at ± ${resolution}: ${text}`);
    }
  }
});
