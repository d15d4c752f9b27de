// pages/dashboard/panel.js — one transport's panel on the dashboard: what the page sees of that
// transport.
//
// The panel owns the DOM and the page-side numbers (requests, events, empty answers, bytes, latency
// percentiles, reconnections); it knows nothing of how events arrive. A transport client
// (clients/poll.js, clients/ws.js, ...) calls deliver(), countRequest(), setState(),
// reconnected()... and the panel draws. pages/lab/figures.js offers the same calls in a table row,
// so the same clients run there. Errors are always shown in the panel itself, never only in the
// console.

import { el } from "../../shared/dom.js";
import { locale, t } from "../../shared/i18n.js";
import { formatAge, formatBytes, formatCount, formatMicros, formatOffset } from "../../shared/format.js";
import { formatLatency, resolutionOf } from "../../measures/resolution.js";
import { clockTime } from "../../live/stats-period.js";
import { OwnCounts } from "../../measures/own-counts.js";
import { Recovery } from "../../measures/recovery.js";
import { nowMicros } from "../../measures/latency.js";

/** Events kept in a panel's feed, newest on top. */
const FEED_LENGTH = 20;
/** How long "resumed, N missed" stays up before the badge says "open" again. */
const RESUMED_SHOWN_MS = 10_000;
/** How long a notice (e.g. "the server restarted") stays up. */
const NOTICE_SHOWN_MS = 30_000;

/**
 * bytes: how the page knows each direction's bytes: "measured" (PerformanceResourceTiming),
 * "estimate" (rebuilt from the wire format, in part or whole) or "unknown" (the page cannot
 * see them). See measures/resource-bytes.js for why a fetch's headers are usually an estimate.
 */
export class Panel extends OwnCounts {
  constructor(container, transport, { feed = true, chat = true, bytes = { down: "measured", up: "unknown" } } = {}) {
    super();
    this.transport = transport;
    this.bytesKnowledge = bytes;
    this.server = null;
    this.recovery = new Recovery();
    this.offset = null;
    this.sendHandler = null;
    this.pauseHandlers = [];
    this.followHandler = null;
    this.paused = false;

    this.stateBadge = el("span", { class: "state", role: "status", dataset: { state: "connecting" } }, t("state.connecting"));
    this.pauseButton = el("button", { type: "button", class: "pause", "aria-pressed": "false", onclick: () => this.togglePause() }, t("panel.pause"));
    this.notice = el("p", { class: "notice", role: "status" });
    this.error = el("p", { class: "error", role: "alert" });
    // What the instructor imposes on this transport (added delay, faults), and notes such as
    // the suggested poll interval: both from the stats stream, redrawn every second.
    this.conditions = el("p", { class: "conditions" });
    this.note = el("p", { class: "panel-note small muted" });
    this.recoveryLine = el("p", { class: "recovery small", title: t("recovery.help") });
    // Shown while another tab of this browser holds this transport (clients/tab-lease.js).
    this.heldElsewhere = el("div", { class: "held-elsewhere", role: "status", hidden: true },
      el("p", {}, t(`lease.elsewhere.${transport === "longpoll" ? "longpoll" : "sse"}`)),
      el("button", { type: "button", class: "follow-here", onclick: () => this.followHandler?.() }, t("lease.follow_here")));
    this.slot = el("div", { class: "slot" });
    this.element = el(
      "article",
      { class: `panel transport-${transport}`, dataset: { transport }, "aria-labelledby": `panel-title-${transport}` },
      el("div", { class: "panel-head" },
        el("h2", { id: `panel-title-${transport}` }, el("span", { class: "swatch", "aria-hidden": "true" }), t(`transport.${transport}`)),
        this.stateBadge,
        this.pauseButton),
      el("p", { class: "how" }, t(`how.${transport}`)),
      this.heldElsewhere,
      this.conditions,
      this.note,
      this.notice,
      this.error,
      this.recoveryLine,
      this.slot,
    );
    if (chat) this.slot.append(this.buildChat());
    if (feed) {
      // The feed's columns, named where they are seen (not only in a tooltip).
      const head = el("p", { class: "feed-head", id: `feed-head-${transport}` },
        el("span", { class: "seq" }, "#"),
        el("span", { class: "what" }, t("feed.col.event")),
        el("span", { class: "lat", title: t("panel.arrival_help") }, t("feed.col.latency")),
        el("span", { class: "age", title: t("feed.col.age_help") }, t("feed.col.age")));
      this.feed = el("ol", { class: "feed", "aria-live": "off", "aria-describedby": head.id }, el("li", { class: "empty-feed" }, t("panel.waiting")));
      this.slot.append(head, this.feed);
    }
    this.counterCells = {};
    this.element.append(this.buildCounters(), this.buildLatency());
    container.append(this.element);
    this.render();
  }

