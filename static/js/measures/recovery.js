// measures/recovery.js — what a client's reconnections cost it: how many, after which seq it
// resumed, and how many events it never received across the last gap.
//
// The transport clients already resume (ws.js and longpoll's ?since=, SSE's Last-Event-ID); this
// only keeps the score, so that a panel can say "reconnected ×2 · resumed after seq 41 · missed 0".
// "Missed" is measured, not announced: the first event after the reconnection should be seq + 1,
// and every number skipped is an event this page lost (the server says the same with `missed` when
// its buffer no longer reaches back far enough).

import { t } from "../shared/i18n.js";

export class Recovery {
  constructor() {
    this.count = 0;
    this.afterSeq = null;
    /** Events lost across the last gap; null until the first event after it arrives. */
    this.missed = null;
    this.waiting = false;
  }

  /** A failed connection works again; `afterSeq` is the last seq seen before (null: none). */
  reconnected(afterSeq) {
    this.count += 1;
    this.afterSeq = afterSeq;
    this.waiting = afterSeq != null;
    this.missed = afterSeq == null ? 0 : null;
  }

  /** Every delivered event's seq; only the first one after a reconnection matters. */
  delivered(seq) {
    if (!this.waiting) return;
    this.waiting = false;
    this.missed = Math.max(0, seq - this.afterSeq - 1);
  }

  /** The line a panel shows, or "" before any reconnection. */
  text() {
    if (this.count === 0) return "";
    if (this.afterSeq == null) return t("recovery.fresh", { count: this.count });
    const vars = { count: this.count, after: this.afterSeq, missed: this.missed };
    return t(this.waiting ? "recovery.waiting" : "recovery.summary", vars);
  }

  /** For the page's tests and curious readers: data-reconnects, data-resumed-after, data-recovery-missed. */
  describeInto(dataset) {
    dataset.reconnects = String(this.count);
    if (this.afterSeq != null) dataset.resumedAfter = String(this.afterSeq);
    else delete dataset.resumedAfter;
    if (this.missed != null) dataset.recoveryMissed = String(this.missed);
    else delete dataset.recoveryMissed;
  }
}
