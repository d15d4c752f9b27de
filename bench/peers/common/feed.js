'use strict';
// The feed shared by both Node peers: the tick generator, the replay ring, the live settings,
// the command line, and the plain-HTTP endpoints both peers serve (/api/poll, /api/time,
// /healthz, /api/admin/settings). No dependency outside Node's standard library.
//
// Every event is serialized to JSON once, when it is published; each transport derives its own
// encoding of it (SSE record, WebSocket payload) at most once too, and every client reuses it.

const { EventEmitter } = require('node:events');
const { performance } = require('node:perf_hooks');
const { parseArgs } = require('node:util');
const { timingSafeEqual } = require('node:crypto');

// The same bounds as pushlab (src/feed/mod.rs, src/config.rs).
const MAX_RATE_HZ = 1000;
const MAX_PAYLOAD_BYTES = 64 * 1024;
const MAX_BUFFER = 65536;
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Wall-clock Unix time in microseconds, precise to the µs: the high-resolution monotonic clock
 * anchored on `performance.timeOrigin` (which Node takes from the wall clock with µs precision at
 * start). Date.now() only has milliseconds.
 */
function unixMicros() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** An error that becomes a 4xx answer `{"error": message}`. */
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** A bounded random walk around 100, like pushlab's generator. */
function nextValue(value) {
  const step = Math.random() - 0.5;
  return Math.round(Math.min(150, Math.max(50, value + step)) * 100) / 100;
}

/**
 * One published event. `json` is the event serialized once; the transports' encodings are
 * built on first use and then shared by every client.
 */
class Entry {
  constructor(event) {
    this.seq = event.seq;
    this.event = event;
    this.json = JSON.stringify(event);
    this._sse = undefined;
    this._frame = undefined;
  }

  /** The SSE record `id: <seq>\nevent: <kind>\ndata: <json>\n\n`, as bytes. */
  get sse() {
    if (this._sse === undefined) {
      this._sse = Buffer.from(`id: ${this.seq}\nevent: ${this.event.kind}\ndata: ${this.json}\n\n`);
    }
    return this._sse;
  }

  /** The JSON as bytes (a WebSocket text payload). */
  get bytes() {
    if (this._frame === undefined) this._frame = Buffer.from(this.json);
    return this._frame;
  }
}

/**
 * The live feed: seq from 1, no gaps; a ring of the last `capacity` events; emits 'event' with
 * each new Entry, synchronously, right after it is stored in the ring.
 */
class Feed extends EventEmitter {
  constructor({ rate, buffer }) {
    super();
    this.capacity = buffer;
    this.ring = new Array(buffer);
    this.lastSeq = 0;
    this.settings = { rate_hz: rate, payload_bytes: 0, paused: false };
    this.value = 100;
    this.timer = null;
    this.next = 0;
    this.period = 0;
  }

  /** Seq of the oldest event still in the ring (lastSeq + 1 when the ring is empty). */
  oldestSeq() {
    return Math.max(1, this.lastSeq - this.capacity + 1);
  }

  publish(kind, data) {
    const seq = this.lastSeq + 1;
    const entry = new Entry({ seq, ts: unixMicros(), kind, data });
    this.ring[seq % this.capacity] = entry;
    this.lastSeq = seq;
    this.emit('event', entry);
    return entry;
  }

  /**
   * What a client whose last seen seq is `cursor` has not had yet: the kept events after it,
   * oldest first, and how many after it already left the ring. `cursor` must not be ahead.
   */
  since(cursor) {
    const oldest = this.oldestSeq();
    const from = Math.max(cursor + 1, oldest);
    const missed = Math.max(0, oldest - 1 - cursor);
    const events = [];
    for (let seq = from; seq <= this.lastSeq; seq++) events.push(this.ring[seq % this.capacity]);
    return { events, missed, resumeSeq: from };
  }

