// wire/frames.js — RFC 6455 §5.2 frame headers, built from a payload length.
//
// Used by the protocol page to draw a frame bit by bit, and by the dashboard to estimate the
// bytes of WebSocket frames (a page never sees frames, only the messages inside them).

export const OPCODE_NAMES = { 0x0: "continuation", 0x1: "text", 0x2: "binary", 0x8: "close", 0x9: "ping", 0xa: "pong" };

/** Which form the payload length takes: 7 bits (≤ 125), 7+16 bits (≤ 65535) or 7+64 bits. */
export function lengthForm(length) {
  if (length <= 125) return 7;
  if (length <= 0xffff) return 16;
  return 64;
}

function extendedLengthBytes(length) {
  return { 7: 0, 16: 2, 64: 8 }[lengthForm(length)];
}

/** Size of the frame header (without payload); client frames carry a 4-byte masking key. */
export function headerSize(length, masked) {
  return 2 + extendedLengthBytes(length) + (masked ? 4 : 0);
}

/** Size of a whole unfragmented frame on the wire. */
export function frameSize(length, masked) {
  return headerSize(length, masked) + length;
}

/** The header bytes of one frame, exactly as RFC 6455 lays them out. */
export function frameHeader({ fin = true, opcode, length, maskingKey = null }) {
  const extended = extendedLengthBytes(length);
  const header = new Uint8Array(2 + extended + (maskingKey ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | opcode; // RSV1-3 stay 0: no extension was negotiated
  const form = lengthForm(length);
  header[1] = (maskingKey ? 0x80 : 0) | (form === 7 ? length : form === 16 ? 126 : 127);
  const view = new DataView(header.buffer);
  if (form === 16) view.setUint16(2, length);
  if (form === 64) view.setBigUint64(2, BigInt(length));
  if (maskingKey) header.set(maskingKey, 2 + extended);
  return header;
}

/** Client-to-server payloads are XORed with the masking key, byte i with key[i % 4]. */
export function maskPayload(payload, maskingKey) {
  return payload.map((byte, i) => byte ^ maskingKey[i % 4]);
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

export function bits(byte) {
  return byte.toString(2).padStart(8, "0");
}
