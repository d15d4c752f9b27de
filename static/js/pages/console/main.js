// pages/console/main.js — the page at /admin: the login form, or the instructor's console once
// logged in.
//
// Every control applies at once (PUT /api/admin/settings and friends, with the session cookie, see
// controls/admin-api.js) and reports next to itself (controls/report.js). What the server holds is
// shown live from /api/stats/stream, the same stream every dashboard follows: the console shows
// exactly what the room sees. An input the instructor is editing is left alone by those updates.

import { setUpChrome } from "../../shared/page-chrome.js";
import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { TRANSPORT_IDS } from "../../shared/transports.js";
import { formatCount } from "../../shared/format.js";
import { followStats } from "../../live/stats-stream.js";
import { LiveSettings, rateText } from "../../live/settings.js";
import { burst, getSettings, putSettings, resetStats } from "../../controls/admin-api.js";
import { ControlReport } from "../../controls/report.js";
import { FaultTable } from "./faults.js";
import { RATE_STEPS, rateOfStep, stepOfRate } from "./rate-steps.js";

setUpChrome();

const $ = (id) => document.getElementById(id);

if ($("console")) {
  await startConsole();
} else {
  // The login form: the token field is the only thing to do here.
  document.querySelector('#login input[name="token"]')?.focus();
}

