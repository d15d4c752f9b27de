// measures/resolution.js — a client latency written no finer than it was measured.
//
// A browser's latency is (its clock + the estimated offset) − the event's `ts`; the offset comes
// from Cristian's method (measures/latency.js): the server read its clock somewhere inside the
// best round trip to /api/time, so the offset, and every latency timed with it, is known to
// ± half that round trip (the resolution). A latency is therefore rounded to a step no finer
// than the resolution (one digit finer where its power of ten would round it up by more than 40%),
// and one measured at or below it is written "< X", X the round trip: the true value lies between
// 0 and the measure plus the resolution, below twice the resolution.
// No DOM here: the pages pass their locale, and Node's tests call it directly.

/** The finest step a latency is ever written with, µs (0,01 ms, as before resolutions). */
export const FINEST_STEP_US = 10;

/** The resolution (µs) of latencies timed with `offset` ({ rttUs }): half its round trip; null: unknown. */
export function resolutionOf(offset) {
  return offset?.rttUs > 0 ? Math.ceil(offset.rttUs / 2) : null;
}

/** The power of ten (µs) at or just below `us`, at least FINEST_STEP_US. */
export function stepFor(us) {
  if (!(us > FINEST_STEP_US)) return FINEST_STEP_US;
  return 10 ** Math.floor(Math.log10(us));
}

/**
 * How much a step may round a bound up: past it (a 10,5 ms resolution written "20 ms", a 11 ms
 * round trip "< 20 ms") the figure says nearly twice what was measured, and one digit more is
 * the truer of the two.
 */
const MAX_ROUND_UP = 1.4;

/**
 * The step to write figures of resolution (or bound) `us` with: its power of ten, or one tenth
 * of it where rounding `us` up to that power would add more than MAX_ROUND_UP (never finer than
 * FINEST_STEP_US).
 */
export function stepOf(us) {
  const step = stepFor(us);
  const roundsUpTooMuch = Math.ceil(us / step) * step > MAX_ROUND_UP * us;
  return roundsUpTooMuch && step > FINEST_STEP_US ? step / 10 : step;
}

/**
 * `us` rounded to `stepUs` and written in ms below 1 s, in s above: never more decimals than the
 * step has, nor than the page's usual format (2 below 10 ms, 0 up to 1 s, 2 in seconds).
 */
function written(us, stepUs, locale) {
  const rounded = Math.round(us / stepUs) * stepUs;
  const stepDecimals = (unitUs) => Math.max(0, Math.round(Math.log10(unitUs / stepUs)));
  const number = (value, decimals) =>
    new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(value);
  if (rounded < 1_000_000) {
    const ms = rounded / 1000;
    return `${number(ms, Math.min(ms < 10 ? 2 : 0, stepDecimals(1000)))} ms`;
  }
  return `${number(rounded / 1e6, Math.min(2, stepDecimals(1_000_000)))} s`;
}

/**
 * A client latency (µs) for the reader, given the resolution of its clock offset (µs; null or 0:
 * unknown, then written to FINEST_STEP_US at best). At or below the resolution: "< X" with X twice it
 * (the round trip), rounded up to its own step (stepOf). `locale`: "fr-FR" writes 0,3 ms, "en-GB" 0.3 ms.
 */
export function formatLatency(us, resolutionUs, locale = "en-GB") {
  if (us == null || Number.isNaN(us)) return "–";
  const resolution = resolutionUs > 0 ? resolutionUs : FINEST_STEP_US / 2;
  // At the resolution too: the server raises every latency below it to it (meter's
  // client_resolution_us), so "equal" there means "measured at or below", the same as here.
  if (us <= resolution) {
    const bound = 2 * resolution;
    const step = stepOf(bound);
    return `< ${written(Math.ceil(bound / step) * step, step, locale)}`;
  }
  // Rounded to its step, a value just above the resolution could read below it (2401 µs at
  // ± 2400 µs: "2 ms"), a figure finer than the measurement: it is then rounded up instead.
  const step = stepOf(resolution);
  return written(Math.max(us, Math.ceil(resolution / step) * step), step, locale);
}

/**
 * How the page's clock offset was measured, in one sentence: "+1,20 ms, from 8 round trips to
 * /api/time: best 0,30 ms → latencies ± 0,15 ms". `t` and the formatters are the page's
 * (shared/i18n.js, shared/format.js), passed in so that this module needs no DOM.
 */
export function describeOffset(offset, { t, formatOffset, formatMicros }) {
  return t("offset.how", {
    offset: formatOffset(offset.offsetUs),
    n: offset.rounds ?? "?",
    rtt: formatMicros(offset.rttUs),
    half: formatMicros(resolutionOf(offset) ?? 0),
  });
}
