// controls/admin-api.js — the instructor's controls (/api/admin/*) as the console and the lab call
// them: JSON both ways, with the console's session cookie. The token never appears in a script; the
// browser sends the HttpOnly cookie (same origin only, SameSite=Strict) and the server checks it.
//
// A refusal becomes an AdminApiError carrying the server's own `error` message and status, so that
// the page can show it next to the control that caused it.

import { t } from "../shared/i18n.js";
import { serverReason } from "../clients/chat.js";

export class AdminApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new AdminApiError(t("error.network"), 0);
  }
  if (!response.ok) throw new AdminApiError(await serverReason(response), response.status);
  return response.json();
}

/** {rate_hz, payload_bytes, paused, added_delay_ms: {...}, longpoll_max_ms, poll_interval_ms} */
export const getSettings = () => call("GET", "/api/admin/settings");
/** A partial update (also partial inside added_delay_ms); answers the new settings. */
export const putSettings = (partial) => call("PUT", "/api/admin/settings", partial);
export const resetStats = () => call("POST", "/api/admin/reset");
/** Publishes `count` ticks at once; answers {published, last_seq}. */
export const burst = (count) => call("POST", "/api/admin/burst", { count });
/** {kind: "drop"|"slow"|"refuse"|"clear", transport, ...}; a drop answers {dropped}. */
export const injectFault = (request) => call("POST", "/api/admin/fault", request);
