// clients/ws.js — WebSocket push: one GET /ws upgraded to a WebSocket; each event arrives as one
// text frame (subprotocol pushlab.json), and a chat goes back up the same socket as a text frame.
//
// The first message names the run (`{"type":"hello","epoch":...}`). On close the client reconnects
// with backoff and ?since=<last seq>&epoch=<run>, so nothing is lost: the server replays from its
// buffer or sends {"type":"missed"}, or {"type":"reset"} if it restarted meanwhile. Frame bytes are estimates rebuilt from RFC
// 6455 (the page sees messages, not frames); the handshake request's size is the real one, read
// back from the server's handshake log.

import { t } from "../shared/i18n.js";
import { transportPath } from "../shared/transports.js";
import { PushClient } from "./push-client.js";
import { currentServer, onMove, serverBack, socketUrl, suspect } from "../shared/cluster.js";
import { announceRestart, epochParam } from "./resume.js";
import { frameSize } from "../wire/frames.js";
import { echoedOrigin, requestHeadBytes, switchingProtocolsAnswer, utf8Length } from "../wire/estimates.js";

export class WsClient extends PushClient {
  constructor(panel, reporter) {
    super(panel, reporter);
    this.socket = null;
    /** A socket closed on us (not on purpose): the next open is a reconnection, and counted. */
    this.lost = false;
    // The page moved to another server of the cluster: its socket there resumes from lastSeq.
    onMove(() => {
      if (this.socket && this.socket.readyState !== WebSocket.OPEN) this.reopenNow();
    });
  }

  open({ resuming }) {
    // One socket at a time (one still open would deliver every event a second time), and no
    // retry pending beside it.
    this.close();
    const tag = `dash-${Math.random().toString(36).slice(2, 10)}`;
    const afterSeq = this.lastSeq;
    const since = afterSeq == null ? "" : `&since=${afterSeq}${epochParam(this.epoch)}`;
    const url = socketUrl(`${transportPath("ws")}?inspect=${tag}${since}`);
    const socket = new WebSocket(url);
    socket.server = currentServer();
    this.socket = socket;
    if (!resuming) this.panel.setState("connecting");

    socket.onopen = () => {
      // The upgrade is counted once answered (the server counted it on arrival); a refused one
      // (an HTTP error) can't be told from a network failure here, and is left out.
      this.panel.countRequest();
      if (this.lost) {
        serverBack();
        this.panel.reconnected(afterSeq);
        // What the socket replays was published during the outage: its wait was the outage's.
        this.reporter.catchUpUntilNow();
      }
      this.lost = false;
      this.panel.setState(resuming ? "resumed" : "open", { missed: 0 });
      this.panel.clearError();
      this.backoff.reset();
      this.countHandshake(tag, socket.protocol);
    };
    // A socket this client let go of says nothing more (its last frames may still be queued).
    socket.onmessage = (message) => {
      if (socket === this.socket) this.receive(message.data);
    };
    socket.onclose = (close) => this.onClose(socket, close);
  }

  /**
   * The upgrade's bytes: the request and the 101 answer, as the server logged them. Another
   * server of the cluster does not show its log to this page (not a CORS endpoint): its 101 is
   * rebuilt, CORS lines included (an accept value is always 28 characters), and the request,
   * which only the browser knows, is left out.
   */
  async countHandshake(tag, protocol) {
    const foreign = echoedOrigin(currentServer());
    if (foreign) {
      const rebuilt = { accept: "=".repeat(28), chosen_subprotocol: protocol || null };
      this.panel.addBytesDown(utf8Length(switchingProtocolsAnswer(rebuilt, foreign)));
      return;
    }
    try {
      const response = await fetch(`/api/handshake/${tag}`, { cache: "no-store" });
      if (!response.ok) return;
      const record = await response.json();
      this.panel.addBytesUp(requestHeadBytes(record));
      this.panel.addBytesDown(utf8Length(switchingProtocolsAnswer(record)));
    } catch {
      // The handshake's bytes are a detail: the feed itself is not affected.
    }
  }

  receive(data) {
    if (typeof data !== "string") {
      this.panel.showError(t("error.ws_binary"));
      return;
    }
    this.panel.addBytesDown(frameSize(utf8Length(data), false));
    const message = JSON.parse(data);
    if (message.type === "hello") {
      this.epoch = message.epoch; // the run this socket follows
    } else if (message.type === "reset") {
      announceRestart(this.panel, message, this.reporter);
    } else if (message.type === "missed") {
      this.panel.countMissed(message.missed);
      this.panel.setState("resumed", { missed: message.missed });
    } else if (message.type === "error") {
      this.panel.showError(t("error.ws_refused", { why: message.error }));
    } else if (typeof message.seq === "number") {
      this.lastSeq = message.seq;
      this.panel.deliver(message, this.reporter.record(message));
    }
  }

  /** Sends a chat up the socket: it comes back to everyone (us included) as an event. */
  sendChat(author, text) {
    if (this.socket?.readyState !== WebSocket.OPEN) throw new Error(t("error.ws_not_open"));
    const frame = JSON.stringify({ type: "chat", author, text });
    this.socket.send(frame);
    this.panel.addBytesUp(frameSize(utf8Length(frame), true));
  }

  async onClose(socket, close) {
    if (socket !== this.socket) return; // an old socket, closed on purpose (pause)
    this.lost = true;
    this.panel.showError(t("error.ws_closed", { code: close.code, reason: close.reason || t("error.no_reason") }));
    // A server that is gone (not merely a dropped socket) is left for another of the cluster.
    if (close.code === 1006 || close.code === 1001) await suspect(socket.server);
    // The check moved the page: onMove has opened the socket on the next server already.
    if (socket !== this.socket) return;
    await this.retryLater();
  }

  disconnect() {
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState !== WebSocket.CLOSED) socket.close(1000, "paused");
  }
}
