// live/stats-stream.js — follows the server's stats on the WebSocket GET /api/stats/ws: first
// {"type":"window"} (the last 60 one-second samples), then {"type":"stats"} every second (the
// totals of /api/stats plus the newest sample). This traffic is not counted in any transport.
//
// Why a WebSocket and not /api/stats/stream (SSE, the same records): a browser keeps at most six
// HTTP/1.1 connections per server for ALL its tabs, and a stream held by every open page would
// spend one of them for good; WebSockets are counted apart. Reconnects by itself, with backoff.

import { Backoff } from "../clients/backoff.js";

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
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const current = new WebSocket(`${scheme}://${location.host}${STATS_SOCKET_PATH}`);
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
    current.onclose = () => {
      if (closed || current !== socket) return;
      onState("reconnecting");
      retry = setTimeout(connect, backoff.next());
    };
  };
  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      socket?.close(1000, "page done");
    },
  };
}
