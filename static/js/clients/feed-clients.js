// clients/feed-clients.js — the five transport clients of a page, built the same way on the
// dashboard (views: pages/dashboard/panel.js) and in the lab (views: pages/lab/figures.js): one
// client per transport, each drawing into its view and reporting latencies through its own
// LatencyReporter.

import { TRANSPORT_IDS } from "../shared/transports.js";
import { LatencyReporter } from "../measures/latency.js";
import { ClassicClient } from "./classic.js";
import { PollClient } from "./poll.js";
import { LongPollClient } from "./longpoll.js";
import { SseClient } from "./sse.js";
import { WsClient } from "./ws.js";

/**
 * views: { classic, poll, longpoll, sse, ws }; offset: { offsetUs, rttUs } (filled in later is
 * fine: reporters read it at each event). Returns the clients, not yet running.
 */
export function createClients(views, offset, { classicRefreshSeconds, pollIntervalMs, longpollTimeoutMs, getAuthor }) {
  const reporters = Object.fromEntries(TRANSPORT_IDS.map((id) => [id, new LatencyReporter(id, offset)]));
  return {
    classic: new ClassicClient(views.classic, reporters.classic, {
      refreshSeconds: classicRefreshSeconds,
      getAuthor,
      getOffset: () => offset,
    }),
    poll: new PollClient(views.poll, reporters.poll, { intervalMs: pollIntervalMs }),
    longpoll: new LongPollClient(views.longpoll, reporters.longpoll, { timeoutMs: longpollTimeoutMs }),
    sse: new SseClient(views.sse, reporters.sse),
    ws: new WsClient(views.ws, reporters.ws),
  };
}
