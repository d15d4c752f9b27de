// shared/format.js — numbers, bytes and durations written the reader's way (1 234,5 in French).

import { lang, locale } from "./i18n.js";
import { bytesText } from "./numbers.js";

const whole = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const twoDecimals = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatCount(n) {
  return n == null || Number.isNaN(n) ? "–" : whole.format(n);
}

/** 1,234 B, 12.3 kB, 4.56 MB; in French 1 234 o, 12,3 ko, 4,56 Mo (decimal units, numbers.js). */
export function formatBytes(n) {
  return bytesText(n, lang, locale);
}

/** A duration given in µs: 0,42 ms, 12 ms, 1,25 s. */
export function formatMicros(us) {
  if (us == null || Number.isNaN(us)) return "–";
  const ms = us / 1000;
  if (Math.abs(ms) < 10) return `${twoDecimals.format(ms)} ms`;
  if (Math.abs(ms) < 1000) return `${whole.format(ms)} ms`;
  return `${twoDecimals.format(ms / 1000)} s`;
}

/** A short axis label for a duration in µs: 10 µs, 1 ms, 250 ms, 2 s. */
export function formatMicrosShort(us) {
  if (us < 1000) return `${whole.format(us)} µs`;
  if (us < 1_000_000) return `${whole.format(us / 1000)} ms`;
  return `${whole.format(us / 1e6)} s`;
}

/** A signed offset in µs: +1,23 ms. */
export function formatOffset(us) {
  return `${us >= 0 ? "+" : "−"}${formatMicros(Math.abs(us))}`;
}

/** Seconds to a tenth, as a countdown says them: 1,1 (fr), 1.1 (en); no unit. */
export function formatTenths(seconds) {
  return oneDecimal.format(seconds);
}

/** How old something is, coarse on purpose (it is redrawn every second): 0,4 s, 12 s, 3 min. */
export function formatAge(us) {
  const s = Math.max(0, us / 1e6);
  if (s < 10) return `${oneDecimal.format(s)} s`;
  if (s < 120) return `${whole.format(s)} s`;
  return `${whole.format(s / 60)} min`;
}

/**
 * A share in whole percent; one that rounds to 0 % or 100 % without being it reads "< 1 %" or
 * "> 99 %" (1 empty answer in 250 is not "0 %").
 */
export function formatPercent(fraction) {
  if (fraction == null || Number.isNaN(fraction)) return "–";
  const percent = fraction * 100;
  if (percent > 0 && percent < 0.5) return `< ${whole.format(1)} %`;
  if (percent < 100 && percent >= 99.5) return `> ${whole.format(99)} %`;
  return `${whole.format(percent)} %`;
}

export function formatDecimal(n) {
  return n == null || Number.isNaN(n) ? "–" : n < 10 ? twoDecimals.format(n) : whole.format(n);
}

const upToTwoDecimals = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });

/** An event rate as the instructor typed it: 0,5 · 2 · 1 000 (no trailing zeros). */
export function formatRate(hz) {
  return hz == null || Number.isNaN(hz) ? "–" : upToTwoDecimals.format(hz);
}

const plurals = new Intl.PluralRules(locale);

/** "one" or "other" for `n`, by the page language's rules (French: 0,5 and 1 are singular). */
export function pluralOf(n) {
  return plurals.select(n) === "one" ? "one" : "other";
}

/** A duration given in ms, as settings are: 250 ms, 1 500 ms, 60 s (whole seconds from 10 s). */
export function formatMillis(ms) {
  if (ms == null || Number.isNaN(ms)) return "–";
  if (ms < 10_000) return `${whole.format(ms)} ms`;
  return `${upToTwoDecimals.format(ms / 1000)} s`;
}
