// measures/own-counts.js — what this page counted of one transport ("this page" on a dashboard
// panel, "you" in a lab row): the counting half of the calls a transport client makes, and a redraw
// at most once per animation frame. Panel and LabRow extend it and say how to render(); one place
// adds up, so the two pages can never count differently.
//
// The page's counts sit beside the server's totals for all clients, so they must describe the
// same period and the same instant, or "this page" could exceed "all clients":
// - the period: they start again from zero when the server's does (a reset by the instructor, a
//   restart, a move to another server of the cluster: restartCounts), from `countsSince`;
// - the instant: a client counts a request when its answer arrives (the server counted it on
//   arrival) and an event or a byte when it is received (the server counted it when writing),
//   and the page keeps its recent counts with the time they changed (the history); when the
//   server's totals read at `at` (its clock) come in, the page shows its counts as they stood
//   at `at` by the clock offset, less the offset's uncertainty (half its round trip): what this
//   page had counted by then, the server had certainly counted too.
import { LatencyHistogram } from "./percentiles.js";
import { nowMicros } from "./latency.js";
import { t } from "../shared/i18n.js";
import { pluralOf } from "../shared/format.js";

/**
 * Changes of the counts less than this apart (µs) share one entry of the history: the entry keeps
 * the time of the latest, so a state is only ever shown later than it was (never more than the
 * server counted), and the history holds at most one entry per millisecond.
 */
const HISTORY_STEP_US = 1_000;
/**
 * Entries kept between two server totals (one per HISTORY_STEP_US at most: 4 s of changes,
 * about 100 bytes each, 0.4 MB per transport at worst). Past it the oldest are dropped: the
 * totals that come next are read after them anyway (they only go missing while the stats
 * connection is down, when nothing is aligned).
 */
const HISTORY_LIMIT = 4_096;
/**
 * Without a clock offset yet (the page's first second), the counts are read as they stood this
 * long before the totals arrived (µs): the stats stream's one-second period, a margin far above a
 * record's way from the server to the page.
 */
const UNALIGNED_LAG_US = 1_000_000;
/**
 * Requests whose sending and counting times are kept (about 50 bytes each), to put a request in
 * flight across the start of a period in the period it was sent in, as the server does. A page
 * has a handful in flight at once; 64 reach far beyond the few seconds between a period's start
 * and its news.
 */
const RECENT_REQUESTS = 64;

/** Every count at zero. */
function zeros() {
  return { requests: 0, delivered: 0, empty: 0, missed: 0, bytesDown: 0, bytesUp: 0 };
}

/** Each count of `a` less the same count of `b`. */
function minus(a, b) {
  return Object.fromEntries(Object.entries(a).map(([name, value]) => [name, value - b[name]]));
}

export class OwnCounts {
  constructor() {
    this.mine = zeros();
    /** The counts as they stood at the server's last totals; null before any (then: mine). */
    this.shown = null;
    /** The counts before the oldest entry of the history. */
    this.base = zeros();
    /** Recent states of the counts, oldest first: { firstUs, atUs (page clock, µs), counts }. */
    this.history = [];
    /** When this page's counts began (Date.now(), ms): the page's load, or the last restart. */
    this.countsSince = Date.now();
    /** This page's client latencies (µs) in the same period. */
    this.latency = new LatencyHistogram();
    /** The latest requests counted: { sentUs, atUs } (nowMicros), oldest first. */
    this.recentRequests = [];
    /** When the counts' period began (nowMicros clock; see restartCounts). */
    this.periodFromUs = -Infinity;
    /** While an answer is counted as of its request's sending (countAnswerSentAt): that time. */
    this.datedUs = null;
    this.renderScheduled = false;
  }

  /**
   * Counts an answer as the server counted it: all at once, when its request arrived (the
   * classic page, rendered as it is asked, counted and delivered on arrival). `count()` makes
   * the counting calls, dated `sentUs` (nowMicros, when the request left) instead of now. An
   * answer to a request sent before the period began (the instructor reset meanwhile, and the
   * page heard of it first) is the ended period's: shown, not counted, as the server counted it
   * in the period that ended; otherwise "this page" would stay one load above "all clients".
   */
  countAnswerSentAt(sentUs, count) {
    if (sentUs < this.periodFromUs) {
      const kept = { ...this.mine };
      count();
      this.mine = kept;
      this.changed();
      return;
    }
    this.datedUs = Math.max(sentUs, this.history.at(-1)?.atUs ?? -Infinity);
    try {
      count();
    } finally {
      this.datedUs = null;
    }
  }

  /** What "this page" shows now: the counts at the server's last totals, or live before any. */
  get shownCounts() {
    return this.shown ?? this.mine;
  }

