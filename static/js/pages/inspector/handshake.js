// pages/inspector/handshake.js — the protocol page's first section: open /ws?inspect=TAG from this
// browser, then show the upgrade request as the server saw it (GET /api/handshake/TAG) and
// the 101 answer. The page cannot read the 101's headers itself (browsers hide them), so the
// answer is rebuilt from the server's record in the form pushlab writes it, and says so.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatCount } from "../../shared/format.js";
import { transportPath } from "../../shared/transports.js";
import { requestHeadBytes, switchingProtocolsAnswer, utf8Length } from "../../wire/estimates.js";

/** Header names the slides talk about: drawn highlighted. */
const HIGHLIGHTED = new Set(["upgrade", "connection", "sec-websocket-key", "sec-websocket-accept", "sec-websocket-version", "sec-websocket-protocol", "origin", "host"]);

export function randomTag(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(6)); // getRandomValues works without https
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function socketUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

/** Fetches the handshake the server logged for `tag`. */
export async function fetchHandshake(tag) {
  const response = await fetch(`/api/handshake/${tag}`, { cache: "no-store" });
  if (!response.ok) throw new Error(t("proto.error.no_record", { tag, status: response.status }));
  return response.json();
}

/**
 * Opens the inspected socket and draws the handshake into `view` ({ request, requestSize,
 * response, responseSize, fields }). Resolves to { socket, record, firstMessage }, where
 * firstMessage is a promise of the first event's text (for the frame anatomy).
 */
export async function inspectHandshake(view) {
  const tag = randomTag("inspect");
  const socket = new WebSocket(socketUrl(`${transportPath("ws")}?inspect=${tag}`), ["pushlab.json", "pushlab.bin"]);
  const firstMessage = new Promise((resolve) => {
    socket.addEventListener("message", (message) => resolve(message.data), { once: true });
  });
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("close", (close) => reject(new Error(t("proto.error.ws_failed", { code: close.code }))), { once: true });
  });
  const record = await fetchHandshake(tag);

  const requestLines = [record.request_line, ...record.request_headers.map(([name, value]) => `${name}: ${value}`)];
  drawHead(view.request, requestLines);
  view.requestSize.textContent = t("proto.handshake.request_size", { bytes: formatCount(requestHeadBytes(record)) });

  // The server records its 101 head as written, but for the `date` line actix adds.
  const answer = switchingProtocolsAnswer(record);
  drawHead(view.response, answer.trimEnd().split("\r\n"));
  view.responseSize.textContent = t("proto.handshake.response_size", { bytes: formatCount(utf8Length(answer)) });

  drawFields(view.fields, record, socket);
  return { socket, record, firstMessage };
}

function drawHead(pre, lines) {
  pre.replaceChildren();
  lines.forEach((line, i) => {
    const name = line.split(":")[0].toLowerCase();
    const highlighted = i > 0 && HIGHLIGHTED.has(name);
    pre.append(highlighted ? el("span", { class: "hl" }, line) : line, "\n");
  });
}

function drawFields(table, record, socket) {
  const none = t("proto.none");
  const rows = [
    ["proto.field.key", record.key, "proto.field.key_help"],
    ["proto.field.origin", record.origin ?? none, "proto.field.origin_help"],
    ["proto.field.offered", record.offered_subprotocols.join(", ") || none, "proto.field.offered_help"],
    ["proto.field.chosen", record.chosen_subprotocol ?? none, "proto.field.chosen_help"],
    ["proto.field.browser_protocol", socket.protocol || none, "proto.field.browser_protocol_help"],
    ["proto.field.extensions", socket.extensions || none, "proto.field.extensions_help"],
  ];
  table.replaceChildren(
    el("tbody", {}, rows.map(([label, value, help]) =>
      el("tr", {}, el("th", { scope: "row" }, t(label)), el("td", {}, el("code", {}, value)), el("td", { class: "small muted" }, t(help))))),
  );
}
