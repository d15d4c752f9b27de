// clients/sse.js — Server-Sent Events: one GET /api/sse kept open; the server writes each event as
// an `id:` / `event:` / `data:` record.
//
// EventSource reconnects by itself (after the stream's `retry: 2000`) and sends Last-Event-ID, so
// the server resumes where the stream stopped and says `event: missed` if it cannot. When
// EventSource gives up (an HTTP error), this client retries itself with backoff and
// ?lastEventId=<epoch>:<seq>. After a restart the server sends `event: reset` first. Bytes
// are estimates: the page never sees the records, only the events inside them. A stream that took
// long to open (the browser may have kept it waiting for one of its six connections) times only
// the events published after it opened: the ones replayed at its start waited with it.

import { t } from "../shared/i18n.js";
import { transportPath } from "../shared/transports.js";
import { PushClient } from "./push-client.js";
import { currentServer, onMove, serverBack, serverUrl, suspect } from "../shared/cluster.js";
import { announceRestart } from "./resume.js";
import { echoedOrigin, sseMissedBytes, sseRecordBytes, sseResetBytes, sseResponseHeadBytes } from "../wire/estimates.js";
import { QUEUED_LIMIT_MS } from "../measures/browser-queue.js";
import { formatTenths } from "../shared/format.js";

/** Event kinds the feed sends today; EventSource only dispatches named events to listeners. */
const KINDS = ["tick", "chat", "broker"];
/** The stream's `retry:` (ms, see src/transport/sse.rs): how long EventSource waits to reconnect. */
const SSE_RETRY_MS = 2000;

export class SseClient extends PushClient {
  constructor(panel, reporter) {
    super(panel, reporter);
    this.source = null;
    this.everOpened = false;
    this.failed = false;
    // The page moved to another server of the cluster: EventSource would keep retrying the old
    // one, so the stream is opened again there, from the last id.
    onMove(() => {
      if (this.source) this.reopenNow();
    });
  }

  /** `takeover`: the replay is a catch-up already (see PushClient.start), however fast it opens. */
  open({ resuming, takeover = false }) {
    // One stream at a time (one still open would deliver every event a second time), and no
    // retry pending beside it.
    this.close();
    const path = transportPath("sse");
    // The last id is `<epoch>:<seq>`: sent back whole, it names the run as well as the seq.
    const url = this.lastId == null ? path : `${path}?lastEventId=${encodeURIComponent(this.lastId)}`;
    const source = new EventSource(serverUrl(url));
    source.server = currentServer();
    this.source = source;
    this.resuming = resuming;
    this.panel.setState("connecting");
    // A resume replays what came after lastSeq at the stream's start: timed only if it opened quickly.
    this.resumeAskedAt = this.lastSeq == null || takeover ? null : performance.now();

    source.onopen = () => {
      // Every opening is one request, the browser's own retries with Last-Event-ID included;
      // counted once answered (the server counted it on arrival), so never ahead of the server.
      this.panel.countRequest();
      const waited = this.resumeAskedAt == null ? 0 : performance.now() - this.resumeAskedAt;
      if (waited > QUEUED_LIMIT_MS) {
        this.reporter.catchUpUntilNow();
        this.panel.noteQueued(waited, "notice.slow_open");
      }
      // After a failure the stream resumes after the last id seen: EventSource sent it as
      // Last-Event-ID by itself, or this client as ?since= (the same seq either way).
      if (this.failed) {
        serverBack();
        this.panel.reconnected(this.lastSeq);
        // What the stream replays was published during the outage: its wait was the outage's.
        this.reporter.catchUpUntilNow();
      }
      // From another server of the cluster, the head carries the CORS lines for this page.
      this.panel.addBytesDown(sseResponseHeadBytes(echoedOrigin(source.server)));
      if (this.resuming || this.failed) this.panel.setState("resumed", { missed: 0 });
      else this.panel.setState("open");
      if (this.failed) this.panel.clearError();
      this.failed = false;
      this.resuming = false;
      this.everOpened = true;
      this.backoff.reset();
    };
    // A stream this client let go of says nothing more.
    for (const kind of KINDS) {
      source.addEventListener(kind, (message) => {
        if (source === this.source) this.receive(message);
      });
    }
    source.addEventListener("reset", (message) => {
      this.panel.addBytesDown(sseResetBytes(message.data));
      announceRestart(this.panel, JSON.parse(message.data), this.reporter);
    });
    source.addEventListener("missed", (message) => {
      this.panel.addBytesDown(sseMissedBytes(message.data));
      const notice = JSON.parse(message.data);
      this.panel.countMissed(notice.missed);
      this.panel.setState("resumed", { missed: notice.missed });
    });
    source.onerror = () => this.onError(source);
  }

  /** Another tab's position: the next open resumes after it, with the id it would have sent. */
  adopt({ seq, epoch }) {
    super.adopt({ seq, epoch });
    this.lastId = epoch ? `${epoch}:${seq}` : String(seq);
  }

  /** The run comes with the id (`<epoch>:<seq>`): the position carries it to the next holder. */
  position() {
    if (this.lastSeq == null) return null;
    const colon = this.lastId?.lastIndexOf(":") ?? -1;
    return { seq: this.lastSeq, epoch: colon > 0 ? this.lastId.slice(0, colon) : null };
  }

  receive(message) {
    this.panel.addBytesDown(sseRecordBytes(message.lastEventId, message.type, message.data));
    const event = JSON.parse(message.data);
    this.lastSeq = event.seq;
    this.lastId = message.lastEventId;
    this.panel.deliver(event, this.reporter.record(event));
  }

  async onError(source) {
    if (source !== this.source) return;
    this.failed = true;
    if (source.readyState === EventSource.CONNECTING) {
      // The browser retries by itself, with Last-Event-ID: that retry is one more request.
      this.panel.showError(t("error.sse_lost"));
      this.panel.setState("reconnecting", { seconds: formatTenths(SSE_RETRY_MS / 1000) });
      this.resumeAskedAt = performance.now() + SSE_RETRY_MS;
      suspect(source.server); // if its server is gone, onMove reopens the stream elsewhere
      return;
    }
    // CLOSED: EventSource gave up (an HTTP error status, or not an event stream).
    source.close();
    this.panel.showError(t("error.sse_refused"));
    await this.retryLater();
  }

  disconnect() {
    this.source?.close();
    this.source = null;
  }
}
