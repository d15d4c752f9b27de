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
import { currentServer, onMove, onServerBack, serverUrl, socketUrl, suspect } from "../shared/cluster.js";

/** The stats socket's path (PROTOCOL.md: the same records as /api/stats/stream). */
export const STATS_SOCKET_PATH = "/api/stats/ws";
/** The last 60 one-second samples, asked again when the socket skipped one. */
export const STATS_WINDOW_PATH = "/api/stats/window";
/**
 * A record's sample more than this many µs after the previous one means the socket skipped a
 * second: the server samples on its own one-second tick and each socket sends on another, so a
 * late send (a loaded server) carries the newest sample twice and the next one never. The window
 * is then fetched again (one request at most at a time), so charts show no hole the server
 * does not have.
 */
const SKIPPED_SAMPLE_US = 1_800_000;

/**
 * onWindow(samples) (optional: pages without charts leave it out), onStats(stats) and
 * onState("open" | "reconnecting").
 * After a reconnection (a server restart, say) the window comes again and replaces the old one.
 * Returns { close() }.
 */
export function followStats({ onWindow, onStats, onState }) {
  const backoff = new Backoff();
  let socket = null;
  let retry = null;
  let closed = false;
  let lastSampleT = null;
  let refilling = false;
  /** A retry is waiting out its backoff. */
  let waiting = false;

  const refill = async () => {
    if (refilling) return;
    refilling = true;
    try {
      const response = await fetch(serverUrl(STATS_WINDOW_PATH), { cache: "no-store" });
      if (response.ok) onWindow((await response.json()).samples ?? []);
    } catch {
      // The socket reconnects by itself and brings the window then.
    } finally {
      refilling = false;
    }
  };

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
      if (record.type === "window") {
        lastSampleT = record.samples.at(-1)?.t ?? null;
        onWindow?.(record.samples);
      } else if (record.type === "stats") {
        const t = record.sample?.t;
        const skipped = t != null && lastSampleT != null && t - lastSampleT > SKIPPED_SAMPLE_US;
        if (t != null) lastSampleT = t;
        onStats(record);
        if (skipped && onWindow) refill();
      }
    };
    current.onclose = async () => {
      if (closed || current !== socket) return;
      onState("reconnecting");
      // Its server gone, the page moves (and onMove reconnects at once); else retry here.
      if (await suspect(server)) return;
      clearTimeout(retry);
      waiting = true;
      retry = setTimeout(() => {
        waiting = false;
        connect();
      }, backoff.next());
    };
  };
  connect();
  // A feed client of this page got through again: the server is back, retry now.
  onServerBack(() => {
    if (closed || !waiting) return;
    clearTimeout(retry);
    waiting = false;
    connect();
  });
  onMove(() => {
    if (closed) return;
    clearTimeout(retry);
    waiting = false;
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
