// pages/lab/connection-limit.js — experiment (g)'s probe: this page opens six connections of one
// kind to pushlab (SSE streams or WebSockets, without the tabs' coordination of
// clients/tab-lease.js), times a fetch('/api/time') while they are open, then closes them.
//
// With six SSE streams the fetch cannot leave the browser: a browser opens at most six HTTP/1.1
// connections per server, for all its tabs, and the streams hold them all; it waits inside the
// browser until they close (DevTools: "Queueing", "Stalled"). With six WebSockets it answers at
// once: WebSockets are not counted among the six. Every connection is closed after PROBE_HOLD_MS.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatMillis } from "../../shared/format.js";
import { transportPath } from "../../shared/transports.js";

/** How many connections a probe opens: the HTTP/1.1 connections a browser keeps per server. */
export const PROBE_CONNECTIONS = 6;
/** How long a probe holds its connections before closing them all, ms. */
export const PROBE_HOLD_MS = 5000;
/** How long the probe waits for its connections to open before timing the fetch, ms. */
const OPEN_WAIT_MS = 1500;

/** The two probes' buttons and the line they report on, for experiment (g)'s setting. */
export function buildProbes() {
  const result = el("output", { class: "probe-result", "aria-live": "polite" });
  const buttons = ["sse", "ws"].map((kind) =>
    el("button", { type: "button", class: "probe", dataset: { probe: kind }, onclick: () => run(kind) }, t(`lab.g.probe_${kind}`)));
  const box = el("div", { class: "action probe-box" }, el("p", { class: "apply-line" }, ...buttons), result);

  async function run(kind) {
    buttons.forEach((button) => (button.disabled = true));
    box.dataset.result = "running";
    result.textContent = t("lab.g.running", { n: PROBE_CONNECTIONS, seconds: PROBE_HOLD_MS / 1000 });
    try {
      const outcome = await probe(kind);
      box.dataset.result = outcome.answeredWhileOpen ? "answered" : "waited";
      result.textContent = describe(kind, outcome);
    } catch (error) {
      box.dataset.result = "error";
      result.textContent = t("lab.g.failed", { why: error.message });
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  }
  return box;
}

/** Opens the connections, times the fetch while they are open, closes them, waits for the answer. */
async function probe(kind) {
  const connections = Array.from({ length: PROBE_CONNECTIONS }, () => openConnection(kind));
  try {
    await Promise.race([Promise.all(connections.map((c) => c.opened)), sleep(OPEN_WAIT_MS)]);
    const opened = connections.filter((c) => c.isOpen()).length;
    const sent = performance.now();
    const answered = fetch("/api/time", { cache: "no-store" }).then((response) => response.json()).then(() => performance.now());
    const early = await Promise.race([answered, sleep(PROBE_HOLD_MS).then(() => null)]);
    if (early != null) return { opened, answeredWhileOpen: true, afterMs: early - sent };
    const closedAt = closeAll(connections);
    const late = await answered;
    return { opened, answeredWhileOpen: false, afterMs: late - sent, afterCloseMs: late - closedAt };
  } finally {
    closeAll(connections);
  }
}

/** One SSE stream or WebSocket to the feed: { opened (a promise), isOpen(), close() }. */
function openConnection(kind) {
  let open = false;
  let connection;
  const opened = new Promise((resolve) => {
    if (kind === "sse") {
      connection = new EventSource(transportPath("sse"));
    } else {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      connection = new WebSocket(`${scheme}://${location.host}${transportPath("ws")}`);
    }
    connection.onopen = () => {
      open = true;
      resolve();
    };
  });
  return { opened, isOpen: () => open, close: () => connection.close() };
}

function closeAll(connections) {
  for (const connection of connections) connection.close();
  return performance.now();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describe(kind, { opened, answeredWhileOpen, afterMs, afterCloseMs }) {
  const vars = { n: PROBE_CONNECTIONS, opened, ms: formatMillis(Math.round(afterMs)), close_ms: formatMillis(Math.round(afterCloseMs ?? 0)), seconds: PROBE_HOLD_MS / 1000 };
  return t(answeredWhileOpen ? `lab.g.answered_${kind}` : `lab.g.waited_${kind}`, vars);
}
