// pages/dashboard/main.js — the page at /: five panels following the same feed five ways, the
// charts and the cost table. This module only wires things together: panels (panel.js), one client
// per transport (clients/feed-clients.js), the clock offset and latency reports
// (measures/latency.js), and the server's stats (live/stats-stream.js, charts.js), which also carry
// what the instructor set (live/settings.js, live/poll-suggestion.js).

import { setUpChrome } from "../../shared/page-chrome.js";
import { t } from "../../shared/i18n.js";
import { formatMicros, formatOffset } from "../../shared/format.js";
import { TRANSPORTS } from "../../shared/transports.js";
import { Panel } from "./panel.js";
import { estimateOffset, nowMicros } from "../../measures/latency.js";
import { createClients } from "../../clients/feed-clients.js";
import { postChat } from "../../clients/chat.js";
import { followStats } from "../../live/stats-stream.js";
import { LiveCharts } from "./charts.js";
import { CostTable } from "./cost-table.js";
import { LiveSettings, conditionTexts } from "../../live/settings.js";
import { PollSuggestion } from "../../live/poll-suggestion.js";
import { downloadChartsPng } from "./chart-export.js";
import { ServerLine } from "../../live/server-line.js";
import { HopHistogram } from "./hop.js";
import { StatsPeriod } from "../../live/stats-period.js";
import { describeOffset } from "../../measures/resolution.js";
import { comparableTotals, onMove } from "../../shared/cluster.js";

const AUTHOR_KEY = "pushlab.author";

/** What each panel can know of its bytes (see panel.js). */
const PANEL_OPTIONS = {
  classic: { feed: false, chat: false, bytes: { down: "measured", up: "unknown" } },
  poll: { bytes: { down: "measured", up: "unknown" } },
  longpoll: { bytes: { down: "measured", up: "unknown" } },
  sse: { bytes: { down: "estimate", up: "unknown" } },
  ws: { bytes: { down: "estimate", up: "estimate" } },
};

setUpChrome();

const pageError = document.getElementById("page-error");
const controlsError = document.getElementById("controls-error");
const feedInfo = document.getElementById("feed-info");
feedInfo.textContent = t("dash.feed_info", { seq: feedInfo.dataset.lastSeq, rate: feedInfo.dataset.rateHz });
const controls = {
  author: document.getElementById("author"),
  classicRefresh: document.getElementById("classic-refresh"),
  pollInterval: document.getElementById("poll-interval"),
  longpollTimeout: document.getElementById("longpoll-timeout"),
};

controls.author.value = rememberedAuthor();
controls.author.addEventListener("change", () => {
  try {
    localStorage.setItem(AUTHOR_KEY, author());
  } catch {
    // not remembered, still used
  }
});

function rememberedAuthor() {
  try {
    const saved = localStorage.getItem(AUTHOR_KEY);
    if (saved) return saved;
  } catch {
    // storage refused: make one up below
  }
  return `${t("dash.default_author")}-${Math.floor(Math.random() * 900 + 100)}`;
}

function author() {
  return controls.author.value.trim() || t("dash.default_author");
}

const panelsRoot = document.getElementById("panels");
const panels = Object.fromEntries(TRANSPORTS.map(({ id }) => [id, new Panel(panelsRoot, id, PANEL_OPTIONS[id])]));

// The clock offset first: every latency depends on it. Without it, latencies are shown with
// offset 0 (both clocks taken as equal), and the page says so.
const offset = { offsetUs: 0, rttUs: 0 };
try {
  Object.assign(offset, await estimateOffset());
  document.getElementById("clock-offset").textContent = describeOffset(offset, { t, formatOffset, formatMicros });
} catch (error) {
  pageError.textContent = t("error.offset", { why: error.message });
}
for (const panel of Object.values(panels)) panel.setOffset(offset);

/** A whole number from an input, kept within its min/max; a bad value is shown, not used. */
function numberFrom(input) {
  const value = Number(input.value);
  const ok = input.value !== "" && Number.isInteger(value) && value >= Number(input.min) && value <= Number(input.max);
  input.setAttribute("aria-invalid", String(!ok));
  controlsError.textContent = ok ? "" : t("error.control", { min: input.min, max: input.max });
  return ok ? value : null;
}

const clients = createClients(panels, offset, {
  classicRefreshSeconds: numberFrom(controls.classicRefresh) ?? 3,
  pollIntervalMs: numberFrom(controls.pollInterval) ?? 1000,
  longpollTimeoutMs: numberFrom(controls.longpollTimeout) ?? 10000,
  getAuthor: author,
});

