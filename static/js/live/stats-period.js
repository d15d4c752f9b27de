// live/stats-period.js — since when the server's totals count, and news when that changes.
//
// Every stats record carries `since` (the start of the measurement period, Unix µs: the server's
// start or the instructor's last reset), `resets` (how many resets since the start) and the
// server that gave it. A page keeps the last of them: when the period begins again it says so in
// words (a reset by the instructor, a restart, another server of the cluster), once, in every open
// tab, and its own counts restart with it (measures/own-counts.js), so that "this page" never
// exceeds "all clients" for the same period. The line stays: "server totals since 14:03:07".
//
// The news comes with the first stats record of the new period, up to a second or more after
// the period began: by then the page's transports may have reconnected to the restarted server,
// or to the one it moved to, and counted that request and its catch-up. Those belong to the new
// period, so the page's counts restart from when it began (beganAtUs), not from the news.

import { el } from "../shared/dom.js";
import { locale, t } from "../shared/i18n.js";
import { onMove } from "../shared/cluster.js";
import { nowMicros } from "../measures/latency.js";

/** When this page began counting (nowMicros's clock, µs): its navigation's start. */
const PAGE_LOADED_US = Math.round(performance.timeOrigin * 1000);

/** A clock time in the page's language, from Unix ms: 14:03:07. */
export function clockTime(ms) {
  return new Date(ms).toLocaleTimeString(locale);
}

export class StatsPeriod {
  /** `container`: the page's element for the line (its content is replaced). */
  constructor(container) {
    this.last = null;
    this.line = el("span", { class: "period-since" });
    this.news = el("span", { class: "notice period-news", role: "status" });
    container.replaceChildren(this.line, " ", this.news);
    this.container = container;
    /** When this page last moved to another server of its cluster (nowMicros), if it did. */
    this.movedAtUs = null;
    onMove(() => (this.movedAtUs = nowMicros()));
  }

  /**
   * When the period that update() just announced as `change` began, on this page's clock (µs,
   * nowMicros), as far as this page's counts go:
   * - "restart" and "reset": the server's new `since` (its clock) through the clock `offset`,
   *   at the latest it can be on this page's clock (the offset is right to ± half its round
   *   trip): what the page counted since is the new period's, as the server counted it (a
   *   request by when it was sent: measures/own-counts.js). An answer the server wrote just
   *   before its reset reaches the page after it; the half round trip leaves it with the old
   *   period, as the server does, rather than have "this page" above "all clients";
   * - "moved": when the page moved (the other server's totals began long before);
   * - "began" (the first record): the later of the server's `since` and the page's move.
   */
  beganAtUs(change, offset) {
    if (change === "moved") return this.movedAtUs ?? nowMicros();
    const sinceUs = this.last?.since != null ? this.last.since - (offset?.offsetUs ?? 0) + (offset?.rttUs ?? 0) / 2 : nowMicros();
    // "began": the later of the two, whichever came after the page's load.
    return change === "began" ? Math.max(sinceUs, this.movedAtUs ?? -Infinity) : sinceUs;
  }

  /**
   * One stats record. Returns what began a new period since the previous record — "reset",
   * "restart" or "moved" (another server) — or null. The first record returns "began" when its
   * period began after this page began counting (its load), told on `offset`'s clock (see
   * beganAtUs): the server restarted, was reset, or the page moved before the page's first
   * totals came (within the page's first second, or while its stats socket was down). The
   * page's counts then restart with it, quietly (there is no earlier period it saw to contrast),
   * or "this page" would count what "all clients" no longer does.
   */
  update(stats, offset) {
    const now = {
      server: stats.server ? `${stats.server.name} ${stats.server.addr}` : "",
      since: stats.since,
      resets: stats.resets ?? 0,
    };
    const last = this.last;
    this.last = now;
    if (now.since != null) this.line.textContent = t("period.since", { time: this.sinceTime() });
    if (!last) return now.since != null && this.beganAtUs("began", offset) > PAGE_LOADED_US ? "began" : null;
    let change = null;
    if (now.server !== last.server) change = "moved";
    else if (now.since !== last.since) change = now.resets > last.resets ? "reset" : "restart";
    if (change) {
      this.news.textContent = t(`period.${change}`, { time: this.sinceTime(), now: clockTime(Date.now()) });
      this.container.dataset.periodChanges = String(Number(this.container.dataset.periodChanges ?? 0) + 1);
      this.container.dataset.lastChange = change;
    }
    return change;
  }

  /** The period's start as a clock time, or "–" before the first record. */
  sinceTime() {
    return this.last?.since != null ? clockTime(this.last.since / 1000) : "–";
  }
}
