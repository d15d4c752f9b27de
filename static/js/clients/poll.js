// clients/poll.js — short polling: GET /api/poll?since=S, answered at once (often with nothing),
// then ask again after the interval chosen on the page.
//
// The cost shows in the panel: one request per interval whether or not anything happened,
// and an event waits on average half an interval before anyone asks for it.

import { PollingLoop } from "./polling-loop.js";
import { sleep } from "./backoff.js";
import { transportPath } from "../shared/transports.js";

export class PollClient extends PollingLoop {
  constructor(panel, reporter, { intervalMs }) {
    super(panel, reporter, transportPath("poll"));
    this.intervalMs = intervalMs;
  }

  setIntervalMs(ms) {
    this.intervalMs = ms;
  }

  pauseBetween(signal, _answer, _elapsedMs) {
    return sleep(this.intervalMs, signal);
  }
}
