'use strict';
// Reference peer for `pushlab bench`: pushlab's feed over Socket.IO 4 (Engine.IO protocol v4),
// websocket and HTTP long-polling transports both enabled. See ../README.md for the wire format.
//
//   node server.js --port 0 --rate 20
//
// A client connects to /socket.io/?EIO=4&transport=...&since=S. After the namespace connect
// (`40`), it gets the ring's events after S (one `event` each, preceded by a `missed` event if
// some already left the ring), then every new event as `42["event",{...}]`.
//
// Live events go out with one io.emit() broadcast: Socket.IO encodes the packet once for all
// clients (and even builds the WebSocket frame once), so serialization is shared. The replay is
// per socket, with socket.emit().

const http = require('node:http');
const { Server } = require('socket.io');
const { Feed, HttpError, parseSince, sendError, handleCommon, parseCli, listen } = require('../common/feed.js');

const opts = parseCli('The pushlab feed over Socket.IO (websocket and polling).');
const feed = new Feed(opts);

/**
 * Backpressure: Engine.IO queues packets per client without bound (socket.conn.writeBuffer)
 * while its transport cannot take them. Once a second, a client with more than this many
 * packets waiting is disconnected (it can reconnect with `since` and resume from the ring).
 */
const MAX_QUEUED_PACKETS = 10_000;

function onRequest(req, res) {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (handleCommon(feed, opts, req, res, url)) return;
    throw new HttpError(404, 'no such page or endpoint');
  } catch (err) {
    sendError(res, err);
  }
}

const server = http.createServer(onRequest);
server.keepAliveTimeout = 30_000;

// Socket.IO takes the requests under /socket.io/ and hands every other one to onRequest.
const io = new Server(server, {
  serveClient: false,
  transports: ['polling', 'websocket'],
  perMessageDeflate: false,
});

// Refuse a bad `since` before the namespace connect: the client gets a connect_error
// (`44{"message":"..."}`) instead of `40`.
io.use((socket, next) => {
  try {
    const since = socket.handshake.query.since;
    if (since !== undefined && typeof since !== 'string') throw new HttpError(400, 'since is given twice');
    socket.data.since = parseSince(feed, since);
    next();
  } catch (err) {
    next(new Error(err.message));
  }
});

io.on('connection', (socket) => {
  // Runs in the same tick as the socket joining the namespace: io.emit() reaches it from the
  // next event on, and the replay below covers everything up to now.
  const since = socket.data.since;
  if (since === null) return; // no `since`: start from now
  const { events, missed, resumeSeq } = feed.since(since);
  if (missed > 0) socket.emit('missed', feed.missedNotice(missed, resumeSeq));
  for (const entry of events) socket.emit('event', entry.event);
});

feed.on('event', (entry) => io.emit('event', entry.event));

setInterval(() => {
  for (const socket of io.of('/').sockets.values()) {
    if (socket.conn.writeBuffer.length > MAX_QUEUED_PACKETS) socket.disconnect(true);
  }
}, 1000).unref();

listen(server, opts.port);
feed.start();

function shutdown() {
  feed.stop();
  io.close(() => process.exit(0)); // disconnects every client and closes the HTTP server
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
