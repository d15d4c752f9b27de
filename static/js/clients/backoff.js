// clients/backoff.js — how long to wait before the next reconnection attempt.
//
// Exponential (0.5 s, 1 s, 2 s, ... capped) with ±25 % jitter: after a server restart, a room
// of thirty tabs must not reconnect in lockstep and hit the server at the same millisecond.

export class Backoff {
  constructor({ firstMs = 500, maxMs = 15000 } = {}) {
    this.firstMs = firstMs;
    this.maxMs = maxMs;
    this.attempt = 0;
  }

  /** The delay before the next attempt, in ms; each call doubles the next one. */
  next() {
    const base = Math.min(this.maxMs, this.firstMs * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  /** A success: the next failure starts again from the first delay. */
  reset() {
    this.attempt = 0;
  }
}

export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
