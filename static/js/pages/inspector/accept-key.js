// pages/inspector/accept-key.js — Sec-WebSocket-Accept, computed in the browser step by step as on
// the slides: key + GUID → SHA-1 (shown in hex) → base64 of the 20 raw bytes (RFC 6455 §4.2.2).

import { sha1 } from "./sha1.js";

export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * Every intermediate value: { keyBytes (the 16 random bytes, or null if the key is not
 * base64), concatenated, sha1Hex, accept, method ("crypto.subtle" or "javascript") }.
 */
export async function acceptSteps(key) {
  const concatenated = key + WEBSOCKET_GUID;
  const input = new TextEncoder().encode(concatenated);
  let digest;
  let method;
  if (globalThis.crypto?.subtle) {
    digest = new Uint8Array(await crypto.subtle.digest("SHA-1", input));
    method = "crypto.subtle";
  } else {
    digest = sha1(input);
    method = "javascript";
  }
  return {
    keyBytes: decodeBase64(key),
    concatenated,
    sha1Hex: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""),
    accept: btoa(String.fromCharCode(...digest)),
    method,
  };
}

function decodeBase64(text) {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}
