// pages/lab/figures.js — the lab's "you and the class" table: per transport, one row of what this
// page received (its own client of that transport) above one row of the server's totals for every
// client. The same metrics side by side: requests per second, requests, events, empty answers,
// missed events, bytes received per event, latency p50.
//
// A LabRow offers a transport client the same calls as a dashboard panel
// (pages/dashboard/panel.js): deliver(), countRequest(), setState(), reconnected()..., so the
// dashboard's clients run here unchanged.

import { el } from "../../shared/dom.js";
import { locale, t } from "../../shared/i18n.js";
import { formatBytes, formatCount, formatDecimal, formatMicros } from "../../shared/format.js";
import { formatLatency, resolutionOf } from "../../measures/resolution.js";
import { clockTime } from "../../live/stats-period.js";
import { OwnCounts } from "../../measures/own-counts.js";
import { Recovery } from "../../measures/recovery.js";
import { RequestRate } from "../../measures/request-rate.js";
import { nowMicros } from "../../measures/latency.js";

const COLUMNS = ["rps", "requests", "delivered", "empty", "missed", "bytes", "latency"];

/**
 * Since when "you" and "class" count (Date.now() ms and Unix µs): the table's caption says it,
 * so that the two rows are read as the same period.
 */
export function describePeriod(table, youSinceMs, classSinceUs) {
  table.caption.textContent = t("lab.figures.since", {
    you: clockTime(youSinceMs),
    class: classSinceUs ? clockTime(classSinceUs / 1000) : "–",
  });
}

/** The table's caption and head; rows are added by each LabRow. */
export function buildFiguresTable(table) {
  table.createCaption().className = "small muted";
  table.append(el("thead", {}, el("tr", {},
    el("th", { scope: "col" }, t("lab.col.transport")),
    el("th", { scope: "col" }, t("lab.col.who")),
    ...COLUMNS.map((column) => el("th", { scope: "col", class: "num", title: t(`lab.col.${column}.help`) }, t(`lab.col.${column}`))))));
  const body = el("tbody");
  table.append(body);
  return body;
}

export class LabRow extends OwnCounts {
  /** body: the table's tbody; slot: where a client may put an element of its own (classic's iframe). */
  constructor(body, transport, slot, offset = null) {
    super();
    /** The page's clock offset ({ offsetUs, rttUs }): "you" latencies are no finer than it allows. */
    this.offset = offset;
    this.transport = transport;
    this.slot = slot;
    this.paused = false; // the lab has no pause button: its clients always follow the feed
    this.downKnowledge = "measured";
    this.recovery = new Recovery();
    /** Requests per second of "you" and of the class, over the same span (RATE_SPAN_US). */
    this.rate = new RequestRate();
    this.server = null;

    this.badge = el("span", { class: "state", role: "status", dataset: { state: "connecting" } }, t("state.connecting"));
    this.recoveryLine = el("span", { class: "recovery small", title: t("recovery.help") });
    this.problem = el("span", { class: "problem small" });
    // Shown while another tab of this browser holds this transport (clients/tab-lease.js).
    this.followHandler = null;
    this.heldElsewhere = el("span", { class: "held-elsewhere small", role: "status", hidden: true },
      t("lease.elsewhere_short"), " ",
      el("button", { type: "button", class: "follow-here", onclick: () => this.followHandler?.() }, t("lease.follow_here_short")));
    this.cells = { you: {}, class: {} };
    const cellsOf = (who) => COLUMNS.map((column) => (this.cells[who][column] = el("td", { class: "num" }, "–")));

    this.element = el("tr", { class: `you transport-${transport}`, dataset: { transport, who: "you" } },
      el("th", { scope: "rowgroup", rowspan: "2", class: "transport-cell" },
        el("span", { class: "name" }, el("span", { class: "swatch", "aria-hidden": "true" }), " ", t(`transport.${transport}`)),
        " ", this.badge, el("br"), this.recoveryLine, this.problem, this.heldElsewhere),
      el("th", { scope: "row", class: "who" }, t("lab.who.you")),
      ...cellsOf("you"));
    this.classRow = el("tr", { class: `class transport-${transport}`, dataset: { transport, who: "class" } },
      el("th", { scope: "row", class: "who" }, t("lab.who.class")),
      ...cellsOf("class"));
    body.append(this.element, this.classRow);
    this.render();
  }

