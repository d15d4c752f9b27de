// request-rate.test.mjs — the lab's "you" and "class" requests per second are taken over one and
// the same span of the server's clock (issue 13: they were over 10 s and over 1 s).
// measures/request-rate.js runs in Node: no server, no browser.

import { test } from "node:test";
import assert from "node:assert/strict";
import { RATE_SPAN_US, RequestRate, SAMPLE_GAP_US } from "../../static/js/measures/request-rate.js";

const S = 1_000_000;
const T0 = 1_800_000_000 * S;

/** A page alone on its server: its requests are the class's, at `perSecond`, for `seconds`. */
function alone(perSecond, seconds, offsetUs) {
  const rate = new RequestRate();
  for (let second = 1; second <= seconds; second++) {
    for (let i = 0; i < perSecond; i++) {
      // Answered in this second (server clock), stamped by the page's clock.
      rate.request(T0 + (second - 1) * S + (i + 0.5) * (S / perSecond) - offsetUs);
    }
    rate.sample(T0 + second * S, perSecond);
  }
  return rate;
}

test("a page alone on the server: 'you' equals 'class', whatever the clocks' offset", () => {
  for (const offsetUs of [0, 3_600 * S, -42_000]) {
    const { you, class: all } = alone(5, 20, offsetUs).rates(offsetUs);
    assert.equal(all, 5);
    assert.equal(you, 5, `offset ${offsetUs} µs`);
  }
});

test("the span is the samples' (at most RATE_SPAN_US), the same for both rows", () => {
  const rate = alone(2, 30, 0);
  // A burst of 12 requests in the last second, all the page's: both rows see it over the same span.
  const last = rate.samples.at(-1).t;
  for (let i = 0; i < 12; i++) rate.request(last + 100 + i);
  rate.sample(last + S, 12);
  const { you, class: all } = rate.rates(0);
  assert.ok(rate.samples.at(-1).t - (rate.samples[0].t - rate.samples[0].coversUs) <= RATE_SPAN_US);
  assert.equal(you, all);
  assert.equal(all, (2 * 9 + 12) / 10);
});

test("no rate before a second of samples, nor 'you' without a clock offset", () => {
  const rate = new RequestRate();
  assert.deepEqual(rate.rates(0), { you: null, class: null });
  rate.request(T0 - S / 2);
  rate.sample(T0, 1);
  assert.equal(rate.rates(null).you, null);
  assert.equal(rate.rates(null).class, 1);
  assert.equal(rate.rates(0).you, 1);
});

test("a missing second is left out of both rows, not counted as a second without requests", () => {
  // A loaded machine: the stats connection skipped the sample of second 6.
  const rate = new RequestRate();
  for (let second = 1; second <= 10; second++) {
    for (let i = 0; i < 4; i++) rate.request(T0 + (second - 1) * S + (i + 0.5) * (S / 4));
    if (second !== 6) rate.sample(T0 + second * S, 4);
  }
  assert.ok(SAMPLE_GAP_US < 2 * S);
  const { you, class: all } = rate.rates(0);
  assert.equal(all, 4);
  assert.equal(you, 4);
  assert.equal(rate.samples.length, 9);
});

test("a reset empties both; the page's times stay bounded when no sample comes", () => {
  const rate = alone(3, 5, 0);
  rate.restart();
  assert.deepEqual(rate.rates(0), { you: null, class: null });
  for (let i = 0; i < 100_000; i++) rate.request(T0 + i * 10_000);
  assert.ok(rate.mine.length <= (2 * RATE_SPAN_US) / 10_000 + 1, `${rate.mine.length} times kept`);
});
