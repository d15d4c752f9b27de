// live/stats-stream.js — follows the server's stats on the WebSocket GET /api/stats/ws: first
// {"type":"window"} (the last 60 one-second samples), then {"type":"stats"} every second (the
// totals of /api/stats plus the newest sample). This traffic is not counted in any transport.
//
// Why a WebSocket and not /api/stats/stream (SSE, the same records): a browser keeps at most six
// HTTP/1.1 connections per server for ALL its tabs, and a stream held by every open page would
// spend one of them for good; WebSockets are counted apart. Reconnects by itself, with backoff.
// In a cluster the stats are those of the server the page follows now (each record names it):
// when that server is gone the page moves to another (shared/cluster.js), and the socket with it.

import { Backoff } from "../clients/backoff.js";
import { currentServer, onMove, socketUrl, suspect } from "../shared/cluster.js";

/** The stats socket's path (PROTOCOL.md: the same records as /api/stats/stream). */
export const STATS_SOCKET_PATH = "/api/stats/ws";

/**
 * onWindow(samples), onStats(stats) and onState("open" | "reconnecting").
 * After a reconnection (a server restart, say) the window comes again and replaces the old one.
 * Returns { close() }.
 */
export function followStats({ onWindow, onStats, onState }) {
  const backoff = new Backoff();
  let socket = null;
  let retry = null;
  let closed = false;

  const connect = () => {
    const server = currentServer();
    const current = new WebSocket(socketUrl(STATS_SOCKET_PATH));
    socket = current;
    current.onopen = () => {
      backoff.reset();
      onState("open");
    };
    current.onmessage = (message) => {
      const record = JSON.parse(message.data);
      if (record.type === "window") onWindow(record.samples);
      else if (record.type === "stats") onStats(record);
    };
    current.onclose = async () => {
      if (closed || current !== socket) return;
      onState("reconnecting");
      // Its server gone, the page moves (and onMove reconnects at once); else retry here.
      if (await suspect(server)) return;
      clearTimeout(retry);
      retry = setTimeout(connect, backoff.next());
    };
  };
  connect();
  onMove(() => {
    if (closed) return;
    clearTimeout(retry);
    const old = socket;
    socket = null;
    old?.close(1000, "moved to another server");
    connect();
  });
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      socket?.close(1000, "page done");
    },
  };
}
