// pages/inspector/frames.js — the anatomy of WebSocket frames of this feed: a text frame and a
// binary frame received from the server, and the masked frame a client sends. A page only ever sees
// the message inside a frame, so each header is rebuilt from the payload's length exactly as RFC
// 6455 §5.2 lays it out (wire/frames.js); the payloads are the real ones received.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { formatCount } from "../../shared/format.js";
import { OPCODE_NAMES, bits, frameHeader, hex, lengthForm, maskPayload } from "../../wire/frames.js";

/** Payload bytes drawn one by one; the rest is summarised. */
const PAYLOAD_BYTES_SHOWN = 24;

/**
 * Draws one frame into `container`: the bytes, the bits of the first two bytes, each field
 * with its meaning, the byte count; `decoded` optionally adds a table reading the payload.
 */
export function drawFrame(container, { title, opcode, payload, maskingKey = null, note, decoded = null }) {
  const header = frameHeader({ opcode, length: payload.length, maskingKey });
  const wirePayload = maskingKey ? maskPayload(payload, maskingKey) : payload;
  const form = lengthForm(payload.length);
  const extendedEnd = 2 + { 7: 0, 16: 2, 64: 8 }[form];

  const strip = el("p", { class: "frame-bytes", "aria-label": t("frame.bytes_label") });
  header.forEach((byte, i) => {
    const kind = i < 2 ? "b-head" : i < extendedEnd ? "b-len" : "b-mask";
    strip.append(el("span", { class: kind, title: t(`frame.${kind}`) }, hex([byte])));
  });
  wirePayload.slice(0, PAYLOAD_BYTES_SHOWN).forEach((byte) => strip.append(el("span", { class: "b-payload", title: t("frame.b-payload") }, hex([byte]))));
  if (payload.length > PAYLOAD_BYTES_SHOWN) {
    strip.append(el("span", { class: "b-more" }, t("frame.more_bytes", { count: formatCount(payload.length - PAYLOAD_BYTES_SHOWN) })));
  }

  const bitsTable = el("table", { class: "bits" },
    el("thead", {}, el("tr", {}, ...["FIN", "RSV1", "RSV2", "RSV3"].map((name) => el("th", {}, name)),
      el("th", { colspan: 4 }, "opcode"), el("th", {}, "MASK"), el("th", { colspan: 7 }, t("frame.len7")))),
    el("tbody", {}, el("tr", {}, ...[...bits(header[0]), ...bits(header[1])].map((bit) => el("td", {}, bit)))));

  const lengthText = {
    7: t("frame.length_7", { n: payload.length }),
    16: t("frame.length_16", { n: payload.length, hex: hex(header.slice(2, 4)) }),
    64: t("frame.length_64", { n: payload.length, hex: hex(header.slice(2, 10)) }),
  }[form];
  const preview = opcode === 0x1 ? new TextDecoder().decode(payload) : hex(payload.slice(0, 32)) + (payload.length > 32 ? " …" : "");
  const rows = [
    ["FIN", "1", t("frame.fin_help")],
    ["RSV1-3", "000", t("frame.rsv_help")],
    ["opcode", `0x${opcode.toString(16)} (${OPCODE_NAMES[opcode]})`, t("frame.opcode_help")],
    ["MASK", maskingKey ? "1" : "0", t(maskingKey ? "frame.mask_client" : "frame.mask_server")],
    [t("frame.payload_length"), formatCount(payload.length), lengthText],
  ];
  if (maskingKey) rows.push([t("frame.masking_key"), hex(maskingKey), t("frame.masking_key_help")]);
  // The payload may be a chat event: its JSON is isolated with a left-to-right base, so a
  // right-to-left author or text cannot reorder the braces and quotes around it.
  rows.push([t("frame.payload"), el("bdi", { dir: "ltr" }, preview), maskingKey ? t("frame.payload_masked", { hex: hex(wirePayload.slice(0, 12)) }) : t("frame.payload_help")]);
  const fields = el("table", { class: "fields" },
    el("thead", {}, el("tr", {}, el("th", {}, t("frame.field")), el("th", {}, t("frame.value")), el("th", {}, t("frame.meaning")))),
    el("tbody", {}, rows.map(([name, value, meaning]) => el("tr", {}, el("th", { scope: "row" }, name), el("td", {}, el("code", {}, value)), el("td", { class: "small" }, meaning)))));

  const total = header.length + payload.length;
  const parts = [
    el("h3", {}, title),
    strip,
    bitsTable,
    fields,
    el("p", { class: "frame-total", dataset: { header: header.length, payload: payload.length } },
      t("frame.total", { header: header.length, payload: formatCount(payload.length), total: formatCount(total) })),
    decoded,
    note ? el("p", { class: "small muted" }, note) : null,
  ];
  container.replaceChildren(...parts.filter(Boolean));
}

/** Reads a pushlab.bin payload field by field (layout in the README). */
export function decodeBinaryEvent(payload) {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const seq = view.getBigUint64(0);
  const ts = view.getBigUint64(8);
  const kindLength = view.getUint8(16);
  const decoder = new TextDecoder();
  const kind = decoder.decode(payload.slice(17, 17 + kindLength));
  const data = decoder.decode(payload.slice(17 + kindLength));
  const rows = [
    ["0–7", "seq", "u64 BE", hex(payload.slice(0, 8)), String(seq)],
    ["8–15", "ts", "u64 BE (µs)", hex(payload.slice(8, 16)), `${ts} (${new Date(Number(ts / 1000n)).toISOString()})`],
    ["16", "K", "u8", hex(payload.slice(16, 17)), String(kindLength)],
    [`17–${16 + kindLength}`, "kind", "UTF-8", hex(payload.slice(17, 17 + kindLength)), kind],
    [`${17 + kindLength}–${payload.length - 1}`, "data", "JSON", t("frame.bytes_count", { count: payload.length - 17 - kindLength }), el("bdi", { dir: "ltr" }, data)],
  ];
  return el("table", { class: "fields" },
    el("caption", { class: "small muted" }, t("frame.binary_layout")),
    el("thead", {}, el("tr", {}, ...["frame.bytes", "frame.field", "frame.encoding", "hex", "frame.value"].map((key) => el("th", {}, key.includes(".") ? t(key) : key)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((cell, i) => el(i === 0 ? "th" : "td", i === 0 ? { class: "range" } : {}, i >= 3 ? el("code", {}, cell) : cell))))));
}

/** The three forms of the payload length, with this frame's form marked. */
export function drawLengthForms(table, length) {
  const current = lengthForm(length);
  const forms = [
    [7, "0 – 125", t("frame.form_7"), 2],
    [16, "126 – 65 535", t("frame.form_16"), 4],
    [64, "≥ 65 536", t("frame.form_64"), 10],
  ];
  table.replaceChildren(
    el("thead", {}, el("tr", {}, ...["frame.form_payload", "frame.form_len7", "frame.form_server", "frame.form_client"].map((key) => el("th", {}, t(key))))),
    el("tbody", {}, forms.map(([form, range, len7, headerBytes]) =>
      el("tr", { class: form === current ? "current" : "", "aria-current": form === current ? "true" : null },
        el("td", {}, range), el("td", {}, len7), el("td", { class: "num" }, `${headerBytes} B`), el("td", { class: "num" }, `${headerBytes + 4} B`)))),
  );
}