  buildChat() {
    this.chatInput = el("input", { name: "text", maxlength: "500", required: true, autocomplete: "off", placeholder: t("panel.chat_placeholder"), "aria-label": t("panel.chat_placeholder") });
    return el("form", { class: "chat", onsubmit: (e) => this.submitChat(e) },
      this.chatInput,
      el("button", { type: "submit" }, t("panel.send")));
  }

  buildCounters() {
    const rows = ["requests", "delivered", "empty", "missed", "bytesDown", "bytesUp"];
    const body = el("tbody");
    for (const row of rows) {
      const mine = el("td", { class: "num mine" });
      const server = el("td", { class: "num server" });
      this.counterCells[row] = { mine, server };
      body.append(el("tr", { dataset: { counter: row } }, el("th", { scope: "row", title: t(`counter.${row}.help`) }, t(`counter.${row}`)), mine, server));
    }
    // Each column says since when it counts: the page since it loaded (or the last reset), the
    // server since its start or the last reset.
    this.mineSince = el("span", { class: "since" });
    this.serverSince = el("span", { class: "since" });
    return el("table", { class: "counters" },
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("counter.what")),
        el("th", { scope: "col" }, t("counter.this_page"), el("br"), this.mineSince),
        el("th", { scope: "col" }, t("counter.server"), el("br"), this.serverSince))),
      body);
  }

  buildLatency() {
    this.p50 = el("strong", { class: "p50" }, "–");
    this.p95 = el("strong", { class: "p95" }, "–");
    this.latencyCount = el("span", { class: "muted small" });
    this.offsetText = el("span", { class: "muted small offset" });
    return el("p", { class: "latency", title: t("panel.latency_help") },
      t("panel.latency"), " p50 ", this.p50, " · p95 ", this.p95, " ", this.latencyCount, el("br"), this.offsetText);
  }

  /** What to do with a chat typed in this panel: async (text) => void; throws to show an error. */
  onSend(handler) {
    this.sendHandler = handler;
  }

  /** Called with true/false when the pause button is pressed (every handler, in order). */
  onPause(handler) {
    this.pauseHandlers.push(handler);
  }

  async submitChat(event) {
    event.preventDefault();
    const text = this.chatInput.value.trim();
    if (!text || !this.sendHandler) return;
    try {
      await this.sendHandler(text);
      this.chatInput.value = "";
      this.clearError();
    } catch (error) {
      this.showError(t("error.chat_not_sent", { why: error.message }));
    }
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    this.pauseButton.textContent = t(this.paused ? "panel.resume" : "panel.pause");
    if (this.paused) this.setState("paused");
    for (const handler of this.pauseHandlers) handler(this.paused);
  }

  /** connecting | open | reconnecting | resumed | paused | failed, with the texts' {vars}. */
  setState(state, vars = {}) {
    clearTimeout(this.resumedTimer);
    this.stateBadge.dataset.state = state;
    this.stateBadge.textContent = t(`state.${state}`, vars);
    if (state === "resumed" || state === "new_run") {
      this.resumedTimer = setTimeout(() => this.setState("open"), RESUMED_SHOWN_MS);
    }
  }

  get state() {
    return this.stateBadge.dataset.state;
  }

  showError(message) {
    this.error.textContent = message;
  }

  clearError() {
    this.error.textContent = "";
  }

  /** The conditions the server imposes on this transport now, one chip each (none: hidden). */
  setConditions(texts) {
    const now = texts.join("\n");
    if (this.conditions.dataset.texts === now) return;
    this.conditions.dataset.texts = now;
    this.conditions.replaceChildren(...texts.map((text) => el("span", { class: "chip fault" }, text)));
  }

  /** A standing note under the panel's description ("" removes it). */
  setNote(text) {
    if (this.note.textContent !== text) this.note.textContent = text;
  }

  /** A failed connection works again; `afterSeq` is the last seq this panel saw before it. */
  reconnected(afterSeq) {
    this.recovery.reconnected(afterSeq);
    this.scheduleRender();
  }

  /** The server answered with a new run of the feed (clients/resume.js). */
  newRun() {
    this.recovery.newRun();
    this.scheduleRender();
  }

  /**
   * Who holds this transport for the browser (clients/tab-lease.js): "held" (this tab),
   * "elsewhere" (another tab: the panel says so, and why) or "none" (paused here).
   * `follow` is what "Follow it in this tab" does.
   */
  setLease(lease, { follow } = {}) {
    this.element.dataset.lease = lease;
    this.heldElsewhere.hidden = lease !== "elsewhere";
    if (follow) this.followHandler = follow;
    if (lease === "elsewhere") this.setState("elsewhere");
  }

  /** This tab took the transport over from another tab, which saw up to `afterSeq`. */
  tookOver(afterSeq) {
    this.recovery.tookOver(afterSeq);
    this.scheduleRender();
  }

  /**
   * An answer's request waited `ms` inside the browser (or a stream took `ms` to open, with
   * key "notice.slow_open"): its latencies were left out.
   */
  noteQueued(ms, key = "notice.queued") {
    this.queuedAnswers = (this.queuedAnswers ?? 0) + 1;
    this.element.dataset.queuedAnswers = String(this.queuedAnswers);
    this.showNotice(t(key, { ms: formatMicros(ms * 1000) }));
  }

  /** A notice is news, not a state: it goes away by itself. */
  showNotice(message) {
    clearTimeout(this.noticeTimer);
    this.notice.textContent = this.noticeMessage = message;
    this.noticeTimer = setTimeout(() => (this.notice.textContent = this.noticeMessage = ""), NOTICE_SHOWN_MS);
  }

  /** direction "down" | "up"; knowledge "measured" | "estimate" | "unknown". */
  setBytesKnowledge(direction, knowledge) {
    if (this.bytesKnowledge[direction] === knowledge) return;
    this.bytesKnowledge = { ...this.bytesKnowledge, [direction]: knowledge };
    this.scheduleRender();
  }

  /**
   * One event received, with its latency (µs) as measured by LatencyReporter.record; null for an
   * event shown but not timed (caught up after a takeover, or queued in the browser).
   */
  deliver(event, latencyUs) {
    this.recovery.delivered(event.seq);
    if (this.feed) this.prependToFeed(event, latencyUs);
    this.countDelivered(latencyUs);
  }

  prependToFeed(event, latencyUs) {
    this.feed.querySelector(".empty-feed")?.remove();
    const item = el("li", { class: `fresh${event.kind === "chat" ? " chat-event" : ""}`, dataset: { seq: event.seq, ts: event.ts } },
      el("span", { class: "seq" }, `#${event.seq}`),
      el("span", { class: "what", title: JSON.stringify(event.data) }, summarize(event)),
      latencyUs == null
        ? el("span", { class: "lat caught-up", title: t("panel.caught_up_help") }, t("panel.caught_up"))
        : el("span", { class: "lat", title: t("panel.arrival_help") }, formatLatency(latencyUs, resolutionOf(this.offset), locale)),
      // Its age from the start (the ages of the list are refreshed every second after that).
      el("span", { class: "age" }, formatAge(nowMicros() + (this.offset?.offsetUs ?? 0) - event.ts)));
    this.feed.prepend(item);
    while (this.feed.children.length > FEED_LENGTH) this.feed.lastElementChild.remove();
  }

  /** Redraws the ages of the feed's events; `nowUs` is the server's clock as this page estimates it. */
  refreshAges(nowUs) {
    if (!this.feed) return;
    for (const item of this.feed.querySelectorAll("li[data-ts]")) {
      item.querySelector(".age").textContent = formatAge(nowUs - Number(item.dataset.ts));
    }
  }

  setOffset(offset) {
    this.offset = offset;
    this.scheduleRender();
  }

  /**
   * The transport's totals from /api/stats (all clients of the server, not only this page),
   * counting since `since` and read at `at` (Unix µs); this page's counts are read as they stood
   * at the same instant.
   */
  setServerTotals(stats, since, at) {
    this.server = stats;
    this.serverSinceUs = since;
    this.alignWithServer(at, this.offset);
  }


  render() {
    const mine = this.shownCounts;
    const cells = this.counterCells;
    this.mineSince.textContent = t("counter.since", { time: clockTime(this.countsSince) });
    this.serverSince.textContent = this.serverSinceUs ? t("counter.since", { time: clockTime(this.serverSinceUs / 1000) }) : "";
    cells.requests.mine.textContent = formatCount(mine.requests);
    cells.delivered.mine.textContent = formatCount(mine.delivered);
    cells.empty.mine.textContent = formatCount(mine.empty);
    cells.missed.mine.textContent = formatCount(mine.missed);
    this.renderBytes(cells.bytesDown.mine, mine.bytesDown, this.bytesKnowledge.down);
    this.renderBytes(cells.bytesUp.mine, mine.bytesUp, this.bytesKnowledge.up);
    const server = this.server;
    cells.requests.server.textContent = formatCount(server?.requests);
    cells.delivered.server.textContent = formatCount(server?.delivered);
    cells.empty.server.textContent = formatCount(server?.empty);
    cells.missed.server.textContent = formatCount(server?.missed);
    cells.bytesDown.server.textContent = formatBytes(server?.bytes_out);
    cells.bytesUp.server.textContent = formatBytes(server?.bytes_in);
    // The exact figures, for whoever reads the page's markup (the shown ones are rounded).
    cells.bytesDown.server.dataset.bytes = server?.bytes_out ?? "";
    cells.bytesUp.server.dataset.bytes = server?.bytes_in ?? "";

    this.recoveryLine.textContent = this.recovery.text();
    this.recovery.describeInto(this.element.dataset);

    const resolution = resolutionOf(this.offset);
    this.p50.textContent = formatLatency(this.latency.percentile(50), resolution, locale);
    this.p95.textContent = formatLatency(this.latency.percentile(95), resolution, locale);
    this.latencyCount.textContent = t("panel.latency_count", { n: formatCount(this.latency.count) });
    this.offsetText.textContent = this.offset
      ? t("panel.offset", { offset: formatOffset(this.offset.offsetUs), half: formatMicros(resolution ?? 0) })
      : t("panel.offset_pending");
  }

  renderBytes(cell, value, knowledge) {
    cell.classList.toggle("estimate", knowledge === "estimate");
    cell.title = t(`bytes.${knowledge}`);
    cell.textContent = knowledge === "unknown" ? "–" : formatBytes(value);
    cell.dataset.bytes = knowledge === "unknown" ? "" : value;
  }
}

/**
 * One line of the feed: the tick's value, or who said what. A chat's author and text are two
 * direction isolates (<bdi>, HTML §4.5.23): a right-to-left name cannot pull the colon or the
 * text into its own direction, whatever characters it holds. Text nodes only, never markup.
 */
/** A tick's value as the page's language writes it, no decimal added nor dropped (at most 6). */
const valueFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 6 });

export function summarize(event) {
  const data = event.data ?? {};
  if (event.kind === "chat") {
    return [el("bdi", { class: "author" }, String(data.author ?? "")), ": ", el("bdi", { class: "text" }, String(data.text ?? ""))];
  }
  if (event.kind === "tick") {
    const pad = typeof data.pad === "string" ? ` (+${data.pad.length} B)` : "";
    // In the page's language (valeur 99,4), with the decimals the server sent.
    const value = typeof data.value === "number" ? valueFormat.format(data.value) : String(data.value ?? "");
    return `${t("feed.tick")} ${value}${pad}`;
  }
  if (event.kind === "broker") return t("feed.broker", { offset: data.offset });
  return event.kind;
}
