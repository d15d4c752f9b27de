// pages/inspector/file.js — the protocol page's file experiment, as the JRES slides do it: pick a
// file, send it to /ws/echo as one binary message with ws.send(file), and check that the echo
// came back byte for byte. The page never sees frames; the server notes how the browser framed
// the message (GET /api/handshake/TAG, "last_message": a large message may come as many
// frames, a first binary one and continuations, the last with FIN) and the echo's single frame
// is rebuilt from its length (RFC 6455 §5.2, wire/frames.js).

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatBytes, formatCount } from "../../shared/format.js";
import { OPCODE_NAMES, headerSize } from "../../wire/frames.js";
import { fetchHandshake, randomTag, socketUrl } from "./handshake.js";

/** How often the upload's progress line is redrawn while the browser still buffers, in ms. */
const PROGRESS_EVERY_MS = 200;

export function setUpFileExperiment({ input, button, log, progress, verdict, frames }) {
  input.addEventListener("change", () => {
    button.disabled = input.files.length === 0;
  });
  button.addEventListener("click", () => {
    const file = input.files[0];
    if (file) sendFile(file, { button, log, progress, verdict, frames });
  });
}

function sendFile(file, { button, log, progress, verdict, frames }) {
  log.textContent = "";
  progress.textContent = "";
  verdict.textContent = "";
  delete verdict.dataset.ok;
  frames.replaceChildren();
  const write = (text) => {
    log.textContent += `${text}\n`;
  };
  button.disabled = true;
  const tag = randomTag("file");
  const socket = new WebSocket(socketUrl(`/ws/echo?inspect=${tag}`));
  socket.binaryType = "arraybuffer";
  let started = 0;
  let ticker = null;
  const showProgress = () => {
    const sent = Math.max(file.size - socket.bufferedAmount, 0);
    progress.textContent = t("file.progress", { sent: formatBytes(sent), total: formatBytes(file.size) });
    if (socket.bufferedAmount === 0) clearInterval(ticker);
  };
  socket.onopen = () => {
    write(t("file.sending", { name: file.name, bytes: formatCount(file.size) }));
    started = performance.now();
    socket.send(file); // the Blob goes as one binary message, as in the slides
    // The browser says nothing when its buffer empties: bufferedAmount is read at intervals.
    ticker = setInterval(showProgress, PROGRESS_EVERY_MS);
  };
  socket.onmessage = async (message) => {
    clearInterval(ticker);
    showProgress();
    const elapsed = performance.now() - started;
    const echo = new Uint8Array(message.data);
    const original = new Uint8Array(await file.arrayBuffer());
    const differsAt = firstDifference(original, echo);
    write(t("file.echoed", { bytes: formatCount(echo.length), ms: formatCount(elapsed) }));
    verdict.dataset.ok = String(differsAt === -1);
    verdict.textContent = differsAt === -1
      ? t("file.identical", { bytes: formatCount(echo.length) })
      : t("file.differs", { at: formatCount(differsAt), sent: formatCount(original.length), received: formatCount(echo.length) });
    try {
      const record = await fetchHandshake(tag);
      drawFrames(frames, record.last_message, echo.length);
    } catch (error) {
      write(error.message);
    }
    socket.close(1000, "merci");
  };
  socket.onclose = (close) => {
    clearInterval(ticker);
    button.disabled = false;
    write(t("echo.closed", { code: close.code, reason: close.reason || t("error.no_reason") }));
    if (close.code === 1009) write(t("file.too_big"));
    if (close.code === 1013) write(t("file.busy"));
    if (close.code === 1006 && started > 0) write(t("file.cut"));
  };
}

/** The index of the first byte that differs (a length difference counts), or -1. */
function firstDifference(a, b) {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i += 1) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : shorter;
}

/** The frames of the file both ways: as the browser sent them (server's note), and the echo. */
function drawFrames(table, sent, echoLength) {
  const row = (direction, which, frame, masked) => el("tr", {},
    el("th", { scope: "row" }, direction),
    el("td", {}, which),
    el("td", {}, el("code", {}, `0x${frame.opcode.toString(16)} (${OPCODE_NAMES[frame.opcode]})`)),
    el("td", {}, frame.fin ? "1" : "0"),
    el("td", { class: "num" }, formatCount(frame.len)),
    el("td", { class: "num" }, `${headerSize(frame.len, masked)} B`));
  const rows = [];
  if (sent) {
    const up = t("file.up");
    rows.push(row(up, sent.count === 1 ? t("file.only_frame") : t("file.first_frame"), sent.first, true));
    if (sent.count > 2) {
      rows.push(el("tr", {}, el("th", { scope: "row" }, up),
        el("td", { colspan: 5 }, t("file.middle_frames", { count: formatCount(sent.count - 2), largest: formatCount(sent.largest) }))));
    }
    if (sent.count > 1) rows.push(row(up, t("file.last_frame"), sent.last, true));
  }
  rows.push(row(t("file.down"), t("file.only_frame"), { opcode: 0x2, fin: true, len: echoLength }, false));
  table.replaceChildren(
    el("caption", { class: "small muted" }, sent ? t("file.frames_caption", { count: formatCount(sent.count) }) : t("file.frames_unknown")),
    el("thead", {}, el("tr", {}, ...["file.direction", "file.frame", "opcode", "FIN", "frame.payload_length", "file.header"]
      .map((key) => el("th", {}, key.includes(".") ? t(key) : key)))),
    el("tbody", {}, rows),
  );
  table.dataset.frames = String(sent?.count ?? 0);
}
