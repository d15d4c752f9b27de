// live/server-line.js — which server this page follows, and its broker: one line under the page's
// title, from /api/stats/stream (every answer names its server). With --broker it says whether
// the broker is reachable (an unreachable broker is an alert, never silent), whether this server
// ticks for the cluster, and the broker hop's median; when the page moved to another server of
// its cluster (shared/cluster.js), it says from where to where.

import { el } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { formatMicros } from "../shared/format.js";
import { knownServers, onMove } from "../shared/cluster.js";

export class ServerLine {
  /** `container`: an element of the page (its content is replaced). */
  constructor(container) {
    this.server = el("span", { class: "server-name" }, "…");
    this.broker = el("span", { class: "broker-state" });
    this.moved = el("span", { class: "notice", role: "status" });
    container.replaceChildren(this.server, " · ", this.broker, " ", this.moved);
    const peers = knownServers().length - 1;
    if (peers > 0) container.title = t("cluster.peers", { count: peers, servers: knownServers().join(" ") });
    onMove((from, to) => (this.moved.textContent = t("cluster.moved", { from, to })));
  }

  /** Shows the identity and broker of one stats answer. */
  update(stats) {
    const server = stats.server;
    if (server) this.server.textContent = t("cluster.server", { name: server.name, addr: server.addr });
    const broker = stats.broker;
    this.broker.classList.toggle("error", broker?.state === "unreachable");
    this.broker.setAttribute("role", broker?.state === "unreachable" ? "alert" : "status");
    if (!broker) {
      this.broker.textContent = t("cluster.no_broker");
    } else if (broker.state === "unreachable") {
      this.broker.textContent = t("cluster.broker_down", { why: broker.error ?? "?" });
    } else {
      const generator = t(broker.generator === "here" ? "cluster.generator_here" : "cluster.generator_elsewhere");
      const hop = broker.hop_us?.count ? t("cluster.hop", { p50: formatMicros(broker.hop_us.p50) }) : "";
      this.broker.textContent = [t("cluster.broker_ok"), generator, hop].filter(Boolean).join(" · ");
    }
  }
}
