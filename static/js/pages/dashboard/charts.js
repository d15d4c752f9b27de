// pages/dashboard/charts.js — the dashboard's live charts (uPlot, vendored): latency p50/p99,
// requests per second and bytes per delivered event, per transport, over the last 60 seconds.
//
// Fed by live/stats-stream.js: setWindow() with the 60 s series, then addSample() every second. A
// second in which a transport delivered nothing has no latency and no bytes per event: it has no
// point (not a zero), and the line joins its neighbours, because a classic page reloaded every 3 s,
// or latencies reported every 2 s, would otherwise leave only isolated points. Latency and bytes
// use log scales, because the transports differ by orders of magnitude (a push in a millisecond, a
// poll in half a second).

import uPlot from "../../../vendor/uplot/uPlot.esm.js";
import { t } from "../../shared/i18n.js";
import { TRANSPORT_IDS, transportColour } from "../../shared/transports.js";
import { formatBytes, formatDecimal, formatMicrosShort } from "../../shared/format.js";

const WINDOW_SECONDS = 60;

const positiveOrNull = (value) => (value > 0 ? value : null);

/** What each chart draws: its series, how to read a sample, its scale and its tick labels. */
const CHARTS = {
  latency: {
    log: true,
    series: (source) =>
      TRANSPORT_IDS.flatMap((id) => [
        { id, label: `${t(`transport.${id}`)} p50`, dash: null, read: (s) => positiveOrNull(s.transports[id]?.[`${source}_p50_us`]) },
        { id, label: `${t(`transport.${id}`)} p99`, dash: [6, 5], read: (s) => positiveOrNull(s.transports[id]?.[`${source}_p99_us`]) },
      ]),
    tick: (value) => formatMicrosShort(value),
  },
  requests: {
    log: false,
    series: () => TRANSPORT_IDS.map((id) => ({ id, label: t(`transport.${id}`), dash: null, read: (s) => s.transports[id]?.requests_per_s ?? null })),
    tick: (value) => formatDecimal(value),
  },
  bytes: {
    log: true,
    series: () => TRANSPORT_IDS.map((id) => ({ id, label: t(`transport.${id}`), dash: null, read: (s) => positiveOrNull(s.transports[id]?.bytes_per_event) })),
    tick: (value) => formatBytes(value),
  },
};

export class LiveCharts {
  /** containers: { latency, requests, bytes } elements; each gets one uPlot. */
  constructor(containers) {
    this.containers = containers;
    this.samples = [];
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

  setWindow(samples) {
    this.samples = samples.slice(-WINDOW_SECONDS);
    this.redraw();
  }

  addSample(sample) {
    if (!sample || this.samples.at(-1)?.t === sample.t) return;
    this.samples.push(sample);
    if (this.samples.length > WINDOW_SECONDS) this.samples.shift();
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
    const xs = this.samples.map((sample) => sample.t / 1e6);
    return [xs, ...series.map((spec) => this.samples.map(spec.read))];
  }

  redraw() {
    for (const [name, plot] of Object.entries(this.plots)) {
      const data = this.dataOf(plot.seriesSpec);
      plot.setData(data);
      // For the browser tests and curious readers: how much the chart really holds.
      const container = this.containers[name];
      container.dataset.samples = String(this.samples.length);
      container.dataset.points = String(data.slice(1).flat().filter((v) => v != null).length);
    }
  }

  resize() {
    for (const [name, plot] of Object.entries(this.plots)) {
      const width = this.containers[name].clientWidth;
      if (width > 0 && width !== plot.width) plot.setSize({ width, height: plot.height });
    }
  }
}

/** A log axis has a tick at 1…9 × 10ⁿ: only the powers of ten get a label, or they overlap. */
function isPowerOfTen(value) {
  const exponent = Math.log10(value);
  return Math.abs(exponent - Math.round(exponent)) < 1e-9;
}

function options(container, chart, series) {
  const rootPx = parseFloat(getComputedStyle(document.documentElement).fontSize);
  const font = `${Math.round(rootPx * 0.8)}px system-ui, sans-serif`;
  return {
    width: Math.max(container.clientWidth, 300),
    height: Math.round(rootPx * 15),
    legend: { show: false }, // one shared HTML legend serves the three charts
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: chart.log
        ? { distr: 3, range: (u, min, max) => (min == null || max == null ? [1, 10] : uPlot.rangeLog(min, max, 10, true)) }
        : { range: (u, min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] },
    },
    axes: [
      { font, stroke: "#5b5b66" },
      { font, stroke: "#5b5b66", size: rootPx * 5.5, values: (u, ticks) => ticks.map((v) => (chart.log && !isPowerOfTen(v) ? "" : chart.tick(v))) },
    ],
    series: [
      {},
      ...series.map((spec) => ({
        label: spec.label,
        stroke: transportColour(spec.id),
        width: spec.dash ? 1.5 : 2.5,
        dash: spec.dash ?? undefined,
        points: { show: true, size: spec.dash ? 3 : 5 },
        spanGaps: true,
      })),
    ],
  };
}
