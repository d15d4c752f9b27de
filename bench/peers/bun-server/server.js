'use strict';
// Reference peer for `pushlab bench`: pushlab's feed on Bun.serve — WebSocket through Bun's
// built-in pub/sub (uWebSockets: `server.publish` writes one event to every subscriber from
// native code), SSE as a streaming response (a direct ReadableStream), long polling and short
// polling. The same endpoints and feed semantics as ../ws-server (see ../README.md).
//
//   bun server.js --port 0 --rate 20
//
// The feed itself (generator, ring, settings, command line) is ../common/feed.js, shared with
// the Node peers: Bun runs it unchanged (node:events, node:perf_hooks, node:util, node:crypto).

const { timingSafeEqual } = require('node:crypto');
const { Feed, HttpError, parseQuery, parseUint, parseSince, pollBody, parseCli, unixMicros } = require(
  '../common/feed.js',
);

const opts = parseCli('The pushlab feed on Bun.serve: WebSocket pub/sub, SSE, long poll and poll.');
const feed = new Feed(opts);

/** The pub/sub topic every WebSocket joins once its replay is sent. */
const TOPIC = 'feed';
const LONGPOLL_MAX_MS = 60_000;
const LONGPOLL_DEFAULT_MS = 25_000;
const SSE_KEEPALIVE_MS = 15_000;
const MAX_BODY_BYTES = 64 * 1024;
/**
 * WebSocket backpressure. A publish to a socket holding more than this many unsent bytes would
 * be dropped silently by uWebSockets; with closeOnBackpressureLimit the socket is closed instead,
 * and the client can reconnect with `since` to resume from the ring (with a `missed` notice if
 * the ring moved past it). Nothing is dropped silently.
 */
const WS_BACKPRESSURE_LIMIT = 1024 * 1024;
/** No data for this long (seconds): uWebSockets pings, then closes a socket that stays silent. */
const WS_IDLE_TIMEOUT_S = 60;
/** Idle keep-alive HTTP connections are closed after this many seconds (pushlab: 30). */
const HTTP_IDLE_TIMEOUT_S = 30;

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

/** A JSON answer; Bun sets Content-Length for a string body (the bench reads sized bodies). */
function json(status, body, headers) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Response(text, { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS });
}

function errorResponse(err) {
  if (err instanceof HttpError) {
    const headers = err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : undefined;
    return json(err.status, { error: err.message }, headers);
  }
  console.error(err);
  return json(500, { error: 'internal error' });
}

