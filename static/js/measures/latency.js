// measures/latency.js — end-to-end latency as a browser sees it, reported to the server.
//
// The server stamps each event with `ts` (its clock, Unix µs). The browser's clock is not the
// server's, so first we estimate the offset between them with Cristian's method: ask
// `/api/time` several times, and trust the round trip that was fastest, assuming the server
// read its clock halfway through it. Then latency = (our clock + offset) - event.ts.
// Latencies are sent in batches to `POST /api/client-metrics`, which folds them into the
// `client_latency_us` histogram of the transport (of the server the page follows now), with the
// round trip the offset came from: no latency is finer than half of it (measures/resolution.js).
//
// A hidden tab's timers are throttled by the browser (to one a second, later one a minute), so
// what it measures is the browser, not the transport: while the page is hidden
// (document.visibilityState, WHATWG HTML "Page visibility") its latencies are neither timed nor
// reported, and on its return what was published meanwhile is a catch-up (watchHiddenTab).
// A visible page can stand still too (a laptop put to sleep, a frozen tab, a long task): the
// events that waited in the browser meanwhile are then a catch-up as well (stoodStill).

import { currentServer, serverUrl } from "../shared/cluster.js";

/** Microseconds on a clock that runs like the wall clock but never jumps (performance.now). */
export function nowMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** Round trips to /api/time for one clock-offset estimate. */
export const OFFSET_ROUNDS = 8;

/**
 * Cristian's method: `rounds` requests to /api/time; the fastest round trip gives the offset.
 * Returns { offsetUs, rttUs, rounds }: add offsetUs to our clock to read the server's; it is
 * right to ± rttUs / 2.
 */
export async function estimateOffset(rounds = OFFSET_ROUNDS) {
  let best = null;
  for (let i = 0; i < rounds; i++) {
    const sent = nowMicros();
    const response = await fetch("/api/time", { cache: "no-store" });
    const { ts } = await response.json();
    const received = nowMicros();
    const rttUs = received - sent;
    if (best === null || rttUs < best.rttUs) {
      best = { offsetUs: ts + rttUs / 2 - received, rttUs, rounds };
    }
  }
  return best;
}

/** How often the page notes that its event loop runs (ms). */
const LOOP_TICK_MS = 250;
/**
 * A visible page whose event loop ran no timer for longer than this (ms) stood still: asleep,
 * frozen or busy. What it receives then waited in the browser, not in the transport.
 */
const STILL_LIMIT_MS = 1000;
/** When the page's event loop last ran a tick (performance.now, ms); null until one reporter starts it. */
let loopSeenAt = null;
/**
 * When the page last came back from standing still (nowMicros(), page clock), as its tick saw
 * it: null if never. After a stop, the browser may run the tick before the messages that
 * waited (timers and network are separate task sources): what was published before this
 * instant waited in the page all the same (measures a CI run timed a 4 s stop as ws latency).
 */
let stillEndedUs = null;

/** Starts the event loop's tick (once per page). */
function watchLoop() {
  if (loopSeenAt != null) return;
  loopSeenAt = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - loopSeenAt > STILL_LIMIT_MS) stillEndedUs = nowMicros();
    loopSeenAt = now;
  }, LOOP_TICK_MS);
}

/** True when the page's event loop has run no tick for over STILL_LIMIT_MS. */
function stoodStill() {
  return loopSeenAt != null && performance.now() - loopSeenAt > STILL_LIMIT_MS;
}

/**
 * Collects latencies of one transport and posts them in batches: every `everyMs`, or at once
 * when `batch` are waiting (at most 1000, the server's bound per report). The server limits
 * reports per client address (reports_per_min): after a 429 this reporter keeps quiet for the
 * Retry-After it was given, and what it could not send is dropped (the figures are samples).
 */
export class LatencyReporter {
  constructor(transport, offset, { batch = 1000, everyMs = 2000 } = {}) {
    this.transport = transport;
    this.offset = offset;
    this.pending = [];
    this.batch = Math.min(batch, 1000);
    this.quietUntil = 0;
    this.timer = setInterval(() => this.flush(), everyMs);
    watchLoop();
    /** Events published before this (server clock, µs) are catching up: not timed. */
    this.catchUpBeforeUs = -Infinity;
    /**
     * Events of the page's last hidden spell, shown but not timed: those received while hidden,
     * and those published before its return that arrive after it (a throttled poll's answer, a
     * stream's backlog). Reset when the page is hidden again.
     */
    this.hiddenLeftOut = 0;
    /** When the page was last shown again (server clock, µs): events published before it are the hidden spell's. */
    this.shownAgainAtUs = -Infinity;
    /** Called with hiddenLeftOut when an event of the hidden spell arrives after the return (watchHiddenTab). */
    this.onLateLeftOut = null;
  }

