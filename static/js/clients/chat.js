// clients/chat.js — posting a chat message over HTTP (POST /api/chat), for the panels without a
// channel of their own back to the server (short poll, long poll, SSE).

import { t } from "../shared/i18n.js";
import { serverUrl } from "../shared/cluster.js";

/** Publishes a chat message; throws an Error carrying the server's reason when refused. */
export async function postChat(author, text) {
  let response;
  try {
    response = await fetch(serverUrl("/api/chat"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ author, text }),
    });
  } catch {
    throw new Error(t("error.network"));
  }
  if (!response.ok) throw new Error(await serverReason(response));
  return response.json();
}

/** The `error` of a pushlab JSON error body, or the HTTP status when there is none. */
export async function serverReason(response) {
  return (await refusalOf(response)).message;
}

/**
 * A refusal's { message (the body's `error`, or the HTTP status), stopping (the body says
 * `"stopping": true`: a server on its way out refused it, src/server/stopping.rs) }.
 */
export async function refusalOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON: the status says it
  }
  // A refuse fault is said in the page's language (the server names it: src/server/refuse.rs).
  const message = body?.fault === "refuse"
    ? t("error.fault_refuse", { transport: t(`transport.${body.transport}`), seconds: body.retry_after_s })
    : typeof body?.error === "string" ? body.error : `HTTP ${response.status}`;
  return { message, stopping: body?.stopping === true };
}
