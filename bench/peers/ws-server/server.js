'use strict';
// Reference peer for `pushlab bench`: pushlab's feed over WebSocket (the `ws` package), SSE,
// long polling and short polling, on node:http. See ../README.md for what it implements.
//
//   node server.js --port 0 --rate 20
//
// Every event is serialized once when published (common/feed.js); the same bytes are written to
// every client. Slow clients hold a cursor in the replay ring instead of a private queue, like
// pushlab's: when one falls behind it is skipped, then resumed from the ring (with a `missed`
// notice if the ring moved past it). Nothing is dropped silently.

const http = require('node:http');
const { WebSocketServer } = require('ws');
const {
  Feed,
  HttpError,
  parseQuery,
  parseUint,
  parseSince,
  sendJson,
  sendError,
  pollBody,
  handleCommon,
  parseCli,
  listen,
} = require('../common/feed.js');

const opts = parseCli('The pushlab feed over ws, SSE, long poll and poll.');
const feed = new Feed(opts);

/** Longest a long poll is held, whatever `timeout_ms` asks (pushlab's --longpoll-max-ms). */
const LONGPOLL_MAX_MS = 60_000;
const LONGPOLL_DEFAULT_MS = 25_000;
/** An idle SSE stream gets a comment this often (pushlab: 15 s). */
const SSE_KEEPALIVE_MS = 15_000;
/** Ping every WebSocket this often; one that has not answered the previous ping is terminated. */
const WS_HEARTBEAT_MS = 30_000;
/**
 * WebSocket backpressure. `ws.bufferedAmount` counts bytes queued in user space (not yet taken
 * by the kernel). Above WS_HIGH_WATER (1 MiB, several thousand typical events) a client is
 * skipped: no more frames are queued for it and it keeps its cursor (last seq sent). Every
 * WS_RESUME_CHECK_MS, a skipped client whose queue has drained below WS_LOW_WATER (64 KiB) is
 * resumed from the ring: what is still there is sent, what already left is announced with a
 * `missed` notice. A client that reads nothing at all stops answering pings and is terminated
 * by the heartbeat. So the memory held for one slow client is bounded by about 1 MiB plus one
 * ring's worth of frames.
 */
const WS_HIGH_WATER = 1024 * 1024;
const WS_LOW_WATER = 64 * 1024;
const WS_RESUME_CHECK_MS = 50;
const WS_MAX_MESSAGE_BYTES = 64 * 1024;

// ---------------------------------------------------------------- long polling

/** Held long polls: { res, cursor, timer }. */
const waiters = new Set();

function longpoll(req, res, url) {
  const query = parseQuery(url.searchParams, ['since', 'timeout_ms']);
  const since = parseSince(feed, query.since);
  const timeout =
    query.timeout_ms === undefined
      ? LONGPOLL_DEFAULT_MS
      : Math.min(parseUint('timeout_ms', query.timeout_ms), LONGPOLL_MAX_MS);
  // Without `since` the client starts from now: it waits for the next event.
  const cursor = since ?? feed.lastSeq;
  if (feed.lastSeq > cursor) {
    sendJson(res, 200, pollBody(feed, cursor));
    return;
  }
  const waiter = { res, cursor, timer: null };
  waiter.timer = setTimeout(() => {
    waiters.delete(waiter);
    sendJson(res, 200, pollBody(feed, cursor));
  }, timeout);
  waiters.add(waiter);
  res.on('close', () => {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
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
    sendJson(waiter.res, 200, body);
  }
  waiters.clear();
}

// ---------------------------------------------------------------- server-sent events

/** Open streams: { res, cursor, blocked }. */
const sseClients = new Set();

function sseCatchUp(client) {
  const { events, missed, resumeSeq } = feed.since(client.cursor);
  const parts = [];
  if (missed > 0) {
    parts.push(Buffer.from(`event: missed\ndata: ${JSON.stringify(feed.missedNotice(missed, resumeSeq))}\n\n`));
  }
  for (const entry of events) parts.push(entry.sse);
  client.cursor = feed.lastSeq;
  if (parts.length > 0) client.blocked = !client.res.write(Buffer.concat(parts));
}

function sse(req, res, url) {
  const query = parseQuery(url.searchParams, ['since']);
  // A reconnecting EventSource sends Last-Event-ID; it wins over ?since.
  const lastEventId = req.headers['last-event-id'];
  const since =
    lastEventId !== undefined ? parseSince(feed, lastEventId.trim(), 'Last-Event-ID') : parseSince(feed, query.since);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    'X-Accel-Buffering': 'no',
  });
  const client = { res, cursor: since ?? feed.lastSeq, blocked: false };
  client.blocked = !res.write('retry: 2000\n\n');
  sseCatchUp(client);
  sseClients.add(client);
  // The socket took what was queued: send what the client missed meanwhile.
  res.on('drain', () => {
    client.blocked = false;
    sseCatchUp(client);
  });
  res.on('close', () => sseClients.delete(client));
}

function broadcastSse(entry) {
  for (const client of sseClients) {
    if (client.blocked) continue; // it resumes from its cursor on 'drain'
    if (client.cursor !== entry.seq - 1) {
      sseCatchUp(client);
      continue;
    }
    client.cursor = entry.seq;
    client.blocked = !client.res.write(entry.sse);
  }
}