  /**
   * The server's totals read at `atUs` (Unix µs, server clock; null: unknown) just arrived: the
   * page's counts are shown as they stood then. `offset` ({ offsetUs, rttUs }, may be empty) maps
   * the server's clock onto the page's (measures/latency.js).
   */
  alignWithServer(atUs, offset) {
    const known = atUs != null && offset?.rttUs > 0;
    const cutoffUs = known ? atUs - offset.offsetUs - offset.rttUs / 2 : nowMicros() - UNALIGNED_LAG_US;
    this.base = this.countsAt(cutoffUs);
    this.history = this.history.filter((entry) => entry.atUs > cutoffUs);
    this.shown = { ...this.base };
    this.scheduleRender();
  }

  /** A count changed now: the history remembers the new state (see HISTORY_STEP_US). */
  changed() {
    const atUs = this.datedUs ?? nowMicros();
    const newest = this.history.at(-1);
    if (newest && atUs - newest.firstUs < HISTORY_STEP_US) {
      newest.atUs = atUs;
      newest.counts = { ...this.mine };
    } else {
      this.history.push({ firstUs: atUs, atUs, counts: { ...this.mine } });
      if (this.history.length > HISTORY_LIMIT) this.base = this.history.splice(0, this.history.length - HISTORY_LIMIT).at(-1).counts;
    }
    this.scheduleRender();
  }

  /**
   * The server's period began again (reset, restart, another server) at `fromUs` (this page's
   * clock, nowMicros; live/stats-period.js says when): so do the page's counts. What the page
   * counted after it (a reconnection's request, its catch-up) is kept, from the history; what
   * the history no longer tells apart is left with the old period.
   */
  restartCounts(fromUs = nowMicros()) {
    this.periodFromUs = fromUs;
    const before = this.countsAt(fromUs);
    // Sent before the period began, answered after: the server counted it (on arrival) in the
    // period that ended, and so does the page.
    const sentBefore = (atUs) => this.recentRequests.filter((r) => r.sentUs < fromUs && r.atUs > fromUs && r.atUs <= atUs).length;
    const kept = (counts, atUs) => {
      const left = minus(counts, before);
      left.requests -= sentBefore(atUs);
      return left;
    };
    this.mine = kept(this.mine, Infinity);
    this.history = this.history.filter((entry) => entry.atUs > fromUs).map((entry) => ({ ...entry, counts: kept(entry.counts, entry.atUs) }));
    this.base = zeros();
    this.shown = zeros();
    this.countsSince = Math.min(Date.now(), Math.round(fromUs / 1000));
    this.latency = new LatencyHistogram();
    this.scheduleRender();
  }

  /** The counts as they stood at `atUs` (nowMicros): the newest state recorded by then. */
  countsAt(atUs) {
    let counts = this.base;
    for (const entry of this.history) {
      if (entry.atUs > atUs) break;
      counts = entry.counts;
    }
    return counts;
  }

  /** One event received, with its latency (µs; null: shown but not timed). */
  countDelivered(latencyUs) {
    this.mine.delivered += 1;
    if (latencyUs != null) this.latency.record(latencyUs);
    this.changed();
  }

  /** A request's answer came now; it was sent at `sentUs` (nowMicros; default: now). */
  countRequest(sentUs = nowMicros()) {
    this.mine.requests += 1;
    this.recentRequests.push({ sentUs, atUs: this.datedUs ?? nowMicros() });
    if (this.recentRequests.length > RECENT_REQUESTS) this.recentRequests.shift();
    this.changed();
  }

  countEmpty() {
    this.mine.empty += 1;
    this.changed();
  }

  countMissed(count) {
    this.mine.missed += count;
    this.changed();
  }

  addBytesDown(bytes) {
    this.mine.bytesDown += bytes;
    this.changed();
  }

  addBytesUp(bytes) {
    this.mine.bytesUp += bytes;
    this.changed();
  }

  /**
   * The page was hidden `ms`, and `leftOut` events arrived meanwhile, shown but not timed
   * (measures/latency.js, watchHiddenTab): the notice says so. None arrived because another tab
   * of this browser held the transport, or it was paused: the notice says that instead, rather
   * than "0 events left out" as if the transport had been idle. `late`: a new count, after the
   * return, of the same hidden spell.
   */
  noteHidden(ms, leftOut, { late = false } = {}) {
    this.element.dataset.hiddenLeftOut = String(leftOut);
    const seconds = Math.round(ms / 1000);
    let key = pluralOf(leftOut) === "one" && leftOut > 0 ? "notice.hidden_one" : "notice.hidden";
    if (leftOut === 0 && this.element.dataset.lease === "elsewhere") key = "notice.hidden_elsewhere";
    else if (leftOut === 0 && this.paused) key = "notice.hidden_paused";
    this.element.dataset.hiddenNotice = key;
    // A late count (an event of the hidden spell arriving after the return) corrects the notice
    // while it is the one shown; a newer notice (a restart, a move) is not pushed aside for it.
    if (late && this.noticeMessage !== this.hiddenNoticeMessage) return;
    this.hiddenNoticeMessage = t(key, { seconds, n: leftOut });
    this.showNotice(this.hiddenNoticeMessage);
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
