// shared/transports.js — the five transports, in the order every page shows them, and their
// colours.
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

/** The transport's colour as set in transports.css (e.g. "#0072B2"). */
export function transportColour(id) {
  const colour = getComputedStyle(document.documentElement).getPropertyValue(`--transport-${id}`).trim();
  if (!colour) throw new Error(`transports.css defines no colour for ${id}`);
  return colour;
}
