// clients/feed-clients.js — the five transport clients of a page, built the same way on the
// dashboard (views: pages/dashboard/panel.js) and in the lab (views: pages/lab/figures.js): one
// client per transport, each drawing into its view and reporting latencies through its own
// LatencyReporter. The two that hold an HTTP/1.1 connection for good (SSE, long poll) run in one
// tab per browser (clients/tab-lease.js); in the other tabs their view says why it is paused.

import { TRANSPORT_IDS } from "../shared/transports.js";
import { LatencyReporter, watchHiddenTab } from "../measures/latency.js";
import { ClassicClient } from "./classic.js";
import { PollClient } from "./poll.js";
import { LongPollClient } from "./longpoll.js";
import { SseClient } from "./sse.js";
import { WsClient } from "./ws.js";
import { TabLease } from "./tab-lease.js";

/** The transports one tab per browser holds: each keeps one of the browser's six HTTP/1.1 connections. */
export const HELD_ONCE_PER_BROWSER = ["longpoll", "sse"];

/**
 * views: { classic, poll, longpoll, sse, ws }; offset: { offsetUs, rttUs } (filled in later is
 * fine: reporters read it at each event). Returns the clients, not yet running.
 */
export function createClients(views, offset, { classicRefreshSeconds, pollIntervalMs, longpollTimeoutMs, getAuthor }) {
  const reporters = Object.fromEntries(TRANSPORT_IDS.map((id) => [id, new LatencyReporter(id, offset)]));
  const clients = {
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
  for (const id of HELD_ONCE_PER_BROWSER) holdOncePerBrowser(id, clients[id], views[id]);
  // A hidden tab's timers are throttled: its latencies are left out, and each view says so.
  watchHiddenTab(reporters, (id, hiddenMs, leftOut, late) => views[id].noteHidden(hiddenMs, leftOut, late));
  return clients;
}

/**
 * Makes `client` (SSE or long poll: see stop()/start() in push-client.js and polling-loop.js) run
 * only while this tab holds the browser's lease on it. Pausing the view gives the lease back, so
 * that another tab can follow the transport meanwhile.
 */
function holdOncePerBrowser(id, client, view) {
  const lease = new TabLease(id, {
    granted: ({ after, takeover }) => {
      view.setLease("held");
      client.start({ after, takeover });
    },
    elsewhere: () => {
      client.stop();
      view.setLease("elsewhere");
    },
    position: () => client.position(),
  });
  view.setLease("none", { follow: () => lease.request() });
  client.stop(); // until granted
  view.onPause((paused) => {
    if (paused) {
      client.stop();
      lease.unwant();
      view.setLease("none");
    } else {
      view.setState("connecting");
      lease.want();
    }
  });
  const run = client.run.bind(client);
  client.run = () => {
    run();
    lease.want();
  };
}
