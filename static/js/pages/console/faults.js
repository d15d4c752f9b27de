// pages/console/faults.js — the console's fault injection, one row per transport: drop its open
// connections, slow its writes to B bytes/s for S seconds, refuse its new requests (503 with
// Retry-After) for S seconds, or clear what is in force. The row also shows what the server says
// is in force now (from the stats stream), and the server's answer or refusal.
//
// Classic pages and short polls hold no connection between requests, so there is nothing to
// drop: their drop button is disabled (the server would refuse it too).

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { TRANSPORT_IDS } from "../../shared/transports.js";
import { formatBytes, formatCount } from "../../shared/format.js";
import { faultTexts } from "../../live/settings.js";
import { injectFault } from "../../controls/admin-api.js";
import { ControlReport } from "../../controls/report.js";

const DROPPABLE = new Set(["longpoll", "sse", "ws"]);

/** Defaults a lesson can start from: slow enough to see, short enough to forget safely. */
const DEFAULTS = { slowBytesPerSec: 256, slowSeconds: 30, refuseSeconds: 20 };

export class FaultTable {
  constructor(table) {
    this.rows = {};
    const body = el("tbody");
    for (const id of TRANSPORT_IDS) {
      const row = this.buildRow(id);
      this.rows[id] = row;
      body.append(row.element, row.reportRow);
    }
    table.append(
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, t("faults.transport")),
        el("th", { scope: "col" }, t("faults.now")),
        el("th", { scope: "col" }, t("faults.drop")),
        el("th", { scope: "col" }, t("faults.slow")),
        el("th", { scope: "col" }, t("faults.refuse")),
        el("th", { scope: "col" }, t("faults.clear")))),
      body,
    );
  }

  buildRow(id) {
    const name = t(`transport.${id}`);
    const number = (value, min, max, label) =>
      el("input", { type: "number", min, max, step: "1", value, "aria-label": t(label, { transport: name }) });
    const slowRate = number(DEFAULTS.slowBytesPerSec, 64, 100000000, "faults.slow_rate_label");
    const slowSeconds = number(DEFAULTS.slowSeconds, 1, 600, "faults.seconds_label");
    const refuseSeconds = number(DEFAULTS.refuseSeconds, 1, 600, "faults.seconds_label");
    const now = el("td", { class: "fault-now", dataset: { state: "normal" } }, "–");

    const status = el("output", { class: "status" });
    const error = el("p", { class: "error", role: "alert" });
    const reportRow = el("tr", { class: "fault-report", dataset: { transport: id } }, el("td", { colspan: "6" }, status, error));
    const element = el("tr", { class: `transport-${id}`, dataset: { transport: id } });
    const report = new ControlReport(element, { status, error });

    const button = (kind, text, onclick, extra = {}) =>
      el("button", { type: "button", class: kind, dataset: { kind }, onclick, ...extra }, text);
    const drop = DROPPABLE.has(id)
      ? button("drop", t("faults.drop_button"), () =>
          report.run(() => injectFault({ kind: "drop", transport: id }),
            (answer, time) => t("faults.dropped", { n: formatCount(answer.dropped), time })))
      : button("drop", t("faults.drop_button"), null, { disabled: true, title: t("faults.no_drop") });

    const whole = (input) => {
      const value = Number(input.value);
      if (input.value.trim() === "" || !Number.isInteger(value)) throw Object.assign(new Error(t("control.whole_number")), { status: 0 });
      return value;
    };
    const slow = button("slow", t("faults.slow_button"), () =>
      report.run(async () => {
        const request = { kind: "slow", transport: id, bytes_per_sec: whole(slowRate), seconds: whole(slowSeconds) };
        await injectFault(request);
        return request;
      }, (request, time) => t("faults.slowed", { rate: formatBytes(request.bytes_per_sec), seconds: request.seconds, time })));
    const refuse = button("refuse", t("faults.refuse_button"), () =>
      report.run(async () => {
        const request = { kind: "refuse", transport: id, seconds: whole(refuseSeconds) };
        await injectFault(request);
        return request;
      }, (request, time) => t("faults.refusing_for", { seconds: request.seconds, time })));
    const clear = button("clear", t("faults.clear_button"), () =>
      report.run(() => injectFault({ kind: "clear", transport: id }), (_answer, time) => t("faults.cleared", { time })));

    element.append(
      el("th", { scope: "row" }, el("span", { class: "swatch", "aria-hidden": "true" }), " ", name),
      now,
      el("td", {}, drop),
      el("td", { class: "inline" }, slowRate, el("span", {}, t("admin.fault.bytes_per_s_times")), slowSeconds, el("span", {}, "s"), slow),
      el("td", { class: "inline" }, refuseSeconds, el("span", {}, "s"), refuse),
      el("td", {}, clear),
    );
    return { element, reportRow, now };
  }

  /** `faults` as in /api/stats: what is in force now, and the drops so far. */
  update(faults) {
    for (const id of TRANSPORT_IDS) {
      const fault = faults?.[id];
      const cell = this.rows[id].now;
      const texts = faultTexts(fault);
      cell.dataset.state = texts.length ? "fault" : "normal";
      const drops = fault?.drops ? t("faults.drops_so_far", { n: formatCount(fault.drops) }) : "";
      cell.textContent = [texts.length ? texts.join(" · ") : t("faults.normal"), drops].filter(Boolean).join(" · ");
    }
  }
}
