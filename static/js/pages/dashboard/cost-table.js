// pages/dashboard/cost-table.js — "the cost of one event", per transport, from the server's totals
// (/api/stats): bytes on the wire per delivered event (headers included), requests per event,
// share of empty answers, and the latency an event waited.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { TRANSPORT_IDS } from "../../shared/transports.js";
import { formatBytes, formatDecimal, formatMicros, formatPercent } from "../../shared/format.js";

const COLUMNS = ["bytes_per_event", "requests_per_event", "empty_share", "delay_p50", "client_p50"];

export class CostTable {
  constructor(table) {
    this.table = table;
    this.cells = {};
    const head = el("tr", {}, el("th", { scope: "col" }, t("cost.transport")),
      ...COLUMNS.map((column) => el("th", { scope: "col", class: "num", title: t(`cost.${column}.help`) }, t(`cost.${column}`))));
    const body = el("tbody");
    for (const id of TRANSPORT_IDS) {
      this.cells[id] = Object.fromEntries(COLUMNS.map((column) => [column, el("td", { class: "num" }, "–")]));
      body.append(el("tr", { class: `transport-${id}`, dataset: { transport: id } },
        el("th", { scope: "row" }, el("span", { class: "swatch", "aria-hidden": "true" }), " ", t(`transport.${id}`)),
        ...COLUMNS.map((column) => this.cells[id][column])));
    }
    table.append(el("thead", {}, head), body);
  }

  update(totals) {
    for (const id of TRANSPORT_IDS) {
      const s = totals[id];
      if (!s) continue;
      const cells = this.cells[id];
      const delivered = s.delivered > 0;
      cells.bytes_per_event.textContent = delivered ? formatBytes(s.bytes_per_event) : "–";
      cells.requests_per_event.textContent = delivered ? formatDecimal(s.requests / s.delivered) : "–";
      cells.empty_share.textContent = s.requests > 0 ? formatPercent(s.empty / s.requests) : "–";
      cells.delay_p50.textContent = s.delay_us.count > 0 ? formatMicros(s.delay_us.p50) : "–";
      cells.client_p50.textContent = s.client_latency_us.count > 0 ? formatMicros(s.client_latency_us.p50) : "–";
    }
  }
}
