// shared/numbers.js — numbers, bytes, durations and clock times in a given language, for tables
// and for chart axes. Pure: the language comes in as arguments (shared/format.js passes the
// page's), so Node's test runner checks these rules without a browser (tests/browser/numbers.test.mjs).
//
// French writes 1 234,5 (decimal comma, U+202F narrow no-break space between thousands, as
// Intl.NumberFormat("fr-FR") does) and counts bytes in octets: o, ko, Mo, Go. English (en-GB)
// writes 1,234.5 and B, kB, MB, GB. Units are decimal (1 kB = 1000 B), as network figures are.

/** Byte units by page language, from 1 B up, each 1000 times the one before. */
export const BYTE_UNITS = { en: ["B", "kB", "MB", "GB"], fr: ["o", "ko", "Mo", "Go"] };

/** Largest number of decimals an axis label gets (finer ticks are labelled at this precision). */
const MAX_AXIS_DECIMALS = 3;

const formatters = new Map();
/** Intl.NumberFormat for `locale` with exactly `decimals` fraction digits (cached). */
export function numberFormat(locale, decimals) {
  const key = `${locale}/${decimals}`;
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.NumberFormat(locale, { minimumFractionDigits: decimals, maximumFractionDigits: decimals }));
  }
  return formatters.get(key);
}

function unitsOf(lang) {
  return BYTE_UNITS[lang] ?? BYTE_UNITS.en;
}

/**
 * A byte count for a table: 1 234 o, 12,3 ko, 4,56 Mo (fr) or 1,234 B, 12.3 kB, 4.56 MB (en).
 * Whole bytes below 10 000, one decimal below 10 000 000, two above. "–" for no figure.
 */
export function bytesText(n, lang, locale) {
  if (n == null || Number.isNaN(n)) return "–";
  const [b, kb, mb] = unitsOf(lang);
  if (n < 10_000) return `${numberFormat(locale, 0).format(n)} ${b}`;
  if (n < 10_000_000) return `${numberFormat(locale, 1).format(n / 1000)} ${kb}`;
  return `${numberFormat(locale, 2).format(n / 1e6)} ${mb}`;
}

/**
 * The fewest decimals (0 to 3) that write every value of `values` exactly: the ticks 0, 0.5, 1,
 * 1.5 need one, so all four are written with one (0,0 · 0,5 · 1,0 · 1,5): one format per axis.
 */
export function sharedDecimals(values) {
  for (let decimals = 0; decimals < MAX_AXIS_DECIMALS; decimals++) {
    const scale = 10 ** decimals;
    if (values.every((v) => v == null || Math.abs(v * scale - Math.round(v * scale)) < 1e-6 * Math.max(1, Math.abs(v * scale)))) {
      return decimals;
    }
  }
  return MAX_AXIS_DECIMALS;
}

/** Labels of a linear axis: every tick with the same number of decimals, in `locale`. */
export function linearAxisLabels(ticks, locale) {
  const format = numberFormat(locale, sharedDecimals(ticks));
  return ticks.map((v) => (v == null ? "" : format.format(v)));
}

/** A power of ten (1, 10, 100, 0.1…), within rounding. */
export function isPowerOfTen(value) {
  if (!(value > 0)) return false;
  const exponent = Math.log10(value);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

/**
 * Labels of a logarithmic byte axis (ticks at 1…9 × 10ⁿ): only the powers of ten are labelled,
 * or they overlap, each as a whole number of its unit: 10 o · 100 o · 1 ko · 10 ko.
 */
export function bytesAxisLabels(ticks, lang, locale) {
  const units = unitsOf(lang);
  const whole = numberFormat(locale, 0);
  return ticks.map((v) => {
    if (!isPowerOfTen(v) || v < 1) return "";
    const step = Math.min(units.length - 1, Math.floor(Math.log10(v) / 3 + 1e-9));
    return `${whole.format(v / 1000 ** step)} ${units[step]}`;
  });
}

/**
 * Labels of a logarithmic duration axis given in µs (ticks at 1…9 × 10ⁿ): the powers of ten,
 * each a whole number of its unit: 100 µs · 1 ms · 10 ms · 100 ms · 1 s · 10 s.
 */
export function microsAxisLabels(ticks, locale) {
  const whole = numberFormat(locale, 0);
  return ticks.map((us) => {
    if (!isPowerOfTen(us) || us < 1) return "";
    if (us < 1000) return `${whole.format(us)} µs`;
    if (us < 1_000_000) return `${whole.format(us / 1000)} ms`;
    return `${whole.format(us / 1e6)} s`;
  });
}

/**
 * Labels of a time axis (ticks in seconds since the epoch): the clock time in the page's
 * language, 24-hour (14:05:30); the first tick also gives the day on a second line (12 juin ·
 * 12 Jun), since a chart may be exported and read later. `timeZone`: undefined for the
 * reader's own (tests pass "UTC").
 */
export function timeAxisLabels(ticks, locale, { timeZone } = {}) {
  const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone });
  const day = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone });
  return ticks.map((seconds, index) => {
    if (seconds == null) return "";
    const when = new Date(seconds * 1000);
    return index === 0 ? `${time.format(when)}\n${day.format(when)}` : time.format(when);
  });
}
