// measures/own-counts.js — what this page counted of one transport ("this page" on a dashboard
// panel, "you" in a lab row): the counting half of the calls a transport client makes, and a redraw
// at most once per animation frame. Panel and LabRow extend it and say how to render(); one place
// adds up, so the two pages can never count differently.
//
// The page's counts sit beside the server's totals for all clients, so they must describe the
// same period: they are shown as they stood when the server's last totals arrived (shown), and
// they start again from zero when the server's period does (a reset by the instructor, a
// restart, a move to another server of the cluster: restartCounts), from `countsSince`.

import { LatencyHistogram } from "./percentiles.js";

/** Every count at zero. */
function zeros() {
  return { requests: 0, delivered: 0, empty: 0, missed: 0, bytesDown: 0, bytesUp: 0 };
}

export class OwnCounts {
  constructor() {
    this.mine = zeros();
    /** The counts as they stood at the server's last totals; null before any (then: mine). */
    this.shown = null;
    /** When this page's counts began (Date.now(), ms): the page's load, or the last restart. */
    this.countsSince = Date.now();
    /** This page's client latencies (µs) in the same period. */
    this.latency = new LatencyHistogram();
    this.renderScheduled = false;
  }

  /** What "this page" shows now: the counts at the server's last totals, or live before any. */
  get shownCounts() {
    return this.shown ?? this.mine;
  }

  /** The server's totals just arrived: the page's counts are read at the same instant. */
  alignWithServer() {
    this.shown = { ...this.mine };
    this.scheduleRender();
  }

  /** The server's period began again (reset, restart, another server): so do the page's counts. */
  restartCounts() {
    this.mine = zeros();
    this.shown = zeros();
    this.countsSince = Date.now();
    this.latency = new LatencyHistogram();
    this.scheduleRender();
  }

  countRequest() {
    this.mine.requests += 1;
    this.scheduleRender();
  }

  countEmpty() {
    this.mine.empty += 1;
    this.scheduleRender();
  }

  countMissed(count) {
    this.mine.missed += count;
    this.scheduleRender();
  }

  addBytesDown(bytes) {
    this.mine.bytesDown += bytes;
    this.scheduleRender();
  }

  addBytesUp(bytes) {
    this.mine.bytesUp += bytes;
    this.scheduleRender();
  }

  /** Redraws at the next animation frame, once however many counts changed before it. */
  scheduleRender() {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.render();
    });
  }

  /** Draws the numbers: the subclass's part. */
  render() {}
}
