// pages/inspector/echo.js — the protocol page's experiments with /ws/echo: a subprotocol
// negotiation (offer "chat, superchat", see which one the server picks), a refused offer ("foo":
// the server answers 400, the browser only sees a failure), and the Origin rule, which a page
// cannot break itself (the browser writes Origin), so it is explained instead.

import { t } from "../../shared/i18n.js";
import { fetchHandshake, randomTag, socketUrl } from "./handshake.js";

export function setUpEchoExperiments({ chatButton, fooButton, originButton, log, originPanel, getRecord }) {
  /** Starts a fresh log for one experiment and returns how to add a line to it. */
  const freshLog = () => {
    log.textContent = "";
    return (text) => {
      log.textContent += `${text}\n`;
    };
  };
  chatButton.addEventListener("click", () => negotiateSubprotocol(freshLog()));
  fooButton.addEventListener("click", () => offerUnknownSubprotocol(freshLog()));
  originButton.addEventListener("click", () => explainOrigin(freshLog(), originPanel, getRecord()));
}

/** Offers "chat, superchat": the 101 names the chosen one, and a message comes back as sent. */
function negotiateSubprotocol(write) {
  const tag = randomTag("echo");
  write(t("echo.offer", { offer: `"chat", "superchat"` }));
  const socket = new WebSocket(socketUrl(`/ws/echo?inspect=${tag}`), ["chat", "superchat"]);
  socket.onopen = async () => {
    write(t("echo.open", { protocol: socket.protocol || t("proto.none") }));
    try {
      const record = await fetchHandshake(tag);
      write(t("echo.server_saw", { offered: record.offered_subprotocols.join(", "), chosen: record.chosen_subprotocol ?? t("proto.none") }));
    } catch (error) {
      write(error.message);
    }
    const greeting = t("echo.greeting");
    write(t("echo.sent", { text: greeting }));
    socket.send(greeting);
  };
  socket.onmessage = (message) => {
    write(t("echo.received", { text: message.data }));
    socket.close(1000, "merci");
  };
  socket.onclose = (close) => write(t("echo.closed", { code: close.code, reason: close.reason || t("error.no_reason") }));
}

/** Offers "foo", which the server does not speak: a 400, seen by the page only as a failure. */
function offerUnknownSubprotocol(write) {
  write(t("echo.offer", { offer: `"foo"` }));
  const socket = new WebSocket(socketUrl("/ws/echo"), ["foo"]);
  socket.onopen = () => {
    write(t("echo.unexpected_open", { protocol: socket.protocol }));
    socket.close();
  };
  socket.onerror = () => write(t("echo.error_event"));
  socket.onclose = (close) => {
    write(t("echo.refused_close", { code: close.code }));
    write(t("echo.refused_why"));
  };
}

/** The Origin rule, explained: this page's origin, what the server received, and a curl to try. */
function explainOrigin(write, originPanel, record) {
  write(t("echo.origin_page", { origin: location.origin }));
  write(t("echo.origin_server", { origin: record?.origin ?? t("proto.none") }));
  originPanel.hidden = false;
  originPanel.querySelector("#origin-curl").textContent =
    `curl -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \\\n` +
    `     -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Origin: http://evil.example' \\\n` +
    `     ${location.origin}/ws/echo\n` +
    `HTTP/1.1 403 Forbidden\n...\n` +
    `{"error":"origin http://evil.example is not allowed here (same host, or --allowed-origin)"}`;
}