  /** The page is hidden: a new hidden spell starts, with nothing left out yet. */
  hidden() {
    this.hiddenLeftOut = 0;
    this.onLateLeftOut = null;
  }

  /**
   * The page is shown again: what was published until now is the hidden spell's catch-up, and
   * `onLateLeftOut(count)` hears of each of its events that arrives from now on.
   */
  shownAgain(onLateLeftOut) {
    this.catchUpUntilNow();
    this.shownAgainAtUs = this.catchUpBeforeUs;
    this.onLateLeftOut = onLateLeftOut;
  }

  /**
   * The events published until now are a catch-up (this tab took the transport over from another
   * tab, and the stream replays what that tab saw last): shown, but not timed, since their wait
   * was the handover's, not the transport's.
   */
  catchUpUntilNow() {
    this.catchUpBeforeUs = nowMicros() + this.offset.offsetUs;
  }

  /**
   * Records the latency of an event received at `receivedUs` (nowMicros(): now, by default);
   * returns it in µs, or null for an event of a catch-up (see catchUpUntilNow), which is not
   * recorded.
   */
  record(event, receivedUs = nowMicros()) {
    if (document.visibilityState === "hidden") {
      this.hiddenLeftOut += 1;
      return null;
    }
    // The page stood still (its queued messages are being read now): what was published until
    // now waited for the page, not for the transport.
    const still = stoodStill();
    if (still) this.catchUpUntilNow();
    // The tick saw the page come back before this message was read: what was published before
    // then waited in the page too.
    if (stillEndedUs != null) {
      this.catchUpBeforeUs = Math.max(this.catchUpBeforeUs, stillEndedUs + this.offset.offsetUs);
    }
    if (still || event.ts < this.catchUpBeforeUs) {
      // Published while the page was hidden, arriving only now: the hidden spell's notice
      // counts it too, or it would say fewer events than went untimed.
      if (event.ts < this.shownAgainAtUs && this.onLateLeftOut) {
        this.hiddenLeftOut += 1;
        this.onLateLeftOut(this.hiddenLeftOut);
      }
      return null;
    }
    // A fast loopback delivery can come out a few µs negative from the offset's own error
    // (± half the round trip): that is clamped to 0 here; the server refuses negative values.
    const latency = Math.max(0, Math.round(receivedUs + this.offset.offsetUs - event.ts));
    this.pending.push(latency);
    if (this.pending.length >= this.batch) this.flush();
    return latency;
  }

  async flush() {
    // Hidden, nothing is timed, and what was timed before waits for the page's return.
    if (this.pending.length === 0 || document.visibilityState === "hidden") return;
    const latencies_us = this.pending.splice(0, 1000);
    // Reports go to the page's own server only: another server of the cluster does not take
    // them from this page's origin (they are not among the endpoints CORS opens), and its own
    // pages report there.
    if (currentServer() !== location.origin) return;
    if (Date.now() < this.quietUntil) return;
    try {
      const response = await fetch(serverUrl("/api/client-metrics"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          transport: this.transport,
          latencies_us,
          offset_us: Math.round(this.offset.offsetUs),
          ...(this.offset.rttUs > 0 ? { rtt_us: Math.round(this.offset.rttUs) } : {}),
        }),
      });
      if (response.status === 429) {
        const seconds = Number(response.headers.get("Retry-After")) || 60;
        this.quietUntil = Date.now() + seconds * 1000;
      } else if (!response.ok) {
        console.warn("client metrics refused", response.status, await response.text());
      }
    } catch (error) {
      console.warn("client metrics not sent", error);
    }
  }

  stop() {
    clearInterval(this.timer);
    this.flush();
  }
}

/**
 * Leaves a hidden page's latencies out and says so on its return: while hidden, `reporters`
 * time nothing (see record()); when the page is shown again, what was published meanwhile is a
 * catch-up (a throttled poll may bring it late), and `onReturn(id, hiddenMs, leftOut, { late })`
 * is called per transport with how long the page was hidden and how many of its events were left
 * out: once on the return (late: false), then again with the new count each time an event
 * published while hidden arrives after it (late: true).
 */
export function watchHiddenTab(reporters, onReturn) {
  let hiddenAt = document.visibilityState === "hidden" ? performance.now() : null;
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      if (hiddenAt != null) return;
      hiddenAt = performance.now();
      for (const reporter of Object.values(reporters)) reporter.hidden();
      return;
    }
    if (hiddenAt == null) return;
    const hiddenMs = performance.now() - hiddenAt;
    hiddenAt = null;
    for (const [id, reporter] of Object.entries(reporters)) {
      reporter.shownAgain((leftOut) => onReturn(id, hiddenMs, leftOut, { late: true }));
      onReturn(id, hiddenMs, reporter.hiddenLeftOut, { late: false });
    }
  });
}
