// pages/dashboard/charts.js — the dashboard's live charts (uPlot, vendored): latency p50/p99,
// requests per second and bytes per delivered event, per transport, over the last 60 seconds.
//
// Fed by live/stats-stream.js: setWindow() with the 60 s series, then addSample() every second
// with the stats' `since`. A second in which a transport delivered nothing has no latency and no
// bytes per event: it has no point (not a zero), and the line breaks there, as it does across
// seconds that were not measured (chart-data.js): a line only joins measured neighbours (client
// latencies, which browsers report every 2 s, may join across one second without a report). Points
// are drawn, so a classic page reloaded every 3 s still shows its isolated seconds. After a reset
// the chart keeps only the seconds since, so its axes rescale to what the class does now. Latency
// and bytes use log scales, because the transports differ by orders of magnitude (a push in a
// millisecond, a poll in half a second). Every label is in the page's language (numbers.js):
// 14:05:30, 0,5, 1 ko in French. In projector mode fonts, lines and points are bigger.

import uPlot from "../../../vendor/uplot/uPlot.esm.js";
import { lang, locale, t } from "../../shared/i18n.js";
import { TRANSPORT_IDS, transportColour } from "../../shared/transports.js";
import { bytesAxisLabels, linearAxisLabels, microsAxisLabels, timeAxisLabels } from "../../shared/numbers.js";
import { chartColumns, requestsRange, samplesSince } from "./chart-data.js";

const WINDOW_SECONDS = 60;
/** Steps between time ticks, in seconds: the axis picks the smallest its labels have room for. */
const TIME_TICK_SECONDS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600];

const positiveOrNull = (value) => (value > 0 ? value : null);

/**
 * Seconds without a value a latency line may join: browsers report their latencies every 2 s
 * (measures/latency.js), so a client series has a value every other second at best; the
 * server's hand-off delay is measured every second and joins none.
 */
const CLIENT_REPORT_BRIDGE_SECONDS = 1;
const bridgeOf = (source) => (source === "client" ? CLIENT_REPORT_BRIDGE_SECONDS : 0);

/** What each chart draws: its series, how to read a sample, its scale and its tick labels. */
const CHARTS = {
  latency: {
    log: true,
    series: (source) =>
      TRANSPORT_IDS.flatMap((id) => [
        { id, label: `${t(`transport.${id}`)} p50`, dash: null, bridge: bridgeOf(source), read: (s) => positiveOrNull(s.transports[id]?.[`${source}_p50_us`]) },
        { id, label: `${t(`transport.${id}`)} p99`, dash: [6, 5], bridge: bridgeOf(source), read: (s) => positiveOrNull(s.transports[id]?.[`${source}_p99_us`]) },
      ]),
    labels: (ticks) => microsAxisLabels(ticks, locale),
  },
  requests: {
    log: false,
    series: () => TRANSPORT_IDS.map((id) => ({ id, label: t(`transport.${id}`), dash: null, read: (s) => s.transports[id]?.requests_per_s ?? null })),
    labels: (ticks) => linearAxisLabels(ticks, locale),
  },
  bytes: {
    log: true,
    series: () => TRANSPORT_IDS.map((id) => ({ id, label: t(`transport.${id}`), dash: null, read: (s) => positiveOrNull(s.transports[id]?.bytes_per_event) })),
    labels: (ticks) => bytesAxisLabels(ticks, lang, locale),
  },
};

export class LiveCharts {
  /** containers: { latency, requests, bytes } elements; each gets one uPlot. */
  constructor(containers) {
    this.containers = containers;
    this.samples = [];
    this.since = null;
    this.latencySource = "client";
    this.plots = {};
    this.build();
    const resize = new ResizeObserver(() => this.resize());
    for (const container of Object.values(containers)) resize.observe(container);
    document.addEventListener("pushlab:projector", () => this.build());
  }

  /** "client" (end-to-end, measured by browsers) or "delay" (hand-off delay, server clock). */
  setLatencySource(source) {
    this.latencySource = source;
    this.build();
  }

  /**
   * The server's window (at connection, or fetched again after the socket skipped a second). A
   * sample received since the window was read, newer than its last, is kept.
   */
  setWindow(samples) {
    const last = samples.at(-1)?.t ?? -Infinity;
    const newer = this.samples.filter((sample) => sample.t > last);
    this.samples = samplesSince([...samples, ...newer], this.since).slice(-WINDOW_SECONDS);
    this.redraw();
  }