// The instructor suggests a short-poll interval; the page adopts it, the student may override.
const pollSuggestion = new PollSuggestion({
  input: controls.pollInterval,
  apply: (ms) => clients.poll.setIntervalMs(ms),
  describe: (text) => panels.poll.setNote(text),
});

controls.classicRefresh.addEventListener("change", () => {
  const seconds = numberFrom(controls.classicRefresh);
  if (seconds != null) clients.classic.setRefreshSeconds(seconds);
});
controls.pollInterval.addEventListener("change", () => {
  const ms = numberFrom(controls.pollInterval);
  if (ms != null) pollSuggestion.studentChose(ms);
});
controls.longpollTimeout.addEventListener("change", () => {
  const ms = numberFrom(controls.longpollTimeout);
  if (ms != null) clients.longpoll.setTimeoutMs(ms);
});

// Chat: each panel posts through its own transport where it has a way back to the server.
for (const id of ["poll", "longpoll", "sse"]) panels[id].onSend((text) => postChat(author(), text));
panels.ws.onSend(async (text) => clients.ws.sendChat(author(), text));

for (const client of Object.values(clients)) client.run();

setInterval(() => {
  const serverNow = nowMicros() + offset.offsetUs;
  for (const panel of Object.values(panels)) panel.refreshAges(serverNow);
}, 1000);

// The server's side: totals per transport, the 60 s charts, the cost table.
const charts = new LiveCharts({
  latency: document.getElementById("chart-latency"),
  requests: document.getElementById("chart-requests"),
  bytes: document.getElementById("chart-bytes"),
});
const latencySource = document.getElementById("latency-source");
latencySource.addEventListener("change", () => charts.setLatencySource(latencySource.value));
const costTable = new CostTable(document.getElementById("cost-table"), document.getElementById("cost-why"));
const statsState = document.getElementById("stats-state");
const liveSettings = new LiveSettings(document.getElementById("live-settings"));
const serverLine = new ServerLine(document.getElementById("server-line"));
const hop = new HopHistogram(document.getElementById("hop-card"));
const period = new StatsPeriod(document.getElementById("stats-period"));

const pngButton = document.getElementById("charts-png");
const exportError = document.getElementById("export-error");
pngButton.addEventListener("click", async () => {
  exportError.textContent = "";
  try {
    await downloadChartsPng();
  } catch (error) {
    exportError.textContent = t("export.png_failed", { why: error.message });
  }
});

/** Drops seen so far per transport: a new one is announced in its panel (the cause of the cut). */
let dropsSeen = null;

/** What the instructor set, on the strip and on each panel; the suggested poll interval. */
function showInstructorSettings(feed, faults) {
  if (!feed) return; // a server without controls: nothing to show
  liveSettings.update(feed, faults);
  for (const [id, panel] of Object.entries(panels)) panel.setConditions(conditionTexts(id, feed, faults));
  pollSuggestion.serverSays(feed.poll_interval_ms, feed.poll_interval_suggestion);
  if (faults) {
    for (const [id, panel] of Object.entries(panels)) {
      const drops = faults[id]?.drops ?? 0;
      if (dropsSeen && drops > (dropsSeen[id] ?? 0)) panel.showNotice(t("notice.dropped"));
    }
    dropsSeen = Object.fromEntries(Object.entries(faults).map(([id, fault]) => [id, fault.drops]));
  }
}

// The page moved to another server of its cluster; the classic page stays with this one.
onMove(() => panels.classic.showNotice(t("notice.classic_stays", { server: location.host })));

followStats({
  onWindow: (samples) => charts.setWindow(samples),
  onStats: (stats) => {
    // A new period (reset, restart, another server): this page's counts start again with it.
    const change = period.update(stats, offset);
    if (change) for (const panel of Object.values(panels)) panel.restartCounts(period.beganAtUs(change, offset));
    for (const [id, panel] of Object.entries(panels)) panel.setServerTotals(comparableTotals(stats.transports, id), stats.since, stats.at);
    costTable.update(stats.transports, period.sinceTime(), stats.feed);
    charts.addSample(stats.sample, stats.since);
    showInstructorSettings(stats.feed, stats.faults);
    serverLine.update(stats);
    hop.update(stats.broker);
  },
  onState: (state) => {
    statsState.textContent = state === "open" ? "" : t(`error.stats_${state}`);
  },
});