  // The calls a transport client makes (see pages/dashboard/panel.js for their meaning).
  onPause() {}
  onSend() {}
  get state() {
    return this.badge.dataset.state;
  }
  setState(state, vars = {}) {
    clearTimeout(this.resumedTimer);
    this.badge.dataset.state = state;
    this.badge.textContent = t(`state.${state}`, vars);
    if (state === "resumed" || state === "new_run") this.resumedTimer = setTimeout(() => this.setState("open"), 10_000);
  }
  showError(message) {
    this.problem.textContent = message;
    this.noticeMessage = "";
  }
  clearError() {
    this.problem.textContent = this.noticeMessage = "";
  }
  showNotice(message) {
    this.problem.textContent = this.noticeMessage = message;
  }
  setBytesKnowledge(direction, knowledge) {
    if (direction === "down") this.downKnowledge = knowledge;
  }
  countRequest(sentUs) {
    this.rate.request(nowMicros());
    super.countRequest(sentUs);
  }
  /** latencyUs null: shown but not timed (caught up after a takeover, or queued in the browser). */
  deliver(event, latencyUs) {
    this.recovery.delivered(event.seq);
    this.countDelivered(latencyUs);
  }
  restartCounts(fromUs) {
    this.rate.restart();
    super.restartCounts(fromUs);
  }
  reconnected(afterSeq) {
    this.recovery.reconnected(afterSeq);
    this.scheduleRender();
  }
  newRun() {
    this.recovery.newRun();
    this.scheduleRender();
  }
  tookOver(afterSeq) {
    this.recovery.tookOver(afterSeq);
    this.scheduleRender();
  }
  setLease(lease, { follow } = {}) {
    this.element.dataset.lease = lease;
    this.heldElsewhere.hidden = lease !== "elsewhere";
    if (follow) this.followHandler = follow;
    if (lease === "elsewhere") this.setState("elsewhere");
  }
  noteQueued(ms, key = "notice.queued") {
    this.queuedAnswers = (this.queuedAnswers ?? 0) + 1;
    this.element.dataset.queuedAnswers = String(this.queuedAnswers);
    this.showNotice(t(key, { ms: formatMicros(ms * 1000) }));
  }

  /**
   * The server's totals for this transport since `since`, read at `at` (Unix µs), and its latest
   * one-second sample; "you" is read as it stood at the same instant, and its requests per
   * second over the same span as the class's.
   */
  setServerTotals(totals, sample, { since, at }) {
    this.server = totals;
    this.rate.sample(sample?.t, sample?.requests_per_s);
    this.serverSinceUs = since;
    this.alignWithServer(at, this.offset);
  }

  render() {
    const mine = this.shownCounts;
    const you = this.cells.you;
    const rates = this.rate.rates(this.offset?.rttUs > 0 ? this.offset.offsetUs : null);
    you.rps.textContent = formatDecimal(rates.you);
    you.requests.textContent = formatCount(mine.requests);
    you.delivered.textContent = formatCount(mine.delivered);
    you.empty.textContent = formatCount(mine.empty);
    you.missed.textContent = formatCount(mine.missed);
    you.bytes.textContent = mine.delivered > 0 ? formatBytes(Math.round(mine.bytesDown / mine.delivered)) : "–";
    you.bytes.classList.toggle("estimate", this.downKnowledge === "estimate" && mine.delivered > 0);
    you.bytes.title = t(`bytes.${this.downKnowledge}`);
    you.latency.textContent = formatLatency(this.latency.percentile(50), resolutionOf(this.offset), locale);

    const server = this.server;
    const them = this.cells.class;
    them.rps.textContent = formatDecimal(rates.class);
    them.requests.textContent = formatCount(server?.requests);
    them.delivered.textContent = formatCount(server?.delivered);
    them.empty.textContent = formatCount(server?.empty);
    them.missed.textContent = formatCount(server?.missed);
    them.bytes.textContent = server?.delivered > 0 ? formatBytes(Math.round(server.bytes_out / server.delivered)) : "–";
    them.latency.textContent = server?.client_latency_us?.count > 0
      ? formatLatency(server.client_latency_us.p50, server.client_resolution_us, locale)
      : "–";

    this.recoveryLine.textContent = this.recovery.text();
    this.recovery.describeInto(this.element.dataset);
  }
}