async function startConsole() {
  const consoleError = $("console-error");
  const report = (name) => new ControlReport(document.querySelector(`[data-control="${name}"]`));
  const inputs = {
    rateSlider: $("rate-slider"),
    rate: $("rate-number"),
    payload: $("payload"),
    longpollCap: $("longpoll-cap"),
    pollInterval: $("poll-interval"),
    burstCount: $("burst-count"),
  };
  const delayInputs = buildDelayInputs($("delay-controls"));
  const pauseButton = $("pause");
  const faultTable = new FaultTable($("fault-table"));
  const liveSettings = new LiveSettings($("live-settings"));
  let current = null;

  /** Puts the server's settings into every input, except the one being edited. */
  function show(settings) {
    current = settings;
    const set = (input, value) => {
      if (document.activeElement !== input) input.value = String(value);
    };
    // While the slider is dragged, the box shows the slider's value, not the server's (yet).
    if (document.activeElement !== inputs.rateSlider) {
      set(inputs.rate, settings.rate_hz);
      inputs.rateSlider.value = String(stepOfRate(settings.rate_hz));
    }
    inputs.rateSlider.setAttribute("aria-valuetext", rateText(settings.rate_hz));
    set(inputs.payload, settings.payload_bytes);
    set(inputs.longpollCap, settings.longpoll_max_ms);
    set(inputs.pollInterval, settings.poll_interval_ms);
    for (const id of TRANSPORT_IDS) set(delayInputs[id].input, settings.added_delay_ms[id]);
    pauseButton.setAttribute("aria-pressed", String(settings.paused));
    pauseButton.textContent = t(settings.paused ? "admin.resume_feed" : "admin.pause_feed");
  }

  /** Sends one partial update and reports it next to `control`. */
  async function apply(control, partial) {
    const settings = await control.run(() => putSettings(partial));
    if (settings) show(settings);
  }

  /** The input's value as a number, or a refusal shown next to it (nothing is sent). */
  function numberOf(input, control, { integer = true } = {}) {
    const value = Number(input.value);
    const ok = input.value.trim() !== "" && Number.isFinite(value) && (!integer || Number.isInteger(value));
    if (!ok) control.fail({ message: t(integer ? "control.whole_number" : "control.number"), status: 0 });
    return ok ? value : null;
  }

  try {
    show(await getSettings());
  } catch (error) {
    consoleError.textContent = error.status === 401
      ? t("control.session_over", { why: error.message })
      : t("admin.error.load", { why: error.message });
  }

  // The rate: the slider moves on a 1-2-5 ladder (shown in the box while dragging, sent on
  // release); the box sends any exact rate.
  const rateControl = report("rate");
  inputs.rateSlider.max = String(RATE_STEPS.length - 1);
  inputs.rateSlider.addEventListener("input", () => {
    const rate = rateOfStep(Number(inputs.rateSlider.value));
    inputs.rate.value = String(rate);
    inputs.rateSlider.setAttribute("aria-valuetext", rateText(rate));
  });
  inputs.rateSlider.addEventListener("change", () => apply(rateControl, { rate_hz: rateOfStep(Number(inputs.rateSlider.value)) }));
  inputs.rate.addEventListener("change", () => {
    const rate = numberOf(inputs.rate, rateControl, { integer: false });
    if (rate != null) apply(rateControl, { rate_hz: rate });
  });

  const payloadControl = report("payload");
  inputs.payload.addEventListener("change", () => {
    const bytes = numberOf(inputs.payload, payloadControl);
    if (bytes != null) apply(payloadControl, { payload_bytes: bytes });
  });

  const pauseControl = report("pause");
  pauseButton.addEventListener("click", () => apply(pauseControl, { paused: !(current?.paused ?? false) }));

  const burstControl = report("burst");
  $("burst").addEventListener("click", () => {
    const count = numberOf(inputs.burstCount, burstControl);
    if (count != null) {
      burstControl.run(() => burst(count), (answer, time) =>
        t("admin.burst_done", { n: formatCount(answer.published), seq: answer.last_seq, time }));
    }
  });

  const resetControl = report("reset");
  $("reset").addEventListener("click", () =>
    resetControl.run(() => resetStats(), (_answer, time) => t("admin.reset_done", { time })));

  for (const id of TRANSPORT_IDS) {
    const { input, control } = delayInputs[id];
    input.addEventListener("change", () => {
      const ms = numberOf(input, control);
      if (ms != null) apply(control, { added_delay_ms: { [id]: ms } });
    });
  }

  const capControl = report("longpoll-cap");
  inputs.longpollCap.addEventListener("change", () => {
    const ms = numberOf(inputs.longpollCap, capControl);
    if (ms != null) apply(capControl, { longpoll_max_ms: ms });
  });

  const intervalControl = report("poll-interval");
  inputs.pollInterval.addEventListener("change", () => {
    const ms = numberOf(inputs.pollInterval, intervalControl);
    if (ms != null) apply(intervalControl, { poll_interval_ms: ms });
  });

  // The server's side, live: what every dashboard shows, and the console's inputs kept in step
  // (another console, a script with the token, or a lab "Apply" may change settings too).
  const statsState = $("stats-state");
  const lastSeq = $("last-seq");
  const openConnections = $("open-connections");
  followStats({
    onWindow: () => {},
    onStats: (stats) => {
      if (!stats.feed) return;
      liveSettings.update(stats.feed, stats.faults);
      faultTable.update(stats.faults);
      lastSeq.textContent = formatCount(stats.feed.last_seq);
      openConnections.textContent = TRANSPORT_IDS
        .map((id) => `${t(`transport.${id}`)} ${formatCount(stats.transports[id]?.connections_active)}`)
        .join(" · ");
      const { last_seq: _seq, buffer: _buffer, ...settings } = stats.feed;
      show(settings);
    },
    onState: (state) => {
      statsState.textContent = state === "open" ? "" : t(`error.stats_${state}`);
    },
  });
}

/** One labelled box per transport for its added delay, each reporting on its own. */
function buildDelayInputs(container) {
  const inputs = {};
  for (const id of TRANSPORT_IDS) {
    const input = el("input", { id: `delay-${id}`, type: "number", min: "0", max: "10000", step: "50", inputmode: "numeric" });
    const box = el("div", { class: `control delay transport-${id}`, dataset: { control: `delay-${id}` } },
      el("label", { for: `delay-${id}` }, el("span", { class: "swatch", "aria-hidden": "true" }), " ", t(`transport.${id}`)),
      el("span", { class: "field" }, input, " ms"),
      el("output", { class: "status" }),
      el("p", { class: "error", role: "alert" }));
    container.append(box);
    inputs[id] = { input, control: new ControlReport(box) };
  }
  return inputs;
}