  /** The `missed` notice (same JSON as pushlab's WebSocket and SSE notices). */
  missedNotice(missed, resumeSeq) {
    return { type: 'missed', missed, resume_seq: resumeSeq, last_seq: this.lastSeq };
  }

  // ---- the generator: ticks on the monotonic clock from a fixed start (as pushlab does) ----

  start() {
    this.stop();
    const { rate_hz: rate, paused } = this.settings;
    if (paused || rate <= 0) return; // silent feed until the settings change
    this.period = 1000 / rate;
    this.next = performance.now() + this.period;
    this.timer = setTimeout(() => this.tick(), this.period);
  }

  stop() {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  tick() {
    this.timer = null;
    this.value = nextValue(this.value);
    const pad = this.settings.payload_bytes;
    this.publish('tick', pad === 0 ? { value: this.value } : { value: this.value, pad: '.'.repeat(pad) });
    this.next += this.period;
    // Stalled for more than a period: skip the lost ticks rather than publish a burst.
    const now = performance.now();
    if (this.next < now) this.next = now + this.period;
    this.timer = setTimeout(() => this.tick(), this.next - now);
  }

  /** Applies a partial update after validating all of it (a refused update changes nothing). */
  update(body) {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new HttpError(400, 'the body must be a JSON object');
    }
    const next = { ...this.settings };
    for (const [key, value] of Object.entries(body)) {
      switch (key) {
        case 'rate_hz':
          if (typeof value !== 'number' || !(value >= 0 && value <= MAX_RATE_HZ)) {
            throw new HttpError(400, `rate_hz must be a number from 0 to ${MAX_RATE_HZ}`);
          }
          next.rate_hz = value;
          break;
        case 'payload_bytes':
          if (!Number.isInteger(value) || value < 0 || value > MAX_PAYLOAD_BYTES) {
            throw new HttpError(400, `payload_bytes must be at most ${MAX_PAYLOAD_BYTES}`);
          }
          next.payload_bytes = value;
          break;
        case 'paused':
          if (typeof value !== 'boolean') throw new HttpError(400, 'paused must be true or false');
          next.paused = value;
          break;
        default:
          throw new HttpError(400, `unknown field ${JSON.stringify(key)}`);
      }
    }
    const reschedule = next.rate_hz !== this.settings.rate_hz || next.paused !== this.settings.paused;
    this.settings = next;
    if (reschedule) this.start();
    return next;
  }
}

// ---- request helpers ----

/**
 * The query of `url` as an object; refuses parameters not in `allowed` (as pushlab does) and
 * repeated ones.
 */
function parseQuery(searchParams, allowed) {
  const query = Object.create(null);
  for (const [key, value] of searchParams) {
    if (!allowed.includes(key)) throw new HttpError(400, `unknown query parameter ${JSON.stringify(key)}`);
    if (key in query) throw new HttpError(400, `query parameter ${key} is given twice`);
    query[key] = value;
  }
  return query;
}

function parseUint(name, text) {
  if (!/^\d{1,15}$/.test(text)) throw new HttpError(400, `${name} must be a non-negative integer`);
  return Number(text);
}

/** A `since` cursor (null when absent); refused when ahead of the feed. */
function parseSince(feed, text, name = 'since') {
  if (text === undefined || text === null) return null;
  const since = parseUint(name, text);
  if (since > feed.lastSeq) {
    throw new HttpError(400, `${name}=${since} is ahead of the feed, whose last seq is ${feed.lastSeq}`);
  }
  return since;
}

/** Sends a JSON body (already a string) with Content-Length: the bench reads sized bodies. */
function sendJson(res, status, body, headers) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function sendError(res, err) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof HttpError) {
    const headers = err.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : undefined;
    sendJson(res, err.status, { error: err.message }, headers);
  } else {
    console.error(err);
    sendJson(res, 500, { error: 'internal error' });
  }
}

