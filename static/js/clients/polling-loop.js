// clients/polling-loop.js — what short polling and long polling share: ask, deliver, ask again.
//
// A subclass says which URL to ask (poll.js: answered at once; longpoll.js: held by the
// server) and how long to wait before asking again. This loop keeps the `since` cursor,
// counts requests and empty answers, measures received bytes (PerformanceResourceTiming),
// shows failures in the panel and retries with backoff. An answer whose request waited in the
// browser (all its connections to the server busy) is delivered, but its latencies are left out:
// that wait is the browser's, not the transport's.

import { Backoff, sleep } from "./backoff.js";
import { t } from "../shared/i18n.js";
import { announceRestart, epochParam, isAhead } from "./resume.js";
import { receivedBytes, resourceTiming, watchResources } from "../measures/resource-bytes.js";
import { QUEUED_LIMIT_MS, queuedMs } from "../measures/browser-queue.js";
import { JSON_ANSWER } from "../wire/estimates.js";
import { nowMicros } from "../measures/latency.js";
import { refusalOf } from "./chat.js";
import { currentServer, onMove, serverBack, serverUrl, suspect } from "../shared/cluster.js";
import { formatTenths } from "../shared/format.js";

/** 503 answers whose bytes or verdict wait for the other (see settleRefusal); older ones go. */
const REFUSALS_KEPT = 64;

class AnswerError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export class PollingLoop {
  constructor(panel, reporter, path) {
    this.panel = panel;
    this.reporter = reporter;
    this.path = path;
    this.since = null;
    /** The run `since` belongs to, as the last answer named it. */
    this.epoch = null;
    this.paused = false;
    /** Not this tab's to run: another tab of the browser holds the transport (see stop()). */
    this.stopped = false;
    this.recovering = false;
    /** A request failed (not a pause): the next answer is a reconnection, and counted. */
    this.lost = false;
    this.backoff = new Backoff();
    this.controller = null;
    this.wakeUp = null;
    /** By URL: the bytes of a 503 whose verdict is not known yet, or the verdict of one whose bytes are not. */
    this.refusals = new Map();
    watchResources(path, (entry) => {
      const { bytes, measured } = receivedBytes(entry, JSON_ANSWER);
      if (measured != null) panel.setBytesKnowledge("down", measured ? "measured" : "estimate");
      if (entry.responseStatus === 503) this.settleRefusal(entry.name, { bytes });
      else panel.addBytesDown(bytes);
    });
    panel.onPause((paused) => this.setPaused(paused));
    // The page moved to another server of the cluster: the next answer comes from there, a
    // reconnection like any other (the panel checks that it continues from `since`). Not for a
    // loop another tab runs: its next answer, after a takeover, is that takeover's.
    onMove(() => {
      if (this.stopped) return;
      this.lost = true;
      this.recovering = true;
    });
  }

  /**
   * A 503 is counted once both halves came, in either order: its bytes (the resource entry) and
   * its verdict (ask() read its body). A stopping server's refusal is left out, request and
   * bytes: the next server may have begun its period already, and the page cannot tell in which
   * period the old one counted it.
   */
  settleRefusal(url, half) {
    const key = new URL(url, location.href).href;
    const other = this.refusals.get(key);
    if (!other) {
      this.refusals.set(key, half);
      if (this.refusals.size > REFUSALS_KEPT) this.refusals.delete(this.refusals.keys().next().value);
      return;
    }
    this.refusals.delete(key);
    const { bytes, leaveOut } = { ...other, ...half };
    if (!leaveOut) this.panel.addBytesDown(bytes);
  }

  /** The address of the next request (a subclass adds its own parameters). */
  url() {
    return `${this.path}?${this.resumeQuery()}`;
  }

  /**
   * `since=S&epoch=E&`, or "" before the first answer. A loop recovering (back from a pause, an
   * outage, a move or a takeover) adds `catch_up=1&`: the server then counts what was published
   * before the request as catch-up, as this page does (their wait was not the transport's).
   */
  resumeQuery() {
    if (this.since == null) return "";
    return `since=${this.since}${epochParam(this.epoch)}&${this.recovering ? "catch_up=1&" : ""}`;
  }

  /**
   * Waits before the next request; `signal` aborts the wait when the panel is paused.
   * `answer` is the answer just handled and `elapsedMs` how long it took to come.
   */
  async pauseBetween(_signal, _answer, _elapsedMs) {}

  setPaused(paused) {
    this.paused = paused;
    if (paused) {
      this.controller?.abort();
      return;
    }
    // Back from a pause, whether this tab runs the loop now or gets it back through its lease
    // later (feed-clients.js, whose start() then recovers): what was published meanwhile
    // waited for the pause.
    this.reporter.catchUpUntilNow();
    if (!this.stopped) {
      this.recovering = true; // the first answer after a pause says how much was missed
      this.panel.setState("connecting");
      this.wakeUp?.();
    }
  }