function tokenMatches(header, token) {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function adminSettings(req) {
  if (!tokenMatches(req.headers.get('authorization'), opts.adminToken)) {
    throw new HttpError(401, 'missing or wrong admin token (Authorization: Bearer <token>)');
  }
  if (req.method === 'GET') return json(200, feed.settings);
  if (req.method !== 'PUT') throw new HttpError(405, 'use GET or PUT');
  if (!/^application\/json\b/i.test(req.headers.get('content-type') ?? '')) {
    throw new HttpError(415, 'the body must be JSON (Content-Type: application/json)');
  }
  const raw = await req.text();
  if (Buffer.byteLength(raw) > MAX_BODY_BYTES) {
    throw new HttpError(413, `the body may be at most ${MAX_BODY_BYTES} bytes`);
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${e.message}`);
  }
  return json(200, feed.update(body));
}

// ---------------------------------------------------------------- long polling

/** Held long polls: { resolve, cursor, timer }. */
const waiters = new Set();

function longpoll(req, url, server) {
  const query = parseQuery(url.searchParams, ['since', 'timeout_ms']);
  const since = parseSince(feed, query.since);
  const timeout =
    query.timeout_ms === undefined
      ? LONGPOLL_DEFAULT_MS
      : Math.min(parseUint('timeout_ms', query.timeout_ms), LONGPOLL_MAX_MS);
  // Without `since` the client starts from now: it waits for the next event.
  const cursor = since ?? feed.lastSeq;
  if (feed.lastSeq > cursor) return json(200, pollBody(feed, cursor));
  // A held request is not idle: the HTTP idle timeout must not end it.
  server.timeout(req, 0);
  return new Promise((resolve) => {
    const waiter = { resolve, cursor, timer: null };
    waiter.timer = setTimeout(() => {
      waiters.delete(waiter);
      resolve(json(200, pollBody(feed, cursor)));
    }, timeout);
    waiters.add(waiter);
    req.signal.addEventListener('abort', () => {
      clearTimeout(waiter.timer);
      waiters.delete(waiter);
    });
  });
}

function answerWaiters() {
  if (waiters.size === 0) return;
  // Waiters with the same cursor (the usual case) share one body.
  const bodies = new Map();
  for (const waiter of waiters) {
    clearTimeout(waiter.timer);
    let body = bodies.get(waiter.cursor);
    if (body === undefined) {
      body = pollBody(feed, waiter.cursor);
      bodies.set(waiter.cursor, body);
    }
    waiter.resolve(json(200, body));
  }
  waiters.clear();
}

// ---------------------------------------------------------------- server-sent events

/** Open streams: { controller, cursor, blocked, end }. */
const sseClients = new Set();

/**
 * Writes to one stream and flushes it to the socket. Bun's direct stream answers a write the
 * socket could not take with a promise: the client is then skipped (it keeps its cursor) until
 * the promise settles, and resumes from the ring.
 */
function sseWrite(client, bytes) {
  let pending;
  try {
    const written = client.controller.write(bytes);
    const flushed = client.controller.flush();
    pending = typeof flushed === 'object' ? flushed : typeof written === 'object' ? written : null;
  } catch {
    sseClose(client);
    return;
  }
  if (pending !== null) {
    client.blocked = true;
    pending.then(
      () => {
        client.blocked = false;
        if (sseClients.has(client)) sseCatchUp(client);
      },
      () => sseClose(client),
    );
  }
}

function sseCatchUp(client) {
  const { events, missed, resumeSeq } = feed.since(client.cursor);
  const parts = [];
  if (missed > 0) {
    parts.push(Buffer.from(`event: missed\ndata: ${JSON.stringify(feed.missedNotice(missed, resumeSeq))}\n\n`));
  }
  for (const entry of events) parts.push(entry.sse);
  client.cursor = feed.lastSeq;
  if (parts.length > 0) sseWrite(client, parts.length === 1 ? parts[0] : Buffer.concat(parts));
}

function sseClose(client) {
  if (!sseClients.delete(client)) return;
  client.end();
}

function sse(req, url, server) {
  const query = parseQuery(url.searchParams, ['since']);
  // A reconnecting EventSource sends Last-Event-ID; it wins over ?since.
  const lastEventId = req.headers.get('last-event-id');
  const since =
    lastEventId !== null ? parseSince(feed, lastEventId.trim(), 'Last-Event-ID') : parseSince(feed, query.since);
  server.timeout(req, 0); // the stream's own keep-alive comments take care of idle proxies
  const client = { controller: null, cursor: since ?? feed.lastSeq, blocked: false, end: null };
  const stream = new ReadableStream({
    type: 'direct',
    // Called once by Bun.serve; the response lasts as long as the promise is pending.
    pull(controller) {
      client.controller = controller;
      return new Promise((resolve) => {
        client.end = () => {
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
          resolve();
        };
        sseClients.add(client);
        sseWrite(client, 'retry: 2000\n\n');
        sseCatchUp(client);
      });
    },
    cancel() {
      sseClose(client);
    },
  });
  req.signal.addEventListener('abort', () => sseClose(client));
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
  });
}

function broadcastSse(entry) {
  for (const client of sseClients) {
    if (client.blocked || client.controller === null) continue; // resumes from its cursor later
    if (client.cursor !== entry.seq - 1) {
      sseCatchUp(client);
      continue;
    }
    client.cursor = entry.seq;
    sseWrite(client, entry.sse);
  }
}

setInterval(() => {
  for (const client of sseClients) {
    if (!client.blocked && client.controller !== null) sseWrite(client, ': keep-alive\n\n');
  }
}, SSE_KEEPALIVE_MS).unref();

// ---------------------------------------------------------------- WebSocket

function upgrade(req, url, server) {
  const since = parseSince(feed, parseQuery(url.searchParams, ['since']).since);
  const offered = req.headers.get('sec-websocket-protocol');
  let headers;
  if (offered !== null) {
    if (!offered.split(',').some((p) => p.trim() === 'pushlab.json')) {
      throw new HttpError(400, `none of the offered subprotocols (${offered}) is spoken here; offer pushlab.json or none`);
    }
    headers = { 'Sec-WebSocket-Protocol': 'pushlab.json' };
  }
  if (server.upgrade(req, { data: { cursor: since ?? feed.lastSeq }, headers })) return undefined;
  throw new HttpError(400, 'expected a WebSocket upgrade (Upgrade: websocket)');
}

const websocket = {
  perMessageDeflate: false,
  maxPayloadLength: 64 * 1024,
  backpressureLimit: WS_BACKPRESSURE_LIMIT,
  closeOnBackpressureLimit: true,
  idleTimeout: WS_IDLE_TIMEOUT_S,
  sendPings: true,
  open(ws) {
    // Replay first, then join the topic: publishes run on this same thread, so nothing can
    // come between the last replayed event and the first published one.
    const { events, missed, resumeSeq } = feed.since(ws.data.cursor);
    if (missed > 0) ws.send(JSON.stringify(feed.missedNotice(missed, resumeSeq)));
    for (const entry of events) ws.send(entry.json);
    ws.subscribe(TOPIC);
  },
  message(ws, message) {
    if (typeof message !== 'string') {
      ws.close(1003, 'the feed takes JSON text messages');
      return;
    }
    // pushlab takes chat messages here; this peer only publishes the generator's ticks.
    ws.send('{"type":"error","error":"this peer does not take messages"}');
  },
};

// ---------------------------------------------------------------- HTTP

function route(req, server) {
  const url = new URL(req.url);
  switch (url.pathname) {
    case '/api/poll':
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return json(200, pollBody(feed, parseSince(feed, parseQuery(url.searchParams, ['since']).since)));
    case '/api/time':
      return json(200, `{"ts":${unixMicros()}}`);
    case '/healthz':
      return json(200, `{"last_seq":${feed.lastSeq},"status":"ok"}`);
    case '/api/admin/settings':
      return adminSettings(req).catch(errorResponse);
    case '/api/longpoll':
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return longpoll(req, url, server);
    case '/api/sse':
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return sse(req, url, server);
    case '/ws':
      return upgrade(req, url, server);
    default:
      throw new HttpError(404, 'no such page or endpoint');
  }
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: opts.port,
  idleTimeout: HTTP_IDLE_TIMEOUT_S,
  maxRequestBodySize: MAX_BODY_BYTES,
  fetch(req, server) {
    try {
      return route(req, server);
    } catch (err) {
      return errorResponse(err);
    }
  },
  error: errorResponse,
  websocket,
});

feed.on('event', (entry) => {
  server.publish(TOPIC, entry.json);
  broadcastSse(entry);
  answerWaiters();
});

process.stdout.write(`listening on http://127.0.0.1:${server.port}\n`);
feed.start();

function shutdown() {
  feed.stop();
  for (const client of [...sseClients]) sseClose(client);
  server.stop(true);
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
