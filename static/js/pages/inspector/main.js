// pages/inspector/main.js — the page at /protocol: the WebSocket handshake and frames of the course
// slides, on the student's own connection. This module wires the sections together:
// handshake.js (the upgrade), accept.js (Sec-WebSocket-Accept), frames.js (frame anatomy),
// wire.js (one event, five ways), echo.js (subprotocols and Origin with /ws/echo) and file.js
// (a file sent with ws.send(file) and its echo).

import { setUpChrome } from "../../shared/page-chrome.js";
import { t } from "../../shared/i18n.js";
import { transportPath } from "../../shared/transports.js";
import { inspectHandshake, randomTag, socketUrl } from "./handshake.js";
import { RFC_EXAMPLE_KEY, showAccept } from "./accept.js";
import { decodeBinaryEvent, drawFrame, drawLengthForms } from "./frames.js";
import { measureWire } from "./wire.js";
import { setUpEchoExperiments } from "./echo.js";
import { setUpFileExperiment } from "./file.js";

setUpChrome();

const $ = (id) => document.getElementById(id);
const pageError = $("page-error");
let record = null;

const handshakeView = {
  request: $("request-head"),
  requestSize: $("request-size"),
  response: $("response-head"),
  responseSize: $("response-size"),
  fields: $("handshake-fields"),
};
const acceptView = {
  key: $("accept-key"),
  keyBytes: $("accept-key-bytes"),
  concatenated: $("accept-concat"),
  sha1: $("accept-sha1"),
  computed: $("accept-computed"),
  server: $("accept-server"),
  verdict: $("accept-verdict"),
  method: $("accept-method"),
};

function showError(section, error) {
  section.textContent = t("proto.error.section", { why: error.message });
}

/** The socket of the latest inspection (an earlier one closing says nothing about it). */
let latestSocket = null;

async function inspect() {
  const state = $("handshake-state");
  state.dataset.state = "connecting";
  state.textContent = t("state.connecting");
  $("handshake-error").textContent = "";
  try {
    const inspected = await inspectHandshake(handshakeView);
    record = inspected.record;
    state.dataset.state = "open";
    state.textContent = t("state.open");
    // Closed by this page once the first message is drawn, or by the server (a restart): the
    // badge says so, with the close code (RFC 6455 §7.4), never "open" for a socket that is gone.
    inspected.socket.addEventListener("close", (close) => {
      if (inspected.socket !== latestSocket) return;
      state.dataset.state = "closed";
      state.textContent = t("state.closed", { code: close.code });
    }, { once: true });
    latestSocket = inspected.socket;
    if (inspected.socket.readyState === WebSocket.CLOSED) {
      state.dataset.state = "closed";
      state.textContent = t("state.closed", { code: "–" });
    }
    $("key-input").value = record.key;
    await showAccept(acceptView, record.key, { serverKey: record.key, serverAccept: record.accept });
    showFrames(inspected);
    await showWire();
  } catch (error) {
    state.dataset.state = "failed";
    state.textContent = t("state.failed");
    showError($("handshake-error"), error);
  }
}

function showFrames({ socket, firstMessage }) {
  $("frame-text").textContent = t("proto.frames.waiting");
  firstMessage.then((text) => {
    socket.close(1000, "seen enough");
    const payload = new TextEncoder().encode(text);
    drawFrame($("frame-text"), { title: t("proto.frames.text_title"), opcode: 0x1, payload, note: t("proto.frames.text_note") });
    drawLengthForms($("length-forms"), payload.length);
    const author = localStorage.getItem("pushlab.author") || "ana";
    const chat = new TextEncoder().encode(JSON.stringify({ type: "chat", author, text: t("echo.greeting") }));
    drawFrame($("frame-client"), {
      title: t("proto.frames.client_title"),
      opcode: 0x1,
      payload: chat,
      maskingKey: crypto.getRandomValues(new Uint8Array(4)),
      note: t("proto.frames.client_note"),
    });
  });
  showBinaryFrame();
}

/** A second, short-lived socket under pushlab.bin, for one binary frame. */
function showBinaryFrame() {
  const container = $("frame-binary");
  container.textContent = t("proto.frames.waiting");
  const socket = new WebSocket(socketUrl(`${transportPath("ws")}?inspect=${randomTag("binary")}`), ["pushlab.bin"]);
  socket.binaryType = "arraybuffer";
  socket.onmessage = (message) => {
    if (!(message.data instanceof ArrayBuffer)) return; // a text notice (missed), not an event
    socket.close(1000, "seen enough");
    const payload = new Uint8Array(message.data);
    drawFrame(container, {
      title: t("proto.frames.binary_title"),
      opcode: 0x2,
      payload,
      decoded: decodeBinaryEvent(payload),
      note: t("proto.frames.binary_note"),
    });
  };
  socket.onerror = () => showError(container, new Error(t("proto.error.ws_failed", { code: "–" })));
}

async function showWire() {
  const table = $("wire-table");
  $("wire-error").textContent = "";
  try {
    await measureWire(table, $("wire-empty-note"), { record });
  } catch (error) {
    showError($("wire-error"), error);
  }
}

$("reconnect").addEventListener("click", inspect);
$("wire-again").addEventListener("click", () => record && showWire());
$("key-input").addEventListener("input", (event) => {
  if (record) showAccept(acceptView, event.target.value.trim(), { serverKey: record.key, serverAccept: record.accept });
});
$("key-rfc").addEventListener("click", () => {
  $("key-input").value = RFC_EXAMPLE_KEY;
  if (record) showAccept(acceptView, RFC_EXAMPLE_KEY, { serverKey: record.key, serverAccept: record.accept });
});
$("key-mine").addEventListener("click", () => {
  if (!record) return;
  $("key-input").value = record.key;
  showAccept(acceptView, record.key, { serverKey: record.key, serverAccept: record.accept });
});
setUpEchoExperiments({
  chatButton: $("echo-chat"),
  fooButton: $("echo-foo"),
  originButton: $("echo-origin"),
  log: $("echo-log"),
  originPanel: $("origin-explained"),
  getRecord: () => record,
});
setUpFileExperiment({
  input: $("file-input"),
  button: $("file-send"),
  log: $("file-log"),
  progress: $("file-progress"),
  verdict: $("file-verdict"),
  frames: $("file-frames"),
});

inspect().catch((error) => showError(pageError, error));
