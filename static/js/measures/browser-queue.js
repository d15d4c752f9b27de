// measures/browser-queue.js — how long the browser kept a request waiting before sending it.
//
// A browser opens at most six HTTP/1.1 connections per server, for all its tabs. When they are all
// busy (held streams, held long polls), a new request waits inside the browser, not on the network
// nor at the server; DevTools shows it as "Queueing" and "Stalled". An event that waited with it
// would come out seconds "late", and that is not the transport's latency: pages leave such answers
// out of their latency figures, and say so. Resource Timing (W3C) gives the wait: from the fetch
// (fetchStart) to the request's first byte (requestStart), less name lookup and connection setup.

/**
 * A request that waited longer than this in the browser has its answer's latencies left out, ms.
 * Well above a loopback or LAN connection setup (a few ms) and well below a poll interval.
 */
export const QUEUED_LIMIT_MS = 250;

/** The wait of a PerformanceResourceTiming or PerformanceNavigationTiming entry, ms (null: unknown). */
export function queuedMs(entry) {
  if (!entry || !(entry.requestStart > 0)) return null; // no entry, or timing hidden (cross-origin)
  const lookup = entry.domainLookupEnd - entry.domainLookupStart;
  const connect = entry.connectEnd - entry.connectStart;
  return Math.max(0, entry.requestStart - entry.fetchStart - lookup - connect);
}