  /** The newest second; `since` (µs) is when the statistics were last zeroed (stats' `since`). */
  addSample(sample, since = null) {
    if (since != null && since !== this.since) {
      this.since = since;
      this.samples = samplesSince(this.samples, since);
    }
    if (sample && this.samples.at(-1)?.t !== sample.t && sample.t >= (this.since ?? 0)) {
      this.samples.push(sample);
      if (this.samples.length > WINDOW_SECONDS) this.samples.shift();
    }
    this.redraw();
  }

  build() {
    for (const [name, container] of Object.entries(this.containers)) {
      this.plots[name]?.destroy();
      const chart = CHARTS[name];
      const series = chart.series(this.latencySource);
      this.plots[name] = new uPlot(options(container, chart, series), this.dataOf(series), container);
      this.plots[name].seriesSpec = series;
    }
  }

  dataOf(series) {
    return chartColumns(this.samples, series.map(({ read, bridge }) => ({ read, bridge: bridge ?? 0 })));
  }

  redraw() {
    for (const [name, plot] of Object.entries(this.plots)) {
      const data = this.dataOf(plot.seriesSpec);
      plot.setData(data);
      // For the browser tests and curious readers: how much the chart really holds, and its scale.
      const container = this.containers[name];
      container.dataset.samples = String(this.samples.length);
      container.dataset.points = String(data.slice(1).flat().filter((v) => v != null).length);
      container.dataset.yMax = String(plot.scales.y.max ?? "");
      const latest = plot.seriesSpec.map((spec, i) => [`${spec.id}${spec.dash ? "-p99" : ""}`, data[i + 1].at(-1) ?? null]);
      container.dataset.latest = JSON.stringify(Object.fromEntries(latest));
    }
  }

  resize() {
    for (const [name, plot] of Object.entries(this.plots)) {
      const width = this.containers[name].clientWidth;
      if (width > 0 && width !== plot.width) plot.setSize({ width, height: plot.height });
    }
  }
}

/** Keeps an axis's labels on its container (data-x-labels, data-y-labels) for tests and readers. */
function recorded(container, axis, labels) {
  container.dataset[`${axis}Labels`] = labels.filter((label) => label !== "").join(" | ");
  return labels;
}

function options(container, chart, series) {
  const rootPx = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const projector = document.documentElement.classList.contains("projector");
  // From the back of a room: bigger and bolder labels, thicker lines, bigger points.
  const fontPx = Math.round(rootPx * (projector ? 1 : 0.8));
  const font = `${projector ? "600 " : ""}${fontPx}px system-ui, sans-serif`;
  const lineHeight = fontPx * 1.3;
  const line = projector ? { solid: 4, dashed: 2.5, point: 8, smallPoint: 5 } : { solid: 2.5, dashed: 1.5, point: 5, smallPoint: 3 };
  const axis = { font, stroke: "#3d3d45", grid: { stroke: "#e4e4ea", width: 1 }, ticks: { stroke: "#c9c9d2", width: 1, size: fontPx * 0.4 } };
  return {
    width: Math.max(container.clientWidth, 300),
    height: Math.round(rootPx * 15),
    legend: { show: false }, // one shared HTML legend serves the three charts
    // Room on the right for half of the last time label, which is centred on its tick.
    padding: [null, fontPx * 3, null, null],
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: chart.log
        ? { distr: 3, range: (u, min, max) => (min == null || max == null ? [1, 10] : uPlot.rangeLog(min, max, 10, true)) }
        : { range: (u, min, max) => requestsRange(max) },
    },
    axes: [
      {
        ...axis,
        // Two lines on the first tick (time, then day), room for both; a label every ~6 em.
        size: Math.ceil(lineHeight * 2 + fontPx),
        space: fontPx * 6,
        // Whole seconds only: the samples are one a second, and a label never repeats.
        incrs: TIME_TICK_SECONDS,
        values: (u, ticks) => recorded(container, "x", timeAxisLabels(ticks, locale)),
      },
      {
        ...axis,
        size: (u, values) => Math.ceil(Math.max(fontPx * 3, ...(values ?? []).map((v) => measureText(v, font))) + fontPx),
        space: fontPx * 2.5,
        values: (u, ticks) => recorded(container, "y", chart.labels(ticks)),
      },
    ],
    series: [
      {},
      ...series.map((spec) => ({
        label: spec.label,
        stroke: transportColour(spec.id),
        width: spec.dash ? line.dashed : line.solid,
        dash: spec.dash ? spec.dash.map((d) => (projector ? d * 1.6 : d)) : undefined,
        points: { show: true, size: spec.dash ? line.smallPoint : line.point },
        spanGaps: false,
      })),
    ],
  };
}

const measuring = document.createElement("canvas").getContext("2d");
/** Width in CSS px of `text` in `font` (for an axis as wide as its longest label). */
function measureText(text, font) {
  measuring.font = font;
  return measuring.measureText(String(text ?? "")).width;
}
