// pages/lab/experiments.js — the eight guided experiments of the lab, (a) to (h): for each, its
// goal, the exact setting, what to observe and a question for the report (texts in strings/lab.js),
// and the admin API calls that apply the setting. Everyone sees the setting and whether it is in
// force now; only the instructor (console cookie) gets the Apply buttons, which make those calls.
// (g) sets nothing on the server: its probe (connection-limit.js) runs in the student's browser.
// (h) needs two servers on one broker (scripts/class-demo): its setting links to them.

import { el } from "../../shared/dom.js";
import { t } from "../../shared/i18n.js";
import { injectFault, putSettings, resetStats } from "../../controls/admin-api.js";
import { ControlReport } from "../../controls/report.js";
import { buildProbes } from "./connection-limit.js";
import { knownServers } from "../../shared/cluster.js";

/**
 * Each action: `settings` for PUT /api/admin/settings, `reset` to zero the statistics after
 * (so the class's figures measure the experiment only), `fault` for POST /api/admin/fault.
 * `label` names the button when an experiment has more than one. `cluster`: the setting lists
 * the servers of this page's cluster, each a link to its dashboard (the setting is the
 * servers themselves: the page cannot start them).
 */
export const EXPERIMENTS = [
  { id: "a", actions: [{ settings: { rate_hz: 1, poll_interval_ms: 2000, paused: false }, reset: true }] },
  { id: "b", actions: [{ settings: { rate_hz: 50, paused: false }, reset: true }] },
  {
    id: "c",
    actions: [
      { label: "lab.c.apply_small", settings: { rate_hz: 5, payload_bytes: 0, paused: false }, reset: true },
      { label: "lab.c.apply_large", settings: { rate_hz: 5, payload_bytes: 1024, paused: false }, reset: true },
    ],
  },
  { id: "d", actions: [{ settings: { rate_hz: 0 }, reset: true }] },
  {
    id: "e",
    actions: ["ws", "sse", "longpoll"].map((transport) => ({
      label: `lab.e.apply_${transport}`,
      settings: { rate_hz: 5, paused: false },
      fault: { kind: "drop", transport },
    })),
  },
  { id: "f", actions: [], link: "/protocol#echo" },
  { id: "g", actions: [], probe: true },
  { id: "h", actions: [], cluster: true },
];

/** Whether every setting of `action` is what the server holds now (faults are moments: never). */
export function inEffect(action, feed) {
  if (!feed || action.fault || !action.settings) return null;
  return Object.entries(action.settings).every(([name, value]) => feed[name] === value);
}

/** The calls an action makes, written as a student could type them. */
export function describeCalls(action) {
  const calls = [];
  if (action.settings) calls.push(`PUT /api/admin/settings ${JSON.stringify(action.settings)}`);
  if (action.fault) calls.push(`POST /api/admin/fault ${JSON.stringify(action.fault)}`);
  if (action.reset) calls.push("POST /api/admin/reset");
  return calls.join("\n");
}

async function runAction(action) {
  let settings = null;
  if (action.settings) settings = await putSettings(action.settings);
  if (action.fault) await injectFault(action.fault);
  if (action.reset) await resetStats();
  return settings;
}

/** The servers of this page's cluster, each a link to its dashboard; a note when it has none. */
function clusterLinks(lang) {
  const servers = knownServers();
  if (servers.length < 2) return el("p", { class: "cluster-links small" }, t("lab.h.alone"));
  const links = servers.map((origin) => el("a", { href: `${origin}/?lang=${lang}` }, origin));
  return el("p", { class: "cluster-links" }, t("lab.h.servers"), " ", ...links.flatMap((a, i) => (i ? [" · ", a] : [a])));
}

/** Builds the eight cards into `container`; returns update(feed), which redraws "in effect". */
export function renderExperiments(container, { instructor, lang }) {
  const badges = [];
  for (const experiment of EXPERIMENTS) {
    const key = (part) => `lab.${experiment.id}.${part}`;
    const setting = el("dd", {}, el("p", {}, t(key("setting"))));
    for (const action of experiment.actions) setting.append(buildAction(action, { instructor, badges }));
    if (experiment.probe) setting.append(buildProbes());
    if (experiment.cluster) setting.append(clusterLinks(lang));
    if (experiment.link) {
      const [path, hash] = experiment.link.split("#");
      setting.append(el("p", {}, el("a", { href: `${path}?lang=${lang}#${hash}`, class: "go" }, t(key("link")))));
    }
    const observe = el("dd", {});
    observe.innerHTML = t(key("observe"));
    const question = el("dd", { class: "question" });
    question.innerHTML = t(key("question"));
    container.append(el("article", { class: "card experiment", id: `experiment-${experiment.id}`, dataset: { experiment: experiment.id } },
      el("h2", {}, t(key("title"))),
      el("dl", {},
        el("dt", {}, t("lab.goal")), el("dd", {}, t(key("goal"))),
        el("dt", {}, t("lab.setting")), setting,
        el("dt", {}, t("lab.observe")), observe,
        el("dt", {}, t("lab.question")), question)));
  }
  return (feed) => {
    for (const { action, badge } of badges) {
      const now = inEffect(action, feed);
      badge.dataset.inEffect = String(now);
      badge.textContent = now ? t("lab.in_effect") : t("lab.not_in_effect");
    }
  };
}

function buildAction(action, { instructor, badges }) {
  const box = el("div", { class: "action" });
  box.append(el("pre", { class: "calls", title: t("lab.calls_help") }, describeCalls(action)));
  const line = el("p", { class: "apply-line" });
  if (instructor) {
    const status = el("output", { class: "status" });
    const error = el("span", { class: "error", role: "alert" });
    const report = new ControlReport(box, { status, error });
    line.append(el("button", { type: "button", class: "apply", onclick: () => report.run(() => runAction(action)) },
      t(action.label ?? "lab.apply")), " ", status);
    box.append(line, error);
  }
  if (!action.fault) {
    const badge = el("span", { class: "in-effect", dataset: { inEffect: "null" } }, "");
    line.append(" ", badge);
    badges.push({ action, badge });
    if (!instructor) box.append(line);
  }
  return box;
}
