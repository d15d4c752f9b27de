// measures/request-rate.js — requests per second of this page ("you") and of the whole class,
// over one and the same span of the server's clock, so that the lab's two rows compare.
//
// The server sends one sample a second: the requests per second of the second that just ended
// at `t` (its clock, Unix µs). The class's rate over a span is what those samples add up to; the
// page's is how many of its own requests fall in the same span, its clock mapped onto the
// server's by the offset (measures/latency.js). A request is stamped when its answer arrived,
// after the server counted it. No DOM here: Node's tests call it directly.

/** The span both rates are averaged over (µs): the last ten samples. */
export const RATE_SPAN_US = 10_000_000;
/**
 * Two samples further apart than this (µs) have a second missing between them (the stats
 * connection skipped one on a loaded machine): the missing second is left out of both rows, since
 * the class's requests in it are unknown; each sample then stands for the one second before it.
 */
export const SAMPLE_GAP_US = 1_800_000;
/** What a sample stands for when the one before it is missing (µs): the server's tick. */
const SAMPLE_PERIOD_US = 1_000_000;
/** Below this span (µs) no rate is given: one request more or less would swing it. */
export const MIN_SPAN_US = 1_000_000;

export class RequestRate {
  constructor() {
    /** This page's requests, when their answers arrived (page clock, Unix µs), oldest first. */
    this.mine = [];
    /**
     * The server's samples, oldest first: { t (server clock, Unix µs), perSecond, coversUs }, each
     * standing for the span (t − coversUs, t].
     */
    this.samples = [];
  }

  /** One request of this page answered at `atUs` (page clock, Unix µs). */
  request(atUs) {
    this.mine.push(atUs);
    // Bounded even while no sample comes (the stats connection down): twice the span is kept.
    while (atUs - this.mine[0] > 2 * RATE_SPAN_US) this.mine.shift();
  }

  /** The server's sample of the second ended at `t` (µs): `perSecond` requests/s of the class. */
  sample(t, perSecond) {
    if (t == null || perSecond == null) return;
    const newest = this.samples.at(-1);
    if (newest && t <= newest.t) return; // the same sample again
    const coversUs = newest && t - newest.t <= SAMPLE_GAP_US ? t - newest.t : SAMPLE_PERIOD_US;
    this.samples.push({ t, perSecond, coversUs });
    while (t - (this.samples[0].t - this.samples[0].coversUs) > RATE_SPAN_US) this.samples.shift();
  }

  /** The period began again (reset, restart, another server). */
  restart() {
    this.mine = [];
    this.samples = [];
  }

  /**
   * { you, class } in requests/s over the spans the samples stand for (within the last
   * RATE_SPAN_US), each null when unknown: no offset yet (`offsetUs` null) or under MIN_SPAN_US.
   */
  rates(offsetUs) {
    let spanUs = 0;
    let classRequests = 0;
    for (const { perSecond, coversUs } of this.samples) {
      spanUs += coversUs;
      classRequests += perSecond * (coversUs / 1e6);
    }
    if (spanUs < MIN_SPAN_US) return { you: null, class: null };
    let you = null;
    if (offsetUs != null) {
      const first = this.samples[0];
      // Page times before the span are of no further use.
      while (this.mine.length && this.mine[0] + offsetUs <= first.t - first.coversUs) this.mine.shift();
      const inSpan = (at) => this.samples.some(({ t, coversUs }) => at + offsetUs > t - coversUs && at + offsetUs <= t);
      you = this.mine.filter(inSpan).length / (spanUs / 1e6);
    }
    return { you, class: classRequests / (spanUs / 1e6) };
  }
}
