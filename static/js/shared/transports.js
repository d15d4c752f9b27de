// shared/transports.js — the five transports, in the order every page shows them, the path each
// one follows the feed at, and their colours.
//
// The front end's only list of transport paths: every client and the inspector ask
// transportPath(id) rather than writing a path again. The list stays plain on purpose, one line per
// transport in the server's order (Transport::ALL), `{ id: "…", path: "…" },` with double quotes,
// so that a test can read it without a JavaScript parser and compare it with the server's routes.
//
// The colours live in /static/css/transports.css (one CSS variable per transport, Okabe-Ito);
// charts read them from there, so a panel, a chart line and a table cell always agree.

export const TRANSPORTS = [
  { id: "classic", path: "/classic" },
  { id: "poll", path: "/api/poll" },
  { id: "longpoll", path: "/api/longpoll" },
  { id: "sse", path: "/api/sse" },
  { id: "ws", path: "/ws" },
];

export const TRANSPORT_IDS = TRANSPORTS.map((transport) => transport.id);

/** The path a transport follows the feed at (e.g. "/api/poll"); an unknown id is a bug, and throws. */
export function transportPath(id) {
  const transport = TRANSPORTS.find((candidate) => candidate.id === id);
  if (!transport) throw new Error(`no transport named ${id}`);
  return transport.path;
}

/** The transport's colour as set in transports.css (e.g. "#0072B2"). */
export function transportColour(id) {
  const colour = getComputedStyle(document.documentElement).getPropertyValue(`--transport-${id}`).trim();
  if (!colour) throw new Error(`transports.css defines no colour for ${id}`);
  return colour;
}