  /** Where this client is: its last seq and that seq's run ({ seq, epoch }; null: nowhere yet). */
  position() {
    return this.since == null ? null : { seq: this.since, epoch: this.epoch };
  }

  /** Another tab of this browser holds the transport: ask nothing until start(). */
  stop() {
    this.stopped = true;
    this.controller?.abort();
  }

  /**
   * This tab holds the transport now. On a takeover, `after` is where the previous holder was:
   * the next request asks after it (nothing missed), and the events published before now are
   * shown but not timed: their wait was the handover's, not the transport's.
   */
  start({ after = null, takeover = false } = {}) {
    this.stopped = false;
    if (takeover) {
      if (isAhead(after, this.position())) ({ seq: this.since, epoch: this.epoch } = after);
      this.panel.tookOver(this.since);
      this.reporter.catchUpUntilNow();
    }
    if (this.paused) return;
    this.recovering = takeover || this.since != null;
    this.panel.setState("connecting");
    this.wakeUp?.();
  }

  async run() {
    for (;;) {
      while (this.paused || this.stopped) await new Promise((resolve) => (this.wakeUp = resolve));
      this.controller = new AbortController();
      const signal = this.controller.signal;
      try {
        const asked = performance.now();
        const { answer, queued, receivedUs } = await this.ask(signal);
        this.handle(answer, queued, receivedUs);
        await this.pauseBetween(signal, answer, performance.now() - asked);
      } catch (error) {
        if (signal.aborted) continue; // paused or stopped on purpose: not a failure
        await this.recover(error);
      }
    }
  }

  /**
   * The answer; when it was received (nowMicros(), as a WebSocket message's latency is taken);
   * and how long the browser kept the request waiting before sending it (ms, null: unknown).
   */
  async ask(signal) {
    const url = serverUrl(this.url());
    const startedAt = performance.now();
    const sentUs = nowMicros();
    let response;
    const server = currentServer();
    try {
      response = await fetch(url, { cache: "no-store", signal });
    } catch (error) {
      if (signal.aborted) throw error;
      // Not reached at all: if that server is gone, the next request goes to another.
      await suspect(server);
      throw new AnswerError(t("error.network"), 0);
    }
    // Counted when its answer comes, whatever its status: the server counted it on arrival, so
    // this page's count never runs ahead of the server's (measures/own-counts.js). But not a
    // stopping server's refusal (settleRefusal).
    if (!response.ok) {
      const { message, stopping } = await refusalOf(response);
      if (!stopping) this.panel.countRequest(sentUs);
      if (response.status === 503) this.settleRefusal(url, { leaveOut: stopping });
      throw new AnswerError(message, response.status);
    }
    this.panel.countRequest(sentUs);
    const answer = await response.json();
    // Taken before looking for the timing entry, which a browser may report some 100 ms later:
    // that wait is this page's, not the transport's.
    const receivedUs = nowMicros();
    return { answer, queued: queuedMs(await resourceTiming(url, startedAt)), receivedUs };
  }

  handle(answer, queued, receivedUs) {
    // Before delivering, so that the panel compares the first event with the seq asked after.
    if (this.lost) {
      serverBack();
      this.panel.reconnected(this.since);
      // What this answer brings was published during the outage: its wait was the outage's.
      this.reporter.catchUpUntilNow();
    }
    this.lost = false;
    if (answer.reset) announceRestart(this.panel, answer.reset, this.reporter);
    this.epoch = answer.epoch;
    const timed = !(queued > QUEUED_LIMIT_MS);
    if (!timed && answer.events.length > 0) this.panel.noteQueued(queued);
    if (answer.events.length === 0) this.panel.countEmpty();
    for (const event of answer.events) this.panel.deliver(event, timed ? this.reporter.record(event, receivedUs) : null);
    if (answer.missed > 0) this.panel.countMissed(answer.missed);
    if (this.recovering) {
      // After a reset the badge says a new run began (clients/resume.js): no seq to resume from.
      if (!answer.reset) this.panel.setState("resumed", { missed: answer.missed });
      this.panel.clearError();
      this.recovering = false;
    } else if (this.panel.state !== "resumed" && this.panel.state !== "new_run") {
      this.panel.setState("open");
    }
    this.since = answer.last_seq;
    this.backoff.reset();
  }

  async recover(error) {
    this.recovering = true;
    this.lost = true;
    this.panel.showError(error.message);
    const delay = this.backoff.next();
    this.panel.setState("reconnecting", { seconds: formatTenths(delay / 1000) });
    await sleep(delay);
  }
}
