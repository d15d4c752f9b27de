// pages/console/main.js — the page at /admin: the login form, or the instructor's console once
// logged in.
//
// Every control applies at once (PUT /api/admin/settings and friends, with the session cookie, see
// controls/admin-api.js) and reports next to itself (controls/report.js). What the server holds is
// shown live from /api/stats/ws, the same stream every dashboard follows: the console shows
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

/** The console: inputs filled from the server, each control wired, then kept in step live. */
async function startConsole() {
  const inputs = findInputs();
  const faultTable = new FaultTable($("fault-table"));
  const liveSettings = new LiveSettings($("live-settings"));
  const form = new SettingsForm(inputs);
  await loadSettings(form);
  wireFeedControls(form, inputs);
  wireNetworkControls(form, inputs);
  wireLimitControls(form, inputs);
  wireCounterControls(inputs);
  followServer(form, { liveSettings, faultTable });
}

/** The console's inputs by role; the per-transport delay boxes are built here. */
function findInputs() {
  return {
    rateSlider: $("rate-slider"),
    rate: $("rate-number"),
    payload: $("payload"),
    longpollCap: $("longpoll-cap"),
    pollInterval: $("poll-interval"),
    chatPerMin: $("chat-per-min"),
    reportsPerMin: $("reports-per-min"),
    burstCount: $("burst-count"),
    pause: $("pause"),
    delays: buildDelayInputs($("delay-controls")),
  };
}

/** The report next to the control marked data-control="name". */
function report(name) {
  return new ControlReport(document.querySelector(`[data-control="${name}"]`));
}

/** The inputs as a view of the server's settings, and the one way to change them. */
class SettingsForm {
  constructor(inputs) {
    this.inputs = inputs;
    this.current = null;
  }

  /** Puts the server's settings into every input, except the one being edited. */
  show(settings) {
    const { inputs } = this;
    this.current = settings;
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
    set(inputs.chatPerMin, settings.chat_per_min);
    set(inputs.reportsPerMin, settings.reports_per_min);
    for (const id of TRANSPORT_IDS) set(inputs.delays[id].input, settings.added_delay_ms[id]);
    inputs.pause.setAttribute("aria-pressed", String(settings.paused));
    inputs.pause.textContent = t(settings.paused ? "admin.resume_feed" : "admin.pause_feed");
  }

  /** Sends one partial update and reports it next to `control`. */
  async apply(control, partial) {
    const settings = await control.run(() => putSettings(partial));
    if (settings) this.show(settings);
  }

  /** On change, sends the input's number as `toPartial(number)`; a non-number is refused in place. */
  sendOnChange(input, control, toPartial, options) {
    input.addEventListener("change", () => {
      const value = numberOf(input, control, options);
      if (value != null) this.apply(control, toPartial(value));
    });
  }
}

/** The input's value as a number, or a refusal shown next to it (nothing is sent). */
function numberOf(input, control, { integer = true } = {}) {
  const value = Number(input.value);
  const ok = input.value.trim() !== "" && Number.isFinite(value) && (!integer || Number.isInteger(value));
  if (!ok) control.fail({ message: t(integer ? "control.whole_number" : "control.number"), status: 0 });
  return ok ? value : null;
}

/** The server's settings into the form, or why they could not be read (the session may be over). */
async function loadSettings(form) {
  try {
    form.show(await getSettings());
  } catch (error) {
    $("console-error").textContent = error.status === 401
      ? t("control.session_over", { why: error.message })
      : t("admin.error.load", { why: error.message });
  }
}

/** The feed's card: rate (slider and box), payload size, pause. */
function wireFeedControls(form, inputs) {
  // The rate: the slider moves on a 1-2-5 ladder (shown in the box while dragging, sent on
  // release); the box sends any exact rate.
  const rateControl = report("rate");
  inputs.rateSlider.max = String(RATE_STEPS.length - 1);
  inputs.rateSlider.addEventListener("input", () => {
    const rate = rateOfStep(Number(inputs.rateSlider.value));
    inputs.rate.value = String(rate);
    inputs.rateSlider.setAttribute("aria-valuetext", rateText(rate));
  });
  inputs.rateSlider.addEventListener("change", () => form.apply(rateControl, { rate_hz: rateOfStep(Number(inputs.rateSlider.value)) }));
  form.sendOnChange(inputs.rate, rateControl, (rate) => ({ rate_hz: rate }), { integer: false });

  form.sendOnChange(inputs.payload, report("payload"), (bytes) => ({ payload_bytes: bytes }));

  const pauseControl = report("pause");
  inputs.pause.addEventListener("click", () => form.apply(pauseControl, { paused: !(form.current?.paused ?? false) }));
}

/** The simulated network's card: added delay per transport, long-poll cap, suggested poll interval. */
function wireNetworkControls(form, inputs) {
  for (const id of TRANSPORT_IDS) {
    const { input, control } = inputs.delays[id];
    form.sendOnChange(input, control, (ms) => ({ added_delay_ms: { [id]: ms } }));
  }
  form.sendOnChange(inputs.longpollCap, report("longpoll-cap"), (ms) => ({ longpoll_max_ms: ms }));
  form.sendOnChange(inputs.pollInterval, report("poll-interval"), (ms) => ({ poll_interval_ms: ms }));
}

/** The limits per client address: chat messages and latency reports a minute. */
function wireLimitControls(form, inputs) {
  form.sendOnChange(inputs.chatPerMin, report("chat-per-min"), (n) => ({ chat_per_min: n }));
  form.sendOnChange(inputs.reportsPerMin, report("reports-per-min"), (n) => ({ reports_per_min: n }));
}

/** Actions that change no setting: publish a burst of events, reset the counters. */
function wireCounterControls(inputs) {
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
}

/**
 * The server's side, live: what every dashboard shows, and the console's inputs kept in step
 * (another console, a script with the token, or a lab "Apply" may change settings too).
 */
function followServer(form, { liveSettings, faultTable }) {
  const statsState = $("stats-state");
  const lastSeq = $("last-seq");
  const openConnections = $("open-connections");
  followStats({
    onStats: (stats) => {
      if (!stats.feed) return;
      liveSettings.update(stats.feed, stats.faults);
      faultTable.update(stats.faults);
      lastSeq.textContent = formatCount(stats.feed.last_seq);
      openConnections.textContent = TRANSPORT_IDS
        .map((id) => `${t(`transport.${id}`)} ${formatCount(stats.transports[id]?.connections_active)}`)
        .join(" · ");
      const { last_seq: _seq, buffer: _buffer, ...settings } = stats.feed;
      form.show(settings);
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

// Started last: the class and constants above exist only once the module has run down to here.
if ($("console")) {
  await startConsole();
} else {
  // The login form: the token field is the only thing to do here.
  document.querySelector('#login input[name="token"]')?.focus();
}
