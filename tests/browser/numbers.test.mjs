// numbers.test.mjs — the page's numbers in French and English (static/js/shared/numbers.js): the
// rules the tables and the chart axes follow. Runs in Node: no server, no browser.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  bytesAxisLabels, bytesText, linearAxisLabels, microsAxisLabels, sharedDecimals, timeAxisLabels,
} from "../../static/js/shared/numbers.js";

/** U+202F, the narrow no-break space French puts between thousands. */
const NNBSP = "\u202f";

test("bytes in a table: o / ko / Mo in French with a decimal comma, B / kB / MB in English", () => {
  assert.equal(bytesText(268, "fr", "fr-FR"), "268 o");
  assert.equal(bytesText(4567, "fr", "fr-FR"), `4${NNBSP}567 o`);
  assert.equal(bytesText(12_345, "fr", "fr-FR"), "12,3 ko");
  assert.equal(bytesText(4_560_000, "fr", "fr-FR"), `4${NNBSP}560,0 ko`);
  assert.equal(bytesText(45_600_000, "fr", "fr-FR"), "45,60 Mo");
  assert.equal(bytesText(268, "en", "en-GB"), "268 B");
  assert.equal(bytesText(4567, "en", "en-GB"), "4,567 B");
  assert.equal(bytesText(12_345, "en", "en-GB"), "12.3 kB");
  assert.equal(bytesText(45_600_000, "en", "en-GB"), "45.60 MB");
  assert.equal(bytesText(null, "fr", "fr-FR"), "–");
  assert.equal(bytesText(Number.NaN, "en", "en-GB"), "–");
});

test("a linear axis writes every tick with the same decimals", () => {
  assert.equal(sharedDecimals([0, 2, 4, 6, 8, 10, 12]), 0);
  assert.equal(sharedDecimals([0, 0.5, 1, 1.5]), 1);
  assert.equal(sharedDecimals([0, 0.25, 0.5, 0.75, 1]), 2);
  assert.equal(sharedDecimals([0, 0.1 + 0.2, 0.6]), 1, "floating-point noise is not a decimal");
  // Before: 0.00, 2.00 … 8.00, then 10, 12 — two formats on one axis.
  assert.deepEqual(linearAxisLabels([0, 2, 4, 6, 8, 10, 12], "en-GB"), ["0", "2", "4", "6", "8", "10", "12"]);
  assert.deepEqual(linearAxisLabels([0, 0.5, 1, 1.5], "fr-FR"), ["0,0", "0,5", "1,0", "1,5"]);
  assert.deepEqual(linearAxisLabels([0, 0.5, 1, 1.5], "en-GB"), ["0.0", "0.5", "1.0", "1.5"]);
  assert.deepEqual(linearAxisLabels([0, 500, 1000, 1500], "fr-FR"), ["0", "500", `1${NNBSP}000`, `1${NNBSP}500`]);
  for (const ticks of [[0, 0.2, 0.4, 0.6, 0.8, 1, 1.2], [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55], [0, 0.05, 0.1, 0.15]]) {
    for (const locale of ["fr-FR", "en-GB"]) {
      const labels = linearAxisLabels(ticks, locale);
      const decimals = new Set(labels.map((label) => label.split(/[.,]/)[1]?.length ?? 0));
      assert.equal(decimals.size, 1, `one format for ${labels.join(" | ")}`);
    }
  }
});

test("a log byte axis labels the powers of ten, whole numbers of a unit of the page's language", () => {
  const ticks = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 10_000, 100_000, 1_000_000];
  assert.deepEqual(bytesAxisLabels(ticks, "fr", "fr-FR").filter(Boolean), ["1 o", "10 o", "100 o", "1 ko", "10 ko", "100 ko", "1 Mo"]);
  assert.deepEqual(bytesAxisLabels(ticks, "en", "en-GB").filter(Boolean), ["1 B", "10 B", "100 B", "1 kB", "10 kB", "100 kB", "1 MB"]);
  assert.equal(bytesAxisLabels([2, 3, 4], "fr", "fr-FR").join(""), "", "ticks between powers of ten have no label");
});

test("a log duration axis (µs) labels the powers of ten as whole µs, ms or s", () => {
  const ticks = [10, 100, 1000, 3000, 10_000, 100_000, 1_000_000, 10_000_000];
  assert.deepEqual(microsAxisLabels(ticks, "fr-FR").filter(Boolean), ["10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
});

test("a time axis gives the clock time of the page's language, the day once", () => {
  const t0 = Date.UTC(2026, 5, 12, 14, 42, 30) / 1000; // 12 June 2026, 14:42:30 UTC
  const fr = timeAxisLabels([t0, t0 + 15, t0 + 30], "fr-FR", { timeZone: "UTC" });
  assert.deepEqual(fr, ["14:42:30\n12 juin", "14:42:45", "14:43:00"]);
  const en = timeAxisLabels([t0, t0 + 15], "en-GB", { timeZone: "UTC" });
  assert.deepEqual(en, ["14:42:30\n12 Jun", "14:42:45"]);
  // Never the US default of a chart library (6/12/26 2:42pm), never a 12-hour clock.
  assert.doesNotMatch(fr.join(" ") + en.join(" "), /pm|am|\//i);
});
