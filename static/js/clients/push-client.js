// clients/push-client.js — what the SSE and WebSocket clients share: one connection the server
// pushes on, closed while the panel is paused, and reopened after a failure from the last seq seen.
//
// A subclass opens its connection in `open({ resuming })`, drops it in `disconnect()`, and calls
// `retryLater()` when the connection failed.

import { Backoff } from "./backoff.js";
import { t } from "../shared/i18n.js";
import { feedRestarted } from "./resume.js";

export class PushClient {
  constructor(panel, reporter) {
    this.panel = panel;
    this.reporter = reporter;
    this.lastSeq = null;
    this.backoff = new Backoff();
    panel.onPause((paused) => (paused ? this.close() : this.open({ resuming: true })));
  }

  run() {
    this.open({ resuming: false });
  }

  /**
   * After a failure: forgets a seq that a restarted server never sent (a resume from it would be
   * refused), then reopens after the next backoff delay unless the panel was paused meanwhile.
   */
  async retryLater() {
    if (await feedRestarted(this.lastSeq)) {
      this.lastSeq = null;
      this.panel.showNotice(t("notice.restarted"));
    }
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
