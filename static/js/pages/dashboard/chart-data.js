// pages/dashboard/chart-data.js — what the dashboard's charts draw, from the server's one-second
// samples: which samples still count after a reset, where a line must break, how high the
// requests axis goes. Pure (no DOM), so Node's test runner checks it (tests/browser/chart-data.test.mjs).

/** The samples are one a second (the server's window, meter/window.rs), times in µs. */
export const SAMPLE_STEP_US = 1_000_000;

/**
 * A hole longer than this many sample steps breaks every line. The server's window has none: a
 * late tick on a loaded server closes a longer second (its rates are divided by the real
 * interval), so spacings up to 2.5 s are measured time, not holes. Longer ones are seconds this
 * page never received (its stats socket was down).
 */
const GAP_STEPS = 2.5;

/**
 * The samples measured since the statistics were last zeroed: `sinceUs` is the stats' `since`
 * (µs, server clock). The server empties its window on a reset; a page that kept older seconds
 * would draw figures the totals no longer count, and keep its axes scaled to them (a
 * requests axis still at 50/s when the class now makes 1 request a second).
 */
export function samplesSince(samples, sinceUs) {
  if (sinceUs == null) return samples;
  return samples.filter((sample) => sample.t >= sinceUs);
}

/**
 * uPlot's data for `samples`: [xs in seconds, ...one column per series]. Each series is a
 * function reading its value from a sample, or { read, bridge }.
 *
 * Where seconds are missing (the stats socket was down), a row of nulls is put
 * in the hole, so that every line breaks there instead of drawing a straight line across seconds
 * nobody measured. A second that was measured but has no value for a series (no delivery: no
 * latency) is null too, and breaks the line, unless the series is only ever reported every few
 * seconds: `bridge` is how many such seconds in a row it may join (uPlot draws across an
 * `undefined`, never across a null). Client latencies, reported every 2 s, bridge 1.
 */
export function chartColumns(samples, series) {
  const specs = series.map((spec) => (typeof spec === "function" ? { read: spec, bridge: 0 } : { bridge: 0, ...spec }));
  const xs = [];
  const hole = [];
  const columns = specs.map(() => []);
  let previous = null;
  for (const sample of samples) {
    if (previous != null && sample.t - previous > GAP_STEPS * SAMPLE_STEP_US) {
      xs.push((previous + SAMPLE_STEP_US) / 1e6);
      hole.push(true);
      for (const column of columns) column.push(null);
    }
    xs.push(sample.t / 1e6);
    hole.push(false);
    specs.forEach((spec, i) => columns[i].push(spec.read(sample) ?? null));
    previous = sample.t;
  }
  specs.forEach((spec, i) => {
    if (spec.bridge > 0) bridgeShortRuns(columns[i], hole, spec.bridge);
  });
  return [xs, ...columns];
}

/** Turns runs of at most `bridge` nulls between two values (none of them a hole) into undefined. */
function bridgeShortRuns(column, hole, bridge) {
  let lastValue = -1;
  for (let i = 0; i < column.length; i++) {
    if (column[i] == null) continue;
    const run = i - lastValue - 1;
    if (lastValue >= 0 && run > 0 && run <= bridge && !hole.slice(lastValue + 1, i).some(Boolean)) {
      for (let j = lastValue + 1; j < i; j++) column[j] = undefined;
    }
    lastValue = i;
  }
}

/**
 * The requests-per-second axis: from 0 to a tenth above the highest value shown, at least 1 so
 * that one request a second is drawn well above the axis, never flat on it.
 */
export function requestsRange(max) {
  return [0, Math.max(1, (max ?? 0) * 1.1)];
}
