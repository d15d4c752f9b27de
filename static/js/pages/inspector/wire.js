// pages/inspector/wire.js — one event, five ways: the bytes each transport puts on the wire to hand
// the same event to a browser, side by side (request head, response head, framing, payload).
//
// Real where the page can know: bodies and payloads are measured on real requests made now
// (a poll, a long poll and a classic page asked for the same event); request heads are the
// server's own count at its socket (mean per request of that transport, all clients); the
// WebSocket upgrade request is the one the server logged for this page. Everything else —
// response heads hidden by the browser, SSE records, frame headers — is rebuilt from the
// wire format and marked as an estimate.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatBytes } from "../../shared/format.js";
import { TRANSPORT_IDS, transportPath } from "../../shared/transports.js";
import { frameSize } from "../../wire/frames.js";
import { responseHeadBytes } from "../../measures/resource-bytes.js";
import { CLASSIC_ANSWER, JSON_ANSWER, requestHeadBytes, sseRecordBytes, sseResponseHeadBytes, switchingProtocolsAnswer, utf8Length } from "../../wire/estimates.js";

const ROWS = ["request_head", "response_head", "framing", "payload", "total", "per_connection"];

/** A figure and how the page knows it: "measured", "server" (server's mean) or "estimate". */
const cell = (bytes, source) => ({ bytes, source });

export async function measureWire(table, note, { record }) {
  const answers = await fetchOneEventFiveWays();
  const meanHead = meanRequestHeads(answers.stats);
  const columns = wireColumns(answers, meanHead, record);
  drawTable(table, columns, answers.event.seq);

  const { emptyPoll } = answers;
  const emptyHead = responseHead(emptyPoll, JSON_ANSWER);
  note.textContent = t("proto.wire.empty_poll", {
    bytes: formatBytes(emptyPoll.bodyBytes + emptyHead.bytes),
    request: formatBytes(meanHead("poll").bytes),
  });
}

/**
 * The same event as each request/response transport answers it (measured), an empty short poll,
 * and the server's totals once it has counted at least one SSE request head.
 */
async function fetchOneEventFiveWays() {
  const { event, epoch, eventJson, poll } = await pollOneEvent();
  const longpoll = await measuredFetch(`${transportPath("longpoll")}?since=${event.seq - 1}&timeout_ms=1000`);
  const classic = await measuredFetch(`${transportPath("classic")}?seen=${event.seq - 1}`);
  const emptyPoll = await measuredFetch(transportPath("poll"));
  await openSseBriefly(); // so the server has counted at least one SSE request head
  const stats = await (await fetch("/api/stats", { cache: "no-store" })).json();
  return { event, epoch, eventJson, poll, longpoll, classic, emptyPoll, stats };
}

/** The mean request head the server counted for a transport (a page cannot see its own). */
function meanRequestHeads(stats) {
  return (id) => {
    const s = stats.transports[id];
    return s && s.requests > 0 ? cell(Math.round(s.bytes_in / s.requests), "server") : cell(null, "estimate");
  };
}

/** One column of cells per transport (see ROWS), each with how the page knows it. */
function wireColumns({ event, epoch, eventJson, poll, longpoll, classic }, meanHead, record) {
  const payload = utf8Length(eventJson);
  const row = classicRow(classic.text, event.seq);
  const rowBytes = row ? utf8Length(row) : 0;
  const columns = {
    classic: {
      request_head: meanHead("classic"),
      response_head: responseHead(classic, CLASSIC_ANSWER),
      framing: cell(classic.bodyBytes - rowBytes, "measured"),
      payload: cell(rowBytes, "measured"),
      per_connection: null,
    },
    poll: {
      request_head: meanHead("poll"),
      response_head: responseHead(poll, JSON_ANSWER),
      framing: cell(poll.bodyBytes - payload, "measured"),
      payload: cell(payload, "measured"),
      per_connection: null,
    },
    longpoll: {
      request_head: meanHead("longpoll"),
      response_head: responseHead(longpoll, JSON_ANSWER),
      framing: cell(longpoll.bodyBytes - utf8Length(exactEventJson(longpoll.text) ?? eventJson), "measured"),
      payload: cell(payload, "measured"),
      per_connection: null,
    },
    sse: {
      request_head: cell(0, "measured"),
      response_head: cell(0, "measured"),
      // The record's id names the run and the seq (PROTOCOL.md): `id: <epoch>:<seq>`.
      framing: cell(sseRecordBytes(`${epoch}:${event.seq}`, event.kind, eventJson) - payload, "estimate"),
      payload: cell(payload, "measured"),
      per_connection: sum([meanHead("sse"), cell(sseResponseHeadBytes(), "estimate")]),
    },
    ws: {
      request_head: cell(0, "measured"),
      response_head: cell(0, "measured"),
      framing: cell(frameSize(payload, false) - payload, "estimate"),
      payload: cell(payload, "measured"),
      per_connection: sum([cell(requestHeadBytes(record), "server"), cell(utf8Length(switchingProtocolsAnswer(record)), record.response_head ? "server" : "estimate")]),
    },
  };
  for (const id of TRANSPORT_IDS) {
    const c = columns[id];
    c.total = sum([c.request_head, c.response_head, c.framing, c.payload]);
  }
  return columns;
}

