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

/** The SSE response head and its first chunk (`retry: 2000`), as pushlab writes them. */
export function sseResponseHeadBytes() {
  const head =
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-accel-buffering: no\r\n" +
    "content-type: text/event-stream\r\ncache-control: no-cache\r\n" +
    `date: ${new Date().toUTCString()}\r\n\r\n`;
  return utf8Length(head) + chunkSize(utf8Length("retry: 2000\n\n"));
}

/** The 101 answer pushlab writes for an accepted upgrade (header names lowercase, as actix-http writes them). */
export function switchingProtocolsHead(accept, protocol) {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "connection: upgrade",
    `sec-websocket-accept: ${accept}`,
    "upgrade: websocket",
  ];
  if (protocol) lines.push(`sec-websocket-protocol: ${protocol}`);
  lines.push(`date: ${new Date().toUTCString()}`);
  return lines.join("\r\n") + "\r\n\r\n";
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

/** The head of a plain 200 answer (poll, long poll, classic page), as pushlab writes it. */
export function plainResponseHeadBytes(contentLength, contentType) {
  return utf8Length(
    `HTTP/1.1 200 OK\r\ncontent-length: ${contentLength}\r\ncontent-type: ${contentType}\r\n` +
      `cache-control: no-store\r\ndate: ${new Date().toUTCString()}\r\n\r\n`,
  );
}
