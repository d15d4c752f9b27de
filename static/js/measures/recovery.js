// measures/recovery.js — what a client's reconnections cost it: how many, after which seq it
// resumed, and how many events it never received across the last gap.
//
// The transport clients already resume (ws.js and longpoll's ?since=, SSE's Last-Event-ID); this
// only keeps the score, so that a panel can say "reconnected ×2 · resumed after seq 41 · missed 0".
// "Missed" is measured, not announced: the first event after the reconnection should be seq + 1,
// and every number skipped is an event this page lost (the server says the same with `missed` when
// its buffer no longer reaches back far enough).
//
// A takeover is scored the same way: this tab took the transport over from another tab of the
// browser (clients/tab-lease.js), from the last seq that tab saw.

import { t } from "../shared/i18n.js";

export class Recovery {
  constructor() {
    this.count = 0;
    /** Takeovers from another tab of this browser; `kind` says which the last gap was. */
    this.takeovers = 0;
    this.kind = "reconnect";
    this.afterSeq = null;
    /** Events lost across the last gap; null until the first event after it arrives. */
    this.missed = null;
    this.waiting = false;
    /** The last gap ended in a new run of the feed: its seq say nothing of the old run's. */
    this.newRunSeen = false;
  }

  /** A failed connection works again; `afterSeq` is the last seq seen before (null: none). */
  reconnected(afterSeq) {
    this.count += 1;
    this.gap("reconnect", afterSeq);
  }

  /** This tab took the transport over from another tab, which saw up to `afterSeq` (null: none). */
  tookOver(afterSeq) {
    this.takeovers += 1;
    this.gap("takeover", afterSeq);
  }

  gap(kind, afterSeq) {
    this.newRunSeen = false;
    this.kind = kind;
    this.afterSeq = afterSeq;
    this.waiting = afterSeq != null;
    this.missed = afterSeq == null ? 0 : null;
  }

  /**
   * The answer after the gap says a new run of the feed began (a reset): its first seq is no
   * measure of what was lost, so nothing is counted as missed (PROTOCOL.md "Runs of the feed").
   */
  newRun() {
    this.newRunSeen = true;
    this.waiting = false;
    this.missed = null;
  }

  /** Every delivered event's seq; only the first one after a reconnection matters. */
  delivered(seq) {
    if (!this.waiting) return;
    this.waiting = false;
    this.missed = Math.max(0, seq - this.afterSeq - 1);
  }

  /** The line a panel shows, or "" before any reconnection or takeover. */
  text() {
    const takeover = this.kind === "takeover";
    const count = takeover ? this.takeovers : this.count;
    if (count === 0) return "";
    const key = (part) => (takeover ? `recovery.takeover_${part}` : `recovery.${part}`);
    if (this.newRunSeen) return t(key("new_run"), { count });
    if (this.afterSeq == null) return t(key("fresh"), { count });
    const vars = { count, after: this.afterSeq, missed: this.missed };
    return t(key(this.waiting ? "waiting" : "summary"), vars);
  }

  /**
   * For the page's tests and curious readers: data-reconnects, data-takeovers (once there is one),
   * data-resumed-after, data-recovery-missed (of the last gap, either kind), data-recovery-run
   * ("new" when the gap ended in a new run).
   */
  describeInto(dataset) {
    dataset.reconnects = String(this.count);
    if (this.takeovers > 0) dataset.takeovers = String(this.takeovers);
    else delete dataset.takeovers;
    if (this.afterSeq != null) dataset.resumedAfter = String(this.afterSeq);
    else delete dataset.resumedAfter;
    if (this.missed != null) dataset.recoveryMissed = String(this.missed);
    else delete dataset.recoveryMissed;
    if (this.newRunSeen) dataset.recoveryRun = "new";
    else delete dataset.recoveryRun;
  }
}
