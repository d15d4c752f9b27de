// shared/cluster.js — the servers a page may follow the feed from: its own first, then the other
// servers of its cluster, as its server names them (--peer-url, written into the page as
// <span id="cluster" data-peers="http://… http://…">).
//
// Every feed client asks here for the address of a path (serverUrl, socketUrl). When a client
// cannot reach the server in use, it says so (suspect); the page then checks that server and, if
// it is down, moves to the next one that answers, and tells every client (onMove), which resumes
// there from its last seq and run. With a broker the cluster numbers events once for all
// servers, so the resume continues exactly: missed 0. A page without peers never moves.
//
// The classic page stays with its own server: the dashboard reads the page's document, which a
// browser allows only from the same origin.

/** How long a check of one server may take before it counts as not answering, in ms. */
const PROBE_TIMEOUT_MS = 2000;

const servers = [location.origin, ...peersOfPage()];
let current = 0;
let checking = null;
const listeners = new Set();

function peersOfPage() {
  const raw = document.getElementById("cluster")?.dataset.peers ?? "";
  return raw.split(/\s+/).filter((url) => /^https?:\/\//.test(url)).map((url) => url.replace(/\/$/, ""));
}

/** The origin of the server in use (this page's own until it moved). */
export function currentServer() {
  return servers[current];
}

/** True while the page follows its own server (it never moved, or has no peers). */
export function followsOwnServer() {
  return current === 0;
}

/**
 * The totals of transport `id` in `transports` (a stats record of the server in use) that this
 * page's own counts of it may stand beside: none for the classic page once the page has moved,
 * since the classic page stays with its own server (above), whose totals these are not.
 */
export function comparableTotals(transports, id) {
  return id === "classic" && current !== 0 ? null : transports?.[id];
}

/** Every server of the cluster the page knows, its own first. */
export function knownServers() {
  return [...servers];
}

/** The address of `path` on the server in use: relative while it is the page's own. */
export function serverUrl(path) {
  return current === 0 ? path : `${servers[current]}${path}`;
}

/** The ws:// or wss:// address of `path` on the server in use. */
export function socketUrl(path) {
  return `${servers[current].replace(/^http/, "ws")}${path}`;
}

const backListeners = new Set();

/**
 * A client of the page reached the server in use again after failing (a restart is over): calls
 * every `onServerBack` listener, so that whatever waits to retry (the stats socket's backoff,
 * up to seconds) tries now instead of showing the old run's figures meanwhile.
 */
export function serverBack() {
  for (const listener of backListeners) listener(servers[current]);
}

/** Calls `listener(origin)` each time a client of the page reached its server again (serverBack). */
export function onServerBack(listener) {
  backListeners.add(listener);
  return () => backListeners.delete(listener);
}

/** Calls `listener(fromOrigin, toOrigin)` each time the page moves to another server. */
export function onMove(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * A client could not reach `origin` (the server in use when it asked): if that server does not
 * answer now, moves to the next one that does. Resolves to true when the page moved. One check at
 * a time: clients that fail together share it.
 */
export function suspect(origin = servers[current]) {
  if (servers.length < 2 || origin !== servers[current]) return Promise.resolve(false);
  if (!checking) {
    checking = moveIfDown().finally(() => (checking = null));
  }
  return checking;
}

async function moveIfDown() {
  if (await answers(servers[current])) return false;
  for (let step = 1; step < servers.length; step += 1) {
    const next = (current + step) % servers.length;
    if (await answers(servers[next])) {
      const from = servers[current];
      current = next;
      for (const listener of listeners) listener(from, servers[current]);
      return true;
    }
  }
  return false;
}

/** Whether `origin` answers HTTP at all (its /healthz; the answer's content is not needed). */
async function answers(origin) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
  try {
    // no-cors: an opaque answer is still an answer; only a network failure means "down".
    await fetch(`${origin}/healthz`, { mode: "no-cors", cache: "no-store", signal: controller.signal });
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
