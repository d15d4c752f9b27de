// pages/inspector/accept.js — the Sec-WebSocket-Accept computation, step by step, for the key of
// the student's own connection (or any key typed in), compared with what the server answered.

import { t } from "../../shared/i18n.js";
import { acceptSteps } from "./accept-key.js";
import { hex } from "../../wire/frames.js";

export const RFC_EXAMPLE_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Draws the steps for `key`; `serverAccept` is the server's value for `serverKey`. */
export async function showAccept(view, key, { serverKey, serverAccept }) {
  const steps = await acceptSteps(key);
  view.key.textContent = key;
  view.keyBytes.textContent = steps.keyBytes
    ? t("proto.accept.key_bytes", { count: steps.keyBytes.length, hex: hex(steps.keyBytes) })
    : t("proto.accept.key_not_base64");
  view.concatenated.textContent = steps.concatenated;
  view.sha1.textContent = steps.sha1Hex;
  view.computed.textContent = steps.accept;
  view.method.textContent = t(steps.method === "crypto.subtle" ? "proto.accept.method_subtle" : "proto.accept.method_js");
  if (key === serverKey) {
    view.server.textContent = serverAccept;
    const same = serverAccept === steps.accept;
    view.verdict.dataset.ok = String(same);
    view.verdict.textContent = t(same ? "proto.accept.same" : "proto.accept.different");
  } else {
    view.server.textContent = t("proto.accept.not_your_key");
    view.verdict.dataset.ok = "";
    view.verdict.textContent = "";
  }
  return steps;
}
