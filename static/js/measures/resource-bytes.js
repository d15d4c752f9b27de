// measures/resource-bytes.js — the bytes of this page's own responses, as the browser reports them.
//
// PerformanceResourceTiming gives encodedBodySize (the body as received: measured) and
// transferSize. transferSize was meant to add the real header bytes, but current Chromium
// follows the Resource Timing spec, which hides them: transferSize = body + a flat 300 B.
// When that stand-in shows, the head is rebuilt from pushlab's format and the figure is an
// estimate; a browser that still reports real headers gives a measured figure.
// One PerformanceObserver serves every panel; entries are dispatched by URL path.

import { echoedOrigin, plainResponseHeadBytes } from "../wire/estimates.js";

/** What the spec puts in transferSize in place of the response's header bytes. */
const HEADER_STAND_IN_BYTES = 300;

const watchers = [];
let observer = null;
/** The observer's latest entries, for resourceTiming() when the timeline buffer was just emptied. */
const recent = [];
/** How many of the observer's latest entries are kept for resourceTiming(). */
const RECENT_ENTRIES = 64;
/** resourceTiming() looks this many times, this far apart, before saying it found nothing (ms). */
const TIMING_LOOKS = 10;
const TIMING_LOOK_EVERY_MS = 20;

/** Calls onEntry(entry) for every finished fetch or navigation whose path is exactly `path`. */
export function watchResources(path, onEntry) {
  startObserving();
  watchers.push({ path, onEntry });
}

/**
 * The response head's bytes: { bytes, measured }. Measured when the browser reports the real
 * header bytes of `entry`; else rebuilt for `answer` (wire/estimates.js: JSON_ANSWER,
 * CLASSIC_ANSWER) with a body of `bodyBytes`, an estimate.
 */
export function responseHeadBytes(entry, bodyBytes, answer) {
  if (entry && entry.transferSize > 0 && entry.transferSize - entry.encodedBodySize !== HEADER_STAND_IN_BYTES) {
    return { bytes: entry.transferSize - entry.encodedBodySize, measured: true };
  }
  // From another server of the cluster, the answer carries the CORS lines for this page.
  const foreign = entry ? echoedOrigin(new URL(entry.name).origin) : null;
  return { bytes: plainResponseHeadBytes(bodyBytes, answer, foreign), measured: false };
}

/**
 * Bytes received for one response: { bytes, measured }. `answer` says what pushlab sends for
 * that path (wire/estimates.js), to rebuild the head when the browser hides it. `measured` is
 * null when the entry tells nothing of how bytes are known (nothing came).
 */
export function receivedBytes(entry, answer) {
  // 0: nothing came over the network (an aborted request, e.g. a long poll paused on purpose):
  // 0 bytes, which says nothing of whether the others were measured or rebuilt.
  if (entry.transferSize === 0) return { bytes: 0, measured: null };
  const head = responseHeadBytes(entry, entry.encodedBodySize, answer);
  return { bytes: entry.encodedBodySize + head.bytes, measured: head.measured };
}

/**
 * The timing entry of this page's request for `url` (relative or absolute) started at or after
 * `startedAt` (performance.now()), or null when the browser reported none within about 200 ms.
 * Chromium has the entry as soon as the body is read; a few looks cover the other browsers.
 */
export async function resourceTiming(url, startedAt) {
  startObserving();
  const name = new URL(url, location.href).href;
  const matches = (entry) => entry.name === name && entry.startTime >= startedAt - 1;
  for (let look = 0; look < TIMING_LOOKS; look++) {
    const entry = performance.getEntriesByName(name, "resource").findLast(matches) ?? recent.findLast(matches);
    if (entry) return entry;
    await new Promise((resolve) => setTimeout(resolve, TIMING_LOOK_EVERY_MS));
  }
  return null;
}

function startObserving() {
  if (observer) return;
  if (typeof PerformanceObserver === "undefined") {
    throw new Error("this browser has no PerformanceObserver: bytes cannot be measured");
  }
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      recent.push(entry);
      if (recent.length > RECENT_ENTRIES) recent.shift();
      const path = new URL(entry.name).pathname;
      for (const watcher of watchers) {
        if (watcher.path === path) watcher.onEntry(entry);
      }
    }
  });
  observer.observe({ type: "resource" });
  // The timeline buffer holds 250 entries by default and polling fills it in minutes. The
  // observer gets every entry anyway, so the buffer is emptied whenever it is full.
  performance.addEventListener("resourcetimingbufferfull", () => performance.clearResourceTimings());
}
