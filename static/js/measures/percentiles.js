// measures/percentiles.js — latency percentiles since the page loaded, in bounded memory.
//
// A page may stay open for a whole lecture at 100 events/s: keeping every latency would grow
// without end. Values go into logarithmic buckets 2 % wide instead, so p50/p95 are read to
// within about 1 % whatever the run length (the server does the same with HDR histograms).

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);

export class LatencyHistogram {
  constructor() {
    this.buckets = new Map();
    this.count = 0;
  }

  record(micros) {
    const bucket = micros < 1 ? 0 : Math.floor(Math.log(micros) / LOG_GROWTH) + 1;
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    this.count += 1;
  }

  /** The p-th percentile (0 < p ≤ 100) in µs, or null before the first value. */
  percentile(p) {
    if (this.count === 0) return null;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (const bucket of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(bucket);
      if (seen >= rank) return bucket === 0 ? 0 : GROWTH ** (bucket - 0.5);
    }
    return null;
  }
}
