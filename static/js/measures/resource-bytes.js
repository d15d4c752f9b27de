// measures/resource-bytes.js — the bytes of this page's own responses, as the browser reports them.
//
// PerformanceResourceTiming gives encodedBodySize (the body as received: measured) and
// transferSize. transferSize was meant to add the real header bytes, but current Chromium
// follows the Resource Timing spec, which hides them: transferSize = body + a flat 300 B.
// When that stand-in shows, the head is rebuilt from pushlab's format and the figure is an
// estimate; a browser that still reports real headers gives a measured figure.
// One PerformanceObserver serves every panel; entries are dispatched by URL path.

import { plainResponseHeadBytes } from "../wire/estimates.js";

/** What the spec puts in transferSize in place of the response's header bytes. */
export const HEADER_STAND_IN_BYTES = 300;

const watchers = [];
let observer = null;

/** Calls onEntry(entry) for every finished fetch or navigation whose path is exactly `path`. */
export function watchResources(path, onEntry) {
  startObserving();
  watchers.push({ path, onEntry });
}

/**
 * Bytes received for one response: { bytes, measured }. `contentType` is what pushlab sends
 * for that path, used to rebuild the head when the browser hides it.
 */
export function receivedBytes(entry, contentType) {
  // 0: nothing came over the network (an aborted request, e.g. a long poll paused on purpose).
  if (entry.transferSize === 0) return { bytes: 0, measured: true };
  const headerBytes = entry.transferSize - entry.encodedBodySize;
  if (headerBytes !== HEADER_STAND_IN_BYTES) {
    return { bytes: entry.transferSize, measured: true };
  }
  return { bytes: entry.encodedBodySize + plainResponseHeadBytes(entry.encodedBodySize, contentType), measured: false };
}

function startObserving() {
  if (observer) return;
  if (typeof PerformanceObserver === "undefined") {
    throw new Error("this browser has no PerformanceObserver: bytes cannot be measured");
  }
  observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
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
