// pages/dashboard/cost-table.js — "the cost of one event", per transport, from the server's totals
// (/api/stats): bytes on the wire per delivered event (headers included), requests per event,
// events per answer, events replayed as catch-up, share of empty answers, and the latency a live
// event waited (catch-up is timed apart: a resume from an old since is no transport's delay).
//
// Requests per event only means something where each answer is asked for: a push transport
// (SSE, WebSocket) asks once per connection, whatever the events, and says so in words rather
// than as 0,00. Events per answer is what explains the bytes: a short poll brings every event
// published since the previous one in one answer (its headers shared), a long poll is answered
// as soon as one exists (its headers paid again for nearly every event); a push transport sends
// each event as its own message (SSE) or frame (WebSocket).

import { el } from "../../shared/dom.js";
import { locale, t } from "../../shared/i18n.js";
import { TRANSPORT_IDS } from "../../shared/transports.js";
import { formatBytes, formatCount, formatDecimal, formatMicros, formatPercent, formatRate } from "../../shared/format.js";
import { formatLatency } from "../../measures/resolution.js";

const COLUMNS = ["bytes_per_event", "requests_per_event", "events_per_answer", "catch_up", "empty_share", "delay_p50", "client_p50"];

/** The transports that push: one request per connection, one message or frame per event. */
const PUSH = new Set(["sse", "ws"]);

export class CostTable {
  /** table: the cost table; why: the paragraph under it that explains the bytes with today's figures. */
  constructor(table, why) {
    this.table = table;
    this.why = why;
    this.cells = {};
    this.caption = el("caption", { class: "small muted" });
    const head = el("tr", {}, el("th", { scope: "col" }, t("cost.transport")),
      ...COLUMNS.map((column) => el("th", { scope: "col", class: "num", title: t(`cost.${column}.help`) }, t(`cost.${column}`))));
    const body = el("tbody");
    for (const id of TRANSPORT_IDS) {
      this.cells[id] = Object.fromEntries(COLUMNS.map((column) => [column, el("td", { class: "num", dataset: { column } }, "–")]));
      body.append(el("tr", { class: `transport-${id}`, dataset: { transport: id } },
        el("th", { scope: "row" }, el("span", { class: "swatch", "aria-hidden": "true" }), " ", t(`transport.${id}`)),
        ...COLUMNS.map((column) => this.cells[id][column])));
    }
    table.append(this.caption, el("thead", {}, head), body);
  }

  /**
   * `totals`: /api/stats's transports; `sinceTime`: the period's start as a clock time; `feed`:
   * /api/stats's feed (its rate and suggested poll interval), for the explanation's figures.
   */
  update(totals, sinceTime, feed) {
    this.caption.textContent = t("cost.caption", { time: sinceTime });
    if (feed && this.why) {
      const intervalS = (feed.poll_interval_ms ?? 1000) / 1000;
      this.why.textContent = t("cost.why", {
        rate: formatRate(feed.rate_hz),
        interval: formatMicros((feed.poll_interval_ms ?? 1000) * 1000),
        perAnswer: formatRate(Math.round(feed.rate_hz * intervalS * 10) / 10),
      });
    }
    for (const id of TRANSPORT_IDS) {
      const s = totals[id];
      if (!s) continue;
      const cells = this.cells[id];
      const delivered = s.delivered > 0;
      cells.bytes_per_event.textContent = delivered ? formatBytes(s.bytes_per_event) : "–";
      if (PUSH.has(id)) {
        cells.requests_per_event.textContent = t("cost.per_connection");
        cells.requests_per_event.title = t("cost.per_connection.help", { connections: s.requests });
        cells.events_per_answer.textContent = t(`cost.per_message.${id}`);
        cells.events_per_answer.title = t("cost.per_message.help");
      } else {
        cells.requests_per_event.textContent = delivered ? formatDecimal(s.requests / s.delivered) : "–";
        const answers = answersOf(s);
        cells.events_per_answer.textContent = answers > 0 ? formatDecimal(s.delivered / answers) : "–";
      }
      cells.catch_up.textContent = delivered ? `${formatCount(s.catch_up ?? 0)} (${formatPercent((s.catch_up ?? 0) / s.delivered)})` : "–";
      const answers = answersOf(s);
      cells.empty_share.textContent = answers > 0 ? formatPercent(s.empty / answers) : "–";
      cells.delay_p50.textContent = s.delay_us.count > 0 ? formatMicros(s.delay_us.p50) : "–";
      cells.client_p50.textContent = s.client_latency_us.count > 0 ? formatLatency(s.client_latency_us.p50, s.client_resolution_us, locale) : "–";
    }
  }
}

/**
 * The answers that could carry events: requests less those whose client left before the
 * answer (held long polls) and those whose answer carried no feed (`no_feed`: a refuse or drop
 * fault, bad input). Both events per answer and the share of empty answers are taken of them,
 * so that a refusal counts as neither (with 4 refusals in 16 polls, 12 % empty and 2,24 events
 * per answer were read, for 1 in 12 and 3,17).
 */
function answersOf(s) {
  return s.requests - (s.abandoned ?? 0) - (s.no_feed ?? 0);
}
