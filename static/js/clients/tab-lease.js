// clients/tab-lease.js — one tab per browser holds each long-lived HTTP transport (SSE, long poll):
// the tabs of a browser elect a holder, the others leave that transport to it.
//
// Why: a browser keeps at most six HTTP/1.1 connections per server, for all the tabs of a profile
// (Chromium and Firefox alike; pushlab over plain http:// is HTTP/1.1). An SSE stream and a held
// long poll each keep one for good: with every tab holding its own, three dashboards took all six,
// and every other request of the browser (pages, polls, /api/time) waited for one to free up.
// WebSockets are counted apart, which is why the WebSocket panels need no lease.
//
// How: a BroadcastChannel per lease, which works on plain http://. (Web Locks, navigator.locks,
// would be simpler but exist only in secure contexts: http://192.168.x.y:8080 on a school network
// is not one, exactly where a class opens many tabs.) The messages, each { type, from, ... }:
//   query    who holds it?                  held     I do (also every HEARTBEAT_MS), my position
//   claim    nobody answered: I take it, unless a better claim comes within CLAIM_MS
//   release  I let it go (closed, paused, frozen), with my position; `to` names who gets it
//   request  please hand it to me (a visible tab asking a hidden holder, or a "follow it here" click)
// A holder silent for SILENT_MS is taken as gone. Two holders that hear each other (a frozen tab
// woke up) keep the better one: a visible tab before a hidden one, then the smaller id.
// The position a holder reports (its last seq and the run, epoch, it belongs to) lets the next
// holder resume where it stopped, with nothing missed.

/** A holder says it holds this often, ms (timers of hidden tabs run at most once a second). */
export const HEARTBEAT_MS = 1000;
/** A holder unheard for this long is taken as gone and the lease is claimed again, ms. */
export const SILENT_MS = 3500;
/** How long a tab waits for a holder to answer `query` before claiming, ms. */
export const QUERY_MS = 200;
/** How long a claimant waits for better claims before taking the lease, ms. */
export const CLAIM_MS = 200;

const DEFAULT_TIMING = { heartbeatMs: HEARTBEAT_MS, silentMs: SILENT_MS, queryMs: QUERY_MS, claimMs: CLAIM_MS };

/** The browser page: its visibility and lifecycle events (the tests give a stand-in). */
function browserPage() {
  return {
    get hidden() {
      return document.visibilityState === "hidden";
    },
    on(type, handler) {
      (type === "visibilitychange" || type === "freeze" || type === "resume" ? document : window).addEventListener(type, handler);
    },
  };
}

/** A tab's id: random, compared as a string to break ties (crypto.randomUUID needs a secure context). */
function newTabId() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether claim or holder `a` beats `b`: a visible tab first, then the smaller id. */
function beats(a, b) {
  if (a.hidden !== b.hidden) return !a.hidden;
  return a.from < b.from;
}

export class TabLease {
  /**
   * name: what is held ("sse", "longpoll"): one holder per name per browser (per origin).
   * granted({ after, takeover }): this tab holds it now; `takeover` when another tab held it
   *   before, `after` the last position that tab reported (null: none). Start the transport.
   * elsewhere(): another tab holds it. Stop the transport, say so.
   * position(): where this tab's transport is ({ seq, epoch }, null: nowhere yet), sent with
   *   `held` and `release`; the lease only passes it on.
   */
  constructor(name, { granted, elsewhere, position }, { page = browserPage(), timing = DEFAULT_TIMING, id = newTabId() } = {}) {
    this.name = name;
    this.callbacks = { granted, elsewhere, position };
    this.page = page;
    this.timing = { ...DEFAULT_TIMING, ...timing };
    this.id = id;
    /** "none" (not wanted) | "seeking" | "holder" | "follower". */
    this.role = "none";
    this.wanted = false;
    /** The holder this tab follows: { from, hidden, heardAt }. */
    this.holder = null;
    /** Another tab held the lease once; its last reported position. */
    this.previous = { held: false, position: null };
    this.claims = [];
    this.requested = false;
    /** What the page was told last ("granted" | "elsewhere" | null): each is said once per change. */
    this.told = null;
    this.timer = null;
    this.ticker = null;
    this.channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(`pushlab.lease.${name}`) : null;
    if (this.channel) this.channel.onmessage = (message) => this.receive(message.data);
    page.on("pagehide", () => this.letGo());
    page.on("freeze", () => this.freeze());
    page.on("pageshow", (event) => event?.persisted && this.wanted && this.seek());
    page.on("resume", () => this.wanted && this.role === "none" && this.seek());
    page.on("visibilitychange", () => this.visibilityChanged());
  }

  /** This tab would follow the transport (it is not paused): find the holder, or become it. */
  want() {
    this.wanted = true;
    if (this.role === "none") this.seek();
  }

  /** This tab no longer follows it (paused): a holder hands it back to the others. */
  unwant() {
    this.wanted = false;
    this.told = null;
    this.letGo();
  }

  /** Asks the holder to hand the lease to this tab (a person chose to follow it here). */
  request() {
    if (this.role !== "follower" || !this.wanted) return;
    this.requested = true;
    this.post({ type: "request" });
  }

