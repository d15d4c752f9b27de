// clients/push-client.js — what the SSE and WebSocket clients share: one connection the server
// pushes on, closed while the panel is paused, and reopened after a failure from the last seq seen.
//
// A subclass opens its connection in `open({ resuming })`, drops it in `disconnect()`, and calls
// `retryLater()` when the connection failed. `stop()` and `start()` are for the tab lease
// (tab-lease.js): another tab of the browser holds this transport, or this tab takes it over.

import { Backoff } from "./backoff.js";
import { isAhead } from "./resume.js";
import { onServerBack } from "../shared/cluster.js";
import { formatTenths } from "../shared/format.js";

export class PushClient {
  constructor(panel, reporter) {
    this.panel = panel;
    this.reporter = reporter;
    this.lastSeq = null;
    /** The run lastSeq belongs to (the server names it): sent back, so a restart is told apart. */
    this.epoch = null;
    this.backoff = new Backoff();
    /** Not this tab's to run: another tab of the browser holds the transport (see stop()). */
    this.stopped = false;
    /** A retry is waiting for its backoff delay (retryLater). */
    this.retryPending = false;
    panel.onPause((paused) => {
      if (paused) {
        this.close();
        return;
      }
      // What was published during the pause comes now: shown, not timed (its wait was the
      // pause's, not the transport's), as after a takeover or an outage.
      this.reporter.catchUpUntilNow();
      if (!this.stopped) this.open({ resuming: true });
    });
    // Another client of the page got through to the server again (a restart is over): retry
    // now rather than at the end of a backoff that grew while the server was down (up to 15 s).
    onServerBack(() => {
      if (!this.retryPending) return;
      clearTimeout(this.retryTimer);
      this.retryPending = false;
      if (!this.panel.paused && !this.stopped) this.open({ resuming: true });
    });
  }

  run() {
    if (!this.stopped) this.open({ resuming: false });
  }

  /** Where this client is: its last seq and that seq's run ({ seq, epoch }; null: nowhere yet). */
  position() {
    return this.lastSeq == null ? null : { seq: this.lastSeq, epoch: this.epoch };
  }

  /** Resumes from `position` (another tab's) at the next open; SseClient also rebuilds its id. */
  adopt({ seq, epoch }) {
    this.lastSeq = seq;
    this.epoch = epoch;
  }

  /** Another tab of this browser holds the transport: close, and open nothing until start(). */
  stop() {
    this.stopped = true;
    this.close();
  }

  /**
   * This tab holds the transport now. On a takeover, `after` is where the previous holder was:
   * the stream resumes after it (nothing missed), and the events published before now are shown
   * but not timed: their wait was the handover's, not the transport's.
   */
  start({ after = null, takeover = false } = {}) {
    this.stopped = false;
    if (takeover) {
      if (isAhead(after, this.position())) this.adopt(after);
      this.panel.tookOver(this.lastSeq);
      this.reporter.catchUpUntilNow();
    }
    if (!this.panel.paused) this.open({ resuming: takeover || this.lastSeq != null, takeover });
  }

  /**
   * After a failure: reopens after the next backoff delay unless the panel was paused meanwhile,
   * resuming from the last seq and its run (a restarted server answers with a reset).
   */
  async retryLater() {
    const delay = this.backoff.next();
    this.panel.setState("reconnecting", { seconds: formatTenths(delay / 1000) });
    this.retryPending = true;
    this.retryTimer = setTimeout(() => {
      this.retryPending = false;
      if (!this.panel.paused && !this.stopped) this.open({ resuming: true });
    }, delay);
  }

  close() {
    clearTimeout(this.retryTimer);
    this.retryPending = false;
    this.disconnect();
  }

  /**
   * Opens the connection again now, from the last seq and its run (the page moved to another
   * server of its cluster); while paused, only closes it.
   */
  reopenNow() {
    if (this.panel.paused) this.close();
    else this.open({ resuming: true });
  }
}
