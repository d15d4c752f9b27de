// live/settings.js — what the instructor set (feed rate, payload, pause, added delays, long-poll
// hold cap, suggested poll interval) and the faults in force, as /api/stats/ws reports them
// every second. The dashboard, the lab and the console show the same summary, so the whole room
// sees a change within a second of the instructor making it.
//
// This module only describes the server's state; changing it is the console's job (pages/console/).

import { el } from "../shared/dom.js";
import { t } from "../shared/i18n.js";
import { TRANSPORT_IDS } from "../shared/transports.js";
import { formatBytes, formatMillis, formatRate, pluralOf } from "../shared/format.js";

/** The faults of one transport in force now, as short texts (none: an empty list). */
export function faultTexts(fault) {
  if (!fault) return [];
  const texts = [];
  if (fault.refusing_s > 0) texts.push(t("fault.refusing", { seconds: fault.refusing_s }));
  if (fault.slow_bytes_per_sec > 0 && fault.slow_s > 0) {
    texts.push(t("fault.slow", { rate: formatBytes(fault.slow_bytes_per_sec), seconds: fault.slow_s }));
  }
  return texts;
}

/** "1 event/s", "5 events/s" (in French, "0,5 événement/s" too). */
export function rateText(hz) {
  return t(pluralOf(hz) === "one" ? "settings.rate_value_one" : "settings.rate_value", { rate: formatRate(hz) });
}

/** One transport's conditions (added delay, then faults) as chips' texts, for its panel. */
export function conditionTexts(transport, feed, faults) {
  const texts = [];
  const delay = feed?.added_delay_ms?.[transport] ?? 0;
  if (delay > 0) texts.push(t("fault.delay", { ms: formatMillis(delay) }));
  return texts.concat(faultTexts(faults?.[transport]));
}

function chip(transport, text) {
  return el("span", { class: `chip transport-${transport}`, dataset: { transport } },
    el("span", { class: "swatch", "aria-hidden": "true" }), el("strong", {}, t(`transport.${transport}`)), " ", text);
}

/** The summary strip: one line of terms, updated in place; a changed value flashes once. */
export class LiveSettings {
  constructor(container) {
    this.container = container;
    this.values = {};
    const item = (name, wide = false) => {
      this.values[name] = el("dd", { dataset: { setting: name } }, "–");
      return el("div", { class: wide ? "term wide" : "term" }, el("dt", {}, t(`settings.${name}`)), this.values[name]);
    };
    container.append(
      el("h2", { class: "settings-title", title: t("settings.help") }, t("settings.title")),
      el("dl", {},
        item("rate"), item("payload"), item("feed"), item("longpoll_cap"), item("poll_interval"), item("chat_limit"),
        item("delays", true), item("faults", true)),
    );
    container.dataset.state = "waiting";
    container.title = t("settings.waiting");
  }

  /** `feed` and `faults` exactly as in /api/stats. */
  update(feed, faults) {
    if (!feed) return;
    const data = this.container.dataset;
    data.state = "live";
    this.container.title = t("settings.help");
    data.rateHz = String(feed.rate_hz);
    data.payloadBytes = String(feed.payload_bytes);
    data.paused = String(feed.paused);
    data.longpollMaxMs = String(feed.longpoll_max_ms);
    data.pollIntervalMs = String(feed.poll_interval_ms);

    this.show("rate", rateText(feed.rate_hz));
    this.show("payload", feed.payload_bytes > 0 ? t("settings.payload_value", { bytes: formatBytes(feed.payload_bytes) }) : t("settings.none"));
    this.show("feed", t(feed.paused ? "settings.paused" : "settings.running"));
    this.values.feed.classList.toggle("paused", feed.paused);
    this.show("longpoll_cap", formatMillis(feed.longpoll_max_ms));
    this.show("poll_interval", formatMillis(feed.poll_interval_ms));
    if (feed.chat_per_min != null) {
      data.chatPerMin = String(feed.chat_per_min);
      this.show("chat_limit", t("settings.chat_limit_value", { n: feed.chat_per_min }));
    }

    const delays = TRANSPORT_IDS.filter((id) => feed.added_delay_ms?.[id] > 0)
      .map((id) => chip(id, `+${formatMillis(feed.added_delay_ms[id])}`));
    this.showChips("delays", delays, t("settings.none"));

    const faulty = TRANSPORT_IDS.filter((id) => faultTexts(faults?.[id]).length > 0);
    data.faults = faulty.join(",");
    const faultChips = faulty.map((id) => chip(id, faultTexts(faults[id]).join(" · ")));
    faultChips.forEach((c) => c.classList.add("fault"));
    this.showChips("faults", faultChips, t("settings.none_f"));
  }

  show(name, text) {
    const cell = this.values[name];
    if (cell.textContent === text) return;
    const first = cell.textContent === "–";
    cell.textContent = text;
    if (!first) flash(cell);
  }

  showChips(name, chips, noneText) {
    const cell = this.values[name];
    const before = cell.textContent;
    cell.replaceChildren(...(chips.length ? chips : [noneText]));
    // Fault countdowns change every second: only a fault that starts or ends flashes.
    const kinds = (text) => text.replace(/\d+/g, "#");
    if (before !== "–" && kinds(before) !== kinds(cell.textContent)) flash(cell);
  }
}

/** A brief highlight, so that a change made by the instructor catches the eye on a projector. */
function flash(element) {
  element.classList.remove("changed");
  void element.offsetWidth; // restarts the animation
  element.classList.add("changed");
}