/** The poll/long-poll answer, concatenated from the events' stored JSON. */
function pollBody(feed, cursor) {
  if (cursor === null) return `{"events":[],"last_seq":${feed.lastSeq},"missed":0}`;
  const { events, missed } = feed.since(cursor);
  let body = '{"events":[';
  for (let i = 0; i < events.length; i++) {
    if (i > 0) body += ',';
    body += events[i].json;
  }
  return `${body}],"last_seq":${feed.lastSeq},"missed":${missed}}`;
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `the body may be at most ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tokenMatches(header, token) {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function handleAdminSettings(feed, token, req, res) {
  if (!tokenMatches(req.headers.authorization, token)) {
    throw new HttpError(401, 'missing or wrong admin token (Authorization: Bearer <token>)');
  }
  if (req.method === 'GET') return sendJson(res, 200, feed.settings);
  if (req.method !== 'PUT') throw new HttpError(405, 'use GET or PUT');
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'the body must be JSON (Content-Type: application/json)');
  }
  const raw = await readBody(req, MAX_BODY_BYTES);
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON: ${e.message}`);
  }
  return sendJson(res, 200, feed.update(body));
}

/**
 * The endpoints both peers serve; returns false when the path is not one of them.
 * Throws HttpError for bad input (the caller answers it).
 */
function handleCommon(feed, opts, req, res, url) {
  switch (url.pathname) {
    case '/api/poll': {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      const query = parseQuery(url.searchParams, ['since']);
      sendJson(res, 200, pollBody(feed, parseSince(feed, query.since)));
      return true;
    }
    case '/api/time':
      sendJson(res, 200, `{"ts":${unixMicros()}}`);
      return true;
    case '/healthz':
      sendJson(res, 200, `{"last_seq":${feed.lastSeq},"status":"ok"}`);
      return true;
    case '/api/admin/settings':
      handleAdminSettings(feed, opts.adminToken, req, res).catch((err) => sendError(res, err));
      return true;
    default:
      return false;
  }
}

// ---- command line ----

function usage(name) {
  return `usage: node server.js [--port PORT] [--rate HZ] [--buffer N] [--admin-token TOKEN]

${name}
  --port PORT          port on 127.0.0.1 (default 0: any free port)
  --rate HZ            ticks per second, 0 to ${MAX_RATE_HZ} (default 10)
  --buffer N           replay ring size, 1 to ${MAX_BUFFER} (default 1024)
  --admin-token TOKEN  Bearer token for /api/admin/settings (default peer-token)
`;
}

function parseCli(name) {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        rate: { type: 'string', default: '10' },
        buffer: { type: 'string', default: '1024' },
        'admin-token': { type: 'string', default: 'peer-token' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`${e.message}\n\n${usage(name)}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage(name));
    process.exit(0);
  }
  const fail = (message) => {
    process.stderr.write(`${message}\n\n${usage(name)}`);
    process.exit(2);
  };
  const port = Number(values.port);
  const rate = Number(values.rate);
  const buffer = Number(values.buffer);
  if (!/^\d+$/.test(values.port) || port > 65535) fail('--port must be 0 to 65535');
  if (values.rate.trim() === '' || !(rate >= 0 && rate <= MAX_RATE_HZ)) fail(`--rate must be 0 to ${MAX_RATE_HZ}`);
  if (!/^\d+$/.test(values.buffer) || buffer < 1 || buffer > MAX_BUFFER) fail(`--buffer must be 1 to ${MAX_BUFFER}`);
  if (values['admin-token'] === '') fail('--admin-token must not be empty');
  return { port, rate, buffer, adminToken: values['admin-token'] };
}

/** Listens on 127.0.0.1 and prints the one line scripts wait for. */
function listen(server, port) {
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`);
  });
}

module.exports = {
  Feed,
  HttpError,
  unixMicros,
  parseQuery,
  parseUint,
  parseSince,
  sendJson,
  sendError,
  pollBody,
  handleCommon,
  parseCli,
  listen,
};
