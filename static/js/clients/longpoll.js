// clients/longpoll.js — long polling: GET /api/longpoll?since=S&timeout_ms=T. The server holds the
// request until an event exists (or T ms pass, answering empty); the page asks again at once.
//
// An event is handed over as soon as it exists, but each event (or each timeout) still costs a
// whole HTTP request and response, headers included.

import { PollingLoop } from "./polling-loop.js";
import { Backoff, sleep } from "./backoff.js";
import { transportPath } from "../shared/transports.js";

export class LongPollClient extends PollingLoop {
  constructor(panel, reporter, { timeoutMs }) {
    super(panel, reporter, transportPath("longpoll"));
    this.timeoutMs = timeoutMs;
    this.earlyEmpty = new Backoff({ firstMs: 250, maxMs: 5000 });
  }

  /**
   * Asks again at once, except after an empty answer that came well before the timeout: the
   * server is ending held polls (it is stopping), and asking again at once would spin.
   */
  async pauseBetween(signal, answer, elapsedMs) {
    if (answer.events.length === 0 && elapsedMs < this.timeoutMs / 2) {
      await sleep(this.earlyEmpty.next(), signal);
    } else {
      this.earlyEmpty.reset();
    }
  }

  setTimeoutMs(ms) {
    this.timeoutMs = ms;
  }

  url() {
    return `${this.path}?${this.resumeQuery()}timeout_ms=${this.timeoutMs}`;
  }
}
