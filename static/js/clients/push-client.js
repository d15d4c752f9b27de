// clients/push-client.js — what the SSE and WebSocket clients share: one connection the server
// pushes on, closed while the panel is paused, and reopened after a failure from the last seq seen.
//
// A subclass opens its connection in `open({ resuming })`, drops it in `disconnect()`, and calls
// `retryLater()` when the connection failed.

import { Backoff } from "./backoff.js";

export class PushClient {
  constructor(panel, reporter) {
    this.panel = panel;
    this.reporter = reporter;
    this.lastSeq = null;
    /** The run lastSeq belongs to (the server names it): sent back, so a restart is told apart. */
    this.epoch = null;
    this.backoff = new Backoff();
    panel.onPause((paused) => (paused ? this.close() : this.open({ resuming: true })));
  }

  run() {
    this.open({ resuming: false });
  }

  /**
   * After a failure: reopens after the next backoff delay unless the panel was paused meanwhile,
   * resuming from the last seq and its run (a restarted server answers with a reset).
   */
  async retryLater() {
    const delay = this.backoff.next();
    this.panel.setState("reconnecting", { seconds: (delay / 1000).toFixed(1) });
    this.retryTimer = setTimeout(() => {
      if (!this.panel.paused) this.open({ resuming: true });
    }, delay);
  }

  close() {
    clearTimeout(this.retryTimer);
    this.disconnect();
  }
}
