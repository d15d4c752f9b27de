// live/stats-stream.js — follows GET /api/stats/stream: first `event: window` (the last 60
// one-second samples), then `event: stats` every second (the totals of /api/stats plus the
// newest sample). This traffic is not counted in any transport.

/**
 * onWindow(samples), onStats(stats) and onState("open" | "reconnecting" | "failed").
 * After a reconnection (a server restart, say) the window comes again and replaces the old one.
 */
export function followStats({ onWindow, onStats, onState }) {
  const source = new EventSource("/api/stats/stream");
  source.addEventListener("window", (message) => onWindow(JSON.parse(message.data).samples));
  source.addEventListener("stats", (message) => onStats(JSON.parse(message.data)));
  source.onopen = () => onState("open");
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? "failed" : "reconnecting");
  return source;
}