/** A short poll that returns exactly one event (a new one may slip in: then ask again). */
async function pollOneEvent() {
  for (let attempt = 0; attempt < 5; attempt++) {
    const health = await (await fetch("/healthz", { cache: "no-store" })).json();
    if (health.last_seq === 0) throw new Error(t("proto.wire.no_event"));
    const poll = await measuredFetch(`${transportPath("poll")}?since=${health.last_seq - 1}`);
    const answer = JSON.parse(poll.text);
    if (answer.events.length === 1) return { event: answer.events[0], epoch: answer.epoch, eventJson: exactEventJson(poll.text), poll };
  }
  throw new Error(t("proto.wire.busy"));
}

/** The event exactly as the server wrote it inside {"events":[...],...} (one event). */
function exactEventJson(text) {
  const start = text.indexOf("[") + 1;
  const end = text.lastIndexOf("]");
  return start > 0 && end > start ? text.slice(start, end) : null;
}

/** The row <tr data-seq="seq">…</tr> of a classic page: that event, as HTML. */
function classicRow(html, seq) {
  return new RegExp(`<tr[^>]*data-seq="${seq}"[^>]*>[\\s\\S]*?</tr>`).exec(html)?.[0] ?? null;
}

async function measuredFetch(url) {
  const absolute = new URL(url, location.href).href;
  const response = await fetch(url, { cache: "no-store" });
  const text = await response.text();
  let entry = null;
  // The timing entry is queued just after the body ends: give it a few ticks.
  for (let i = 0; i < 20 && !entry; i++) {
    entry = performance.getEntriesByName(absolute).at(-1) ?? null;
    if (!entry) await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { text, entry, bodyBytes: utf8Length(text) };
}

function responseHead(measured, answer) {
  const { bytes, measured: exact } = responseHeadBytes(measured.entry, measured.bodyBytes, answer);
  return cell(bytes, exact ? "measured" : "estimate");
}

function openSseBriefly() {
  return new Promise((resolve) => {
    const source = new EventSource(transportPath("sse"));
    const done = () => {
      source.close();
      resolve();
    };
    source.onopen = done;
    source.onerror = done;
  });
}

function sum(cells) {
  if (cells.some((c) => c.bytes == null)) return cell(null, "estimate");
  const source = cells.some((c) => c.source === "estimate") ? "estimate" : cells.some((c) => c.source === "server") ? "server" : "measured";
  return cell(cells.reduce((total, c) => total + c.bytes, 0), source);
}

function drawTable(table, columns, seq) {
  table.dataset.seq = String(seq);
  table.replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t("proto.wire.part")),
      ...TRANSPORT_IDS.map((id) => el("th", { scope: "col", class: `num transport-${id}` }, t(`transport.${id}`))))),
    el("tbody", {}, ROWS.map((row) => el("tr", { dataset: { row } },
      el("th", { scope: "row", title: t(`proto.wire.${row}_help`) }, t(`proto.wire.${row}`)),
      ...TRANSPORT_IDS.map((id) => drawCell(columns[id][row], id, row))))),
  );
}

function drawCell(c, id, row) {
  if (c == null) return el("td", { class: "num muted", title: t("proto.wire.in_every_event") }, t("proto.wire.every_event"));
  const text = c.bytes == null ? "–" : formatBytes(c.bytes);
  const strong = row === "total";
  return el("td", { class: `num ${c.source === "estimate" ? "estimate" : ""} source-${c.source}`, title: t(`proto.wire.source_${c.source}`), dataset: { transport: id, bytes: c.bytes ?? "" } },
    strong ? el("strong", {}, text) : text,
    c.source === "server" ? el("sup", {}, "S") : null);
}
