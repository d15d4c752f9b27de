// clients/resume.js — the run of the feed a client follows (its epoch), and what a reset means.
//
// Each start of the server begins a new run, whose seq numbers start again at 1. A client sends
// its run back with its `since` (?since=S&epoch=E; an SSE id carries it as <epoch>:<seq>), and
// a server whose run is another one answers with a reset before its own events: the client then
// drops what it knew instead of taking the new run's seq 3 for the old run's seq 3.

import { t } from "../shared/i18n.js";
import { currentServer } from "../shared/cluster.js";

/** The server each panel's run came from (the page's own until a reset says otherwise). */
const runServers = new WeakMap();

/** The epoch parameter to add to a resume, "" before the server named its run. */
export function epochParam(epoch) {
  return epoch ? `&epoch=${encodeURIComponent(epoch)}` : "";
}

/**
 * A reset `{epoch, previous_epoch}` arrived: the panel says a new run began (the server
 * restarted, or the page now follows another server of its cluster that has its own run, with
 * no broker to share one), its reconnection counts no event as missed across the runs, and the
 * new run's events published until now are a catch-up (shown, not timed: their wait was the
 * restart's, not the transport's).
 */
export function announceRestart(panel, reset, reporter) {
  reporter?.catchUpUntilNow();
  const vars = { from: reset.previous_epoch ?? "?", to: reset.epoch };
  const server = currentServer();
  const moved = (runServers.get(panel) ?? location.origin) !== server;
  runServers.set(panel, server);
  panel.newRun();
  panel.setState("new_run");
  panel.showNotice(t(moved ? "notice.other_server_run" : "notice.restarted", vars));
}

/**
 * Whether position `theirs` ({ seq, epoch }, from another tab of this browser) is worth resuming
 * from rather than `mine`: I have none, or theirs is of another run (the tab that held the
 * transport last knows the newer run), or further on in the same run.
 */
export function isAhead(theirs, mine) {
  if (!theirs) return false;
  if (!mine) return true;
  return theirs.epoch !== mine.epoch || theirs.seq > mine.seq;
}
