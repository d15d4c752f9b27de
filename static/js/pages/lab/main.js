// pages/lab/main.js — the page at /lab: the eight guided experiments (experiments.js) beside a table
// of this student's own figures and the class's (figures.js).
//
// The page follows the feed itself, five ways, with the dashboard's own clients
// (clients/feed-clients.js), so "you" is measured here and needs no other tab; "class" is the
// server's totals from /api/stats/ws. The short-poll client adopts the instructor's suggested
// interval, as on the dashboard (live/poll-suggestion.js).

import { setUpChrome } from "../../shared/page-chrome.js";
import { lang, t } from "../../shared/i18n.js";
import { TRANSPORT_IDS } from "../../shared/transports.js";
import { estimateOffset } from "../../measures/latency.js";
import { createClients } from "../../clients/feed-clients.js";
import { followStats } from "../../live/stats-stream.js";
import { LiveSettings } from "../../live/settings.js";
import { PollSuggestion } from "../../live/poll-suggestion.js";
import { LabRow, buildFiguresTable, describePeriod } from "./figures.js";
import { renderExperiments } from "./experiments.js";
import { ServerLine } from "../../live/server-line.js";
import { StatsPeriod } from "../../live/stats-period.js";
import { describeOffset } from "../../measures/resolution.js";
import { comparableTotals } from "../../shared/cluster.js";
import { formatMicros, formatOffset } from "../../shared/format.js";

setUpChrome();

const $ = (id) => document.getElementById(id);
const instructor = $("experiments").dataset.instructor === "true";
$("role-note").textContent = t(instructor ? "lab.instructor_note" : "lab.student_note");
const showInEffect = renderExperiments($("experiments"), { instructor, lang });

const offset = { offsetUs: 0, rttUs: 0 };
const body = buildFiguresTable($("figures-table"));
const rows = Object.fromEntries(TRANSPORT_IDS.map((id) => [id, new LabRow(body, id, $("classic-slot"), offset)]));

try {
  Object.assign(offset, await estimateOffset());
  $("clock-offset").textContent = describeOffset(offset, { t, formatOffset, formatMicros });
} catch (error) {
  $("page-error").textContent = t("error.offset", { why: error.message });
}

const pollInput = $("poll-interval");
const clients = createClients(rows, offset, {
  classicRefreshSeconds: 3,
  pollIntervalMs: Number(pollInput.value),
  longpollTimeoutMs: 10_000,
  getAuthor: () => t("dash.default_author"),
});
const pollNote = $("poll-note");
const pollSuggestion = new PollSuggestion({
  input: pollInput,
  apply: (ms) => clients.poll.setIntervalMs(ms),
  describe: (text) => (pollNote.textContent = text),
});
pollInput.addEventListener("change", () => {
  const ms = Number(pollInput.value);
  const ok = Number.isInteger(ms) && ms >= Number(pollInput.min) && ms <= Number(pollInput.max);
  pollInput.setAttribute("aria-invalid", String(!ok));
  $("controls-error").textContent = ok ? "" : t("error.control", { min: pollInput.min, max: pollInput.max });
  if (ok) pollSuggestion.studentChose(ms);
});
for (const client of Object.values(clients)) client.run();

// "you" requests per second move even when nothing arrives.
setInterval(() => Object.values(rows).forEach((row) => row.scheduleRender()), 1000);

const liveSettings = new LiveSettings($("live-settings"));
const statsState = $("stats-state");
const serverLine = new ServerLine($("server-line"));
const period = new StatsPeriod($("stats-period"));
followStats({
  onStats: (stats) => {
    serverLine.update(stats);
    // A new period (reset, restart, another server): "you" starts again with it.
    const change = period.update(stats, offset);
    if (change) for (const row of Object.values(rows)) row.restartCounts(period.beganAtUs(change, offset));
    for (const [id, row] of Object.entries(rows)) row.setServerTotals(comparableTotals(stats.transports, id), { ...stats.sample?.transports?.[id], t: stats.sample?.t }, stats);
    describePeriod($("figures-table"), rows.poll.countsSince, stats.since);
    if (stats.feed) {
      liveSettings.update(stats.feed, stats.faults);
      pollSuggestion.serverSays(stats.feed.poll_interval_ms, stats.feed.poll_interval_suggestion);
      showInEffect(stats.feed);
    }
  },
  onState: (state) => {
    statsState.textContent = state === "open" ? "" : t(`error.stats_${state}`);
  },
});