setInterval(() => {
  for (const client of sseClients) {
    if (!client.blocked) client.blocked = !client.res.write(': keep-alive\n\n');
  }
}, SSE_KEEPALIVE_MS).unref();

// ---------------------------------------------------------------- WebSocket

const wss = new WebSocketServer({
  noServer: true,
  clientTracking: false, // the peer keeps its own set, with each client's cursor
  perMessageDeflate: false,
  maxPayload: WS_MAX_MESSAGE_BYTES,
  // Offers are checked before the upgrade (below): here pushlab.json is the only possibility.
  handleProtocols: (protocols) => (protocols.has('pushlab.json') ? 'pushlab.json' : false),
});

/** Open sockets: { ws, cursor, lagging, alive }. */
const wsClients = new Set();
/** The subset of wsClients currently skipped for backpressure. */
const lagging = new Set();
let resumeTimer = null;

function wsSend(client, bytes) {
  client.ws.send(bytes, { binary: false });
}

/** Sends what the client has not had yet from the ring (after a `missed` notice if needed). */
function wsCatchUp(client) {
  const { events, missed, resumeSeq } = feed.since(client.cursor);
  if (missed > 0) client.ws.send(JSON.stringify(feed.missedNotice(missed, resumeSeq)));
  for (const entry of events) wsSend(client, entry.bytes);
  client.cursor = feed.lastSeq;
}

function markLagging(client) {
  client.lagging = true;
  lagging.add(client);
  if (resumeTimer === null) resumeTimer = setInterval(resumeLagging, WS_RESUME_CHECK_MS);
}

function resumeLagging() {
  for (const client of lagging) {
    if (client.ws.readyState !== client.ws.OPEN) {
      lagging.delete(client);
    } else if (client.ws.bufferedAmount < WS_LOW_WATER) {
      lagging.delete(client);
      client.lagging = false;
      wsCatchUp(client);
    }
  }
  if (lagging.size === 0) {
    clearInterval(resumeTimer);
    resumeTimer = null;
  }
}

function broadcastWs(entry) {
  const bytes = entry.bytes;
  for (const client of wsClients) {
    if (client.lagging) continue;
    if (client.cursor !== entry.seq - 1) {
      wsCatchUp(client);
      continue;
    }
    if (client.ws.bufferedAmount > WS_HIGH_WATER) {
      markLagging(client); // keeps its cursor; resumed from the ring once drained
      continue;
    }
    client.cursor = entry.seq;
    wsSend(client, bytes);
  }
}

function onWebSocket(ws, since) {
  const client = { ws, cursor: since ?? feed.lastSeq, lagging: false, alive: true };
  wsCatchUp(client); // replay first; live events follow (same tick: nothing can come between)
  wsClients.add(client);
  ws.on('pong', () => {
    client.alive = true;
  });
  ws.on('message', (data, isBinary) => {
    client.alive = true;
    if (isBinary) {
      ws.close(1003, 'the feed takes JSON text messages');
      return;
    }
    // pushlab takes chat messages here; this peer only publishes the generator's ticks.
    ws.send('{"type":"error","error":"this peer does not take messages"}');
  });
  ws.on('error', () => ws.terminate());
  ws.on('close', () => {
    wsClients.delete(client);
    lagging.delete(client);
  });
}

setInterval(() => {
  for (const client of wsClients) {
    if (!client.alive) {
      client.ws.terminate();
      continue;
    }
    client.alive = false;
    client.ws.ping();
  }
}, WS_HEARTBEAT_MS).unref();

/** Answers a refused upgrade with a JSON error on the raw socket. */
function refuseUpgrade(socket, status, message) {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function onUpgrade(req, socket, head) {
  socket.on('error', () => socket.destroy());
  let since;
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/ws') throw new HttpError(404, 'no such page or endpoint');
    since = parseSince(feed, parseQuery(url.searchParams, ['since']).since);
    const offered = req.headers['sec-websocket-protocol'];
    if (offered !== undefined && !offered.split(',').some((p) => p.trim() === 'pushlab.json')) {
      throw new HttpError(
        400,
        `none of the offered subprotocols (${offered}) is spoken here; offer pushlab.json or none`,
      );
    }
  } catch (err) {
    refuseUpgrade(socket, err.status ?? 400, err.message);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onWebSocket(ws, since));
}

// ---------------------------------------------------------------- HTTP

function onRequest(req, res) {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (handleCommon(feed, opts, req, res, url)) return;
    const route = { '/api/longpoll': longpoll, '/api/sse': sse }[url.pathname];
    if (route === undefined) throw new HttpError(404, 'no such page or endpoint');
    if (req.method !== 'GET') throw new HttpError(405, 'use GET');
    route(req, res, url);
  } catch (err) {
    sendError(res, err);
  }
}

feed.on('event', (entry) => {
  broadcastWs(entry);
  broadcastSse(entry);
  answerWaiters();
});

const server = http.createServer(onRequest);
// Poll clients keep one connection between requests (pushlab keeps idle connections 30 s).
server.keepAliveTimeout = 30_000;
server.on('upgrade', onUpgrade);
server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  else socket.destroy();
});
listen(server, opts.port);
feed.start();

function shutdown() {
  feed.stop();
  for (const client of wsClients) client.ws.close(1001, 'server shutting down');
  for (const client of sseClients) client.res.end();
  for (const waiter of waiters) waiter.res.destroy();
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
