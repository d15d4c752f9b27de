// pages/dashboard/chart-export.js — "download the charts as PNG": the uPlot canvases of the
// dashboard, each under its title, with the transports' legend, composed into one image for a lab
// report.
//
// uPlot draws series, grid and axes on its canvas, so copying the canvases copies the charts
// exactly as seen (at the screen's pixel ratio). Titles and legend are drawn again as text: they
// are HTML on the page. Everything happens in the browser; the server is not asked.

import { t, locale } from "../../shared/i18n.js";
import { TRANSPORT_IDS, transportColour } from "../../shared/transports.js";

const PAPER = "#ffffff";
const INK = "#1d1d1f";
const MUTED = "#5b5b66";

/** cards: [{ title, canvas }]; returns a PNG Blob. */
export async function composeCharts(cards, { heading, note }) {
  const scale = window.devicePixelRatio || 1;
  const pad = Math.round(16 * scale);
  const titleSize = Math.round(15 * scale);
  const textSize = Math.round(12 * scale);
  const width = Math.max(...cards.map((card) => card.canvas.width)) + 2 * pad;
  const legendHeight = textSize * 2;
  const height = pad + titleSize * 1.6 + legendHeight + pad
    + cards.reduce((sum, card) => sum + titleSize * 1.6 + card.canvas.height + pad, 0);

  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = Math.ceil(height);
  const g = canvas.getContext("2d");
  g.fillStyle = PAPER; // uPlot's canvases are transparent: give them the page's paper
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.textBaseline = "top";

  let y = pad;
  g.fillStyle = INK;
  g.font = `700 ${titleSize}px system-ui, sans-serif`;
  g.fillText(heading, pad, y);
  y += titleSize * 1.6;

  // The legend, as on the page: a swatch per transport, then the line styles.
  g.font = `${textSize}px system-ui, sans-serif`;
  let x = pad;
  for (const id of TRANSPORT_IDS) {
    g.fillStyle = transportColour(id);
    g.beginPath();
    g.arc(x + textSize / 2, y + textSize / 2, textSize / 2, 0, 2 * Math.PI);
    g.fill();
    x += textSize * 1.5;
    g.fillStyle = INK;
    const label = t(`transport.${id}`);
    g.fillText(label, x, y);
    x += g.measureText(label).width + textSize * 1.5;
  }
  g.fillStyle = MUTED;
  g.fillText(note, x, y);
  y += legendHeight + pad / 2;

  for (const card of cards) {
    g.fillStyle = INK;
    g.font = `600 ${titleSize}px system-ui, sans-serif`;
    g.fillText(card.title, pad, y);
    y += titleSize * 1.6;
    g.drawImage(card.canvas, pad, y);
    y += card.canvas.height + pad;
  }

  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("canvas.toBlob gave nothing"))), "image/png");
  });
}

/** The dashboard's chart cards that hold a uPlot canvas, with their titles. */
export function chartCards(root = document) {
  return [...root.querySelectorAll(".chart-card")]
    .map((card) => ({ title: card.querySelector("h3")?.textContent.trim() ?? "", canvas: card.querySelector(".chart canvas") }))
    .filter((card) => card.canvas && card.canvas.width > 0);
}

/** Builds the image and hands it to the browser as a download named after the time. */
export async function downloadChartsPng() {
  const now = new Date();
  const when = now.toLocaleString(locale, { dateStyle: "medium", timeStyle: "medium" });
  const blob = await composeCharts(chartCards(), {
    heading: t("export.png_heading", { when }),
    note: t("charts.line_styles"),
  });
  const stamp = now.toISOString().slice(0, 19).replace(/[:T]/g, "-");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `pushlab-charts-${stamp}.png`;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started; the URL is only needed for the click.
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
