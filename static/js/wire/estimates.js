// wire/estimates.js — byte sizes the page cannot measure, computed from the wire formats.
//
// A browser never shows SSE records, chunk headers, WebSocket frames or the 101 answer to the
// page. These functions rebuild them from pushlab's formats (as written by actix-http), so the
// numbers are close, and every place that shows one labels it as an estimate.

const encoder = new TextEncoder();

export function utf8Length(text) {
  return encoder.encode(text).length;
}

/** One chunk of a chunked response: hex size, CRLF, data, CRLF. */
export function chunkSize(dataBytes) {
  return dataBytes.toString(16).length + 2 + dataBytes + 2;
}

/** One SSE record as /api/sse writes it, in its own chunk. */
export function sseRecordBytes(id, kind, data) {
  return chunkSize(utf8Length(`id: ${id}\nevent: ${kind}\ndata: ${data}\n\n`));
}

/**
 * The line every public answer ends its headers with: server/cors.rs appends `Vary: Origin`
 * (RFC 9110 §12.5.5) after the endpoint's own headers, whoever asked.
 */
const VARY_ORIGIN = "vary: Origin\r\n";

/** The first chunk's record: how long EventSource waits before reconnecting. */
const SSE_RETRY = "retry: 2000\n\n";

/** A record without an id, as pushlab writes its notices (`reset`, `missed`). */
function noticeRecord(kind, data) {
  return `event: ${kind}\ndata: ${data}\n\n`;
}

/**
 * What a `reset` notice adds to the stream's first chunk, where it follows `retry:` (the
 * stream's head and retry are in sseResponseHeadBytes): its record, and a longer size line.
 */
export function sseResetBytes(data) {
  const retry = utf8Length(SSE_RETRY);
  return chunkSize(retry + utf8Length(noticeRecord("reset", data))) - chunkSize(retry);
}

/** A `missed` notice, in its own chunk, as a stream that writes its own records sends it. */
export function sseMissedBytes(data) {
  return chunkSize(utf8Length(noticeRecord("missed", data)));
}

/**
 * The origin another server echoes in its CORS answers to this page, whose heads then carry
 * corsLines: this page's, or null when `server` (an origin) is the page's own.
 */
export function echoedOrigin(server) {
  return server === location.origin ? null : location.origin;
}

/**
 * What server/cors.rs adds to an answer for a page of another origin it admits (`pageOrigin`,
 * echoed): a page that follows another server of its cluster gets these on every answer.
 * Nothing for a same-origin answer (`pageOrigin` null).
 */
function corsLines(pageOrigin) {
  if (!pageOrigin) return "";
  return (
    `access-control-allow-origin: ${pageOrigin}\r\ntiming-allow-origin: ${pageOrigin}\r\n` +
    "access-control-expose-headers: Retry-After, Content-Disposition, Content-Length\r\n"
  );
}

/**
 * The SSE response head and its first chunk (`retry: 2000`), as pushlab writes them;
 * `pageOrigin` when the stream comes from another origin than the page's (see corsLines).
 */
export function sseResponseHeadBytes(pageOrigin = null) {
  const head =
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncache-control: no-cache\r\n" +
    `x-accel-buffering: no\r\ncontent-type: text/event-stream\r\n${VARY_ORIGIN}${corsLines(pageOrigin)}` +
    `date: ${new Date().toUTCString()}\r\n\r\n`;
  return utf8Length(head) + chunkSize(utf8Length(SSE_RETRY));
}

/**
 * The 101 answer of a WebSocket upgrade, as text: the head the server recorded for the inspector
 * (`record.response_head`, written as sent, without the `date` line actix adds), or, from a
 * record without it, the head rebuilt from the accept value and the chosen subprotocol (header
 * names lowercase, as actix-http writes them), with the CORS lines for a page of another origin
 * (`pageOrigin`, see corsLines).
 */
export function switchingProtocolsAnswer(record, pageOrigin = null) {
  const date = `date: ${new Date().toUTCString()}\r\n\r\n`;
  if (record.response_head) return `${record.response_head}${date}`;
  const lines = [
    "HTTP/1.1 101 Switching Protocols\r\n",
    "connection: upgrade\r\n",
    `sec-websocket-accept: ${record.accept}\r\n`,
  ];
  if (record.chosen_subprotocol) lines.push(`sec-websocket-protocol: ${record.chosen_subprotocol}\r\n`);
  lines.push("upgrade: websocket\r\n", VARY_ORIGIN, corsLines(pageOrigin), date);
  return lines.join("");
}

/**
 * The size of a request head from the server's handshake record (GET /api/handshake/{tag}): the
 * server counts it before redacting credentials (their values are never kept), so its count is
 * used; the sum of the shown lines is the fallback.
 */
export function requestHeadBytes(record) {
  if (Number.isFinite(record.request_head_bytes)) return record.request_head_bytes;
  const headers = record.request_headers.map(([name, value]) => `${name}: ${value}\r\n`).join("");
  return utf8Length(`${record.request_line}\r\n${headers}\r\n`);
}

/** What a JSON answer (short poll, long poll) carries besides its length and date. */
export const JSON_ANSWER = { contentType: "application/json", vary: [] };
/** What the classic page carries: it is written in the reader's language, for a frame or a tab. */
export const CLASSIC_ANSWER = { contentType: "text/html; charset=utf-8", vary: ["accept-language, sec-fetch-dest"] };

/**
 * The head of a plain 200 answer (`answer`: JSON_ANSWER or CLASSIC_ANSWER), as pushlab writes it;
 * `pageOrigin` when the answer comes from another origin than the page's (see corsLines).
 */
export function plainResponseHeadBytes(contentLength, { contentType, vary }, pageOrigin = null) {
  const own = vary.map((names) => `vary: ${names}\r\n`).join("");
  return utf8Length(
    `HTTP/1.1 200 OK\r\ncontent-length: ${contentLength}\r\ncache-control: no-store\r\n` +
      `content-type: ${contentType}\r\n${own}${VARY_ORIGIN}${corsLines(pageOrigin)}` +
      `date: ${new Date().toUTCString()}\r\n\r\n`,
  );
}
