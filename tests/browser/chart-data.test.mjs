// chart-data.test.mjs — what the dashboard's charts draw (static/js/pages/dashboard/chart-data.js):
// lines break where seconds are missing, a reset drops the seconds before it, the requests axis
// keeps one request a second well above its floor. Runs in Node: no server, no browser.

import { test } from "node:test";
import assert from "node:assert/strict";
import { chartColumns, requestsRange, samplesSince } from "../../static/js/pages/dashboard/chart-data.js";

const T0 = 1_781_000_000_000_000; // µs
const sample = (second, value) => ({ t: T0 + second * 1_000_000, value });
const read = (s) => s.value;

test("consecutive seconds are drawn as they are, a measured second without value stays null", () => {
  const [xs, ys] = chartColumns([sample(0, 1), sample(1, null), sample(2, 3)], [read]);
  assert.deepEqual(xs, [T0 / 1e6, T0 / 1e6 + 1, T0 / 1e6 + 2]);
  assert.deepEqual(ys, [1, null, 3]);
});

test("seconds with no sample at all break the line: a null point is put in the hole", () => {
  const [xs, ys, zs] = chartColumns([sample(0, 1), sample(1, 2), sample(7, 5), sample(8, 6)], [read, (s) => s.value * 10]);
  assert.deepEqual(xs, [0, 1, 2, 7, 8].map((s) => T0 / 1e6 + s));
  assert.deepEqual(ys, [1, 2, null, 5, 6]);
  assert.deepEqual(zs, [10, 20, null, 50, 60]);
  assert.deepEqual(chartColumns([], [read]), [[], []]);
  // A late tick on a loaded server closes a longer second: measured time, not a hole.
  const late = [sample(0, 1), { t: T0 + 2_200_000, value: 2 }, { t: T0 + 3_200_000, value: 3 }];
  assert.deepEqual(chartColumns(late, [read])[1], [1, 2, 3]);
});

test("a series reported every 2 s joins across one second without a report, never across a hole or a longer silence", () => {
  const samples = [sample(0, 1), sample(1, null), sample(2, 3), sample(3, null), sample(4, null), sample(5, 6), sample(6, null), sample(9, 7)];
  const [, bridged, strict] = chartColumns(samples, [{ read, bridge: 1 }, read]);
  // Second 1 is joined (undefined: uPlot draws across it); 3-4 (two seconds) and the hole at 7 break.
  assert.deepEqual(bridged, [1, undefined, 3, null, null, 6, null, null, 7]);
  assert.deepEqual(strict, [1, null, 3, null, null, 6, null, null, 7]);
});

test("after a reset, only the seconds since count, so the axes follow what happens now", () => {
  const samples = [sample(0, 50), sample(1, 48), sample(2, 1), sample(3, 1)];
  const since = T0 + 2 * 1_000_000;
  assert.deepEqual(samplesSince(samples, since).map((s) => s.value), [1, 1]);
  assert.equal(samplesSince(samples, null), samples);
  const max = Math.max(...samplesSince(samples, since).map((s) => s.value));
  const [low, high] = requestsRange(max);
  assert.equal(low, 0);
  assert.ok(high <= 2, `an axis for 1 request/s tops at ${high}, not at the old 50`);
  assert.ok(1 / high > 0.5, "one request a second is drawn in the upper half, not flat on the axis");
});

test("the requests axis is never flat: at least 0 to 1", () => {
  assert.deepEqual(requestsRange(0), [0, 1]);
  assert.deepEqual(requestsRange(null), [0, 1]);
  const [low, high] = requestsRange(50);
  assert.equal(low, 0);
  assert.ok(Math.abs(high - 55) < 1e-9, "a tenth of room above the highest value");
});