  close() {
    this.letGo();
    this.channel?.close();
  }

  // --- the election ---

  seek() {
    this.clearTimers();
    if (!this.channel) {
      this.becomeHolder(); // no BroadcastChannel (a very old browser): every tab holds its own, as before
      return;
    }
    this.role = "seeking";
    this.claims = [];
    this.post({ type: "query" });
    this.timer = setTimeout(() => this.claim(), this.timing.queryMs);
  }

  claim() {
    if (this.role !== "seeking") return;
    const mine = { from: this.id, hidden: this.page.hidden };
    this.claims.push(mine); // with the claims heard while querying
    this.post({ type: "claim" });
    this.timer = setTimeout(() => {
      if (this.role !== "seeking") return;
      const best = this.claims.reduce((a, b) => (beats(b, a) ? b : a));
      if (best === mine) this.becomeHolder();
      else this.follow({ from: best.from, hidden: best.hidden });
    }, this.timing.claimMs);
  }

  becomeHolder() {
    this.clearTimers();
    this.role = "holder";
    this.holder = null;
    this.requested = false;
    this.post(this.heldMessage());
    this.ticker = setInterval(() => this.post(this.heldMessage()), this.timing.heartbeatMs);
    this.told = "granted";
    this.callbacks.granted({ after: this.previous.position, takeover: this.previous.held });
  }

  /** Another tab holds it (or is about to): follow it, and watch that it stays alive. */
  follow({ from, hidden }) {
    if (this.holder?.from !== from) this.requested = false;
    this.holder = { from, hidden, heardAt: Date.now() };
    if (this.role !== "follower") {
      this.clearTimers();
      this.role = "follower";
      this.ticker = setInterval(() => {
        if (Date.now() - this.holder.heardAt > this.timing.silentMs) this.seek();
      }, this.timing.heartbeatMs);
    }
    if (this.told !== "elsewhere") {
      this.told = "elsewhere";
      this.callbacks.elsewhere();
    }
    this.askIfHolderHidden();
  }

  /**
   * The browser freezes this tab (WHATWG HTML, Page Lifecycle "freeze"): a holder lets go and
   * stops its transport. Its connection would otherwise stay open while the next holder runs
   * the transport (two connections where the lease keeps one), and on "resume" replay what that
   * holder showed. On resume the tab seeks the lease again, and is told anew.
   */
  freeze() {
    const held = this.role === "holder";
    this.letGo();
    if (held) {
      this.told = "elsewhere";
      this.callbacks.elsewhere();
    }
  }

  /** Leaves the lease: a holder says so, with its position, so the next one resumes after it. */
  letGo() {
    if (this.role === "holder") this.post({ type: "release", position: this.callbacks.position() });
    this.clearTimers();
    this.role = "none";
  }

  heldMessage() {
    return { type: "held", position: this.callbacks.position(), hidden: this.page.hidden };
  }

  receive(message) {
    if (!message || message.from === this.id) return;
    const handlers = {
      query: () => this.role === "holder" && this.post(this.heldMessage()),
      claim: () => this.onClaim(message),
      held: () => this.onHeld(message),
      release: () => this.onRelease(message),
      request: () => this.onRequest(message),
    };
    handlers[message.type]?.();
  }

  onClaim(message) {
    if (this.role === "holder") this.post(this.heldMessage());
    else if (this.role === "seeking") this.claims.push({ from: message.from, hidden: message.hidden });
  }

  onHeld(message) {
    this.previous = { held: true, position: message.position ?? this.previous.position };
    if (this.role === "holder") {
      // Two holders: the better one keeps it, the other becomes its follower.
      if (beats(message, { from: this.id, hidden: this.page.hidden })) this.follow(message);
      else this.post(this.heldMessage());
    } else if (this.role === "seeking" || this.role === "follower") {
      this.follow(message);
    }
  }

  onRelease(message) {
    this.previous = { held: true, position: message.position ?? this.previous.position };
    if (message.to === this.id) {
      if (this.wanted) this.becomeHolder();
      else this.post({ type: "release", position: message.position }); // paused meanwhile: pass it on
      return;
    }
    if (message.to) {
      if (this.role === "seeking" || this.role === "follower") this.follow({ from: message.to, hidden: false });
      return;
    }
    if (this.wanted && this.role !== "holder") this.seek();
  }

  onRequest(message) {
    if (this.role !== "holder") return;
    this.post({ type: "release", position: this.callbacks.position(), to: message.from });
    this.follow({ from: message.from, hidden: message.hidden });
  }

  /** A visible tab that wants the transport asks a hidden holder for it: people watch the visible tab. */
  askIfHolderHidden() {
    if (this.role === "follower" && this.wanted && !this.requested && this.holder?.hidden && !this.page.hidden) {
      this.request();
    }
  }

  visibilityChanged() {
    if (this.role === "holder") this.post(this.heldMessage());
    this.askIfHolderHidden();
  }

  post(message) {
    this.channel?.postMessage({ ...message, from: this.id, hidden: message.hidden ?? this.page.hidden });
  }

  clearTimers() {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.timer = null;
    this.ticker = null;
  }
}
