// pages/dashboard/hop.js — the broker hop as a histogram: per event, the time from its publish (on
// any server of the cluster) to this server reading it back from RabbitMQ, in log-spaced bars
// (/api/stats broker.hop_histogram) with its percentiles. Hidden without --broker.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatCount, formatMicros, formatMicrosShort } from "../../shared/format.js";

export class HopHistogram {
  constructor(card) {
    this.card = card;
    this.bars = card.querySelector(".hop-bars");
    this.summary = card.querySelector(".hop-summary");
  }

  update(broker) {
    this.card.hidden = !broker;
    if (!broker) return;
    const bars = broker.hop_histogram ?? [];
    const most = Math.max(1, ...bars.map((bar) => bar.count));
    this.bars.replaceChildren(...bars.map((bar, i) => {
      const label = bar.le_us == null ? `> ${formatMicrosShort(bars[i - 1]?.le_us ?? 0)}` : `≤ ${formatMicrosShort(bar.le_us)}`;
      return el("div", { class: "hop-bar", title: `${label}: ${formatCount(bar.count)}` },
        el("span", { class: "hop-fill", style: `height: ${(100 * bar.count) / most}%` }),
        el("span", { class: "hop-label" }, label));
    }));
    const hop = broker.hop_us ?? {};
    this.summary.textContent = hop.count
      ? t("hop.summary", {
          count: formatCount(hop.count),
          p50: formatMicros(hop.p50),
          p90: formatMicros(hop.p90),
          p99: formatMicros(hop.p99),
          max: formatMicros(hop.max),
        })
      : t("hop.none");
  }
}
