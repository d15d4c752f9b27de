// clients/classic.js — the classic request/response page, inside an iframe: /classic?refresh=S is a
// whole HTML page built by the server, reloaded every S seconds by <meta http-equiv="refresh">,
// and its chat is the page's own form (POST, 303 redirect, full reload).
//
// This module only watches the iframe: after each load it reads the page's rows (tr[data-seq])
// to count what was new, empty or missed, measures the page's bytes (its navigation timing),
// and restarts the reloads if a load failed. Nothing in the iframe is changed but the author
// field, prefilled with the dashboard's name, and its type in projector mode (mirrorProjector).
// A load whose request waited in the browser (all its connections to the server busy) shows its
// rows, but their latencies are left out.

import { lang, t } from "../shared/i18n.js";
import { el } from "../shared/dom.js";
import { transportPath } from "../shared/transports.js";
import { Backoff } from "./backoff.js";
import { nowMicros } from "../measures/latency.js";
import { receivedBytes } from "../measures/resource-bytes.js";
import { CLASSIC_ANSWER } from "../wire/estimates.js";
import { announceRestart } from "./resume.js";
import { QUEUED_LIMIT_MS, queuedMs } from "../measures/browser-queue.js";
import { onServerBack } from "../shared/cluster.js";
import { formatTenths } from "../shared/format.js";

/**
 * When the frame's request left (nowMicros clock): its document's time origin plus the
 * navigation's requestStart (W3C Navigation Timing; 0 when not exposed: then the navigation's
 * start, just before). Now, when the frame tells nothing.
 */
function requestSentUs(iframe, navigation) {
  const origin = iframe.contentWindow?.performance?.timeOrigin;
  if (!navigation || !(origin > 0)) return nowMicros();
  return Math.round((origin + (navigation.requestStart || navigation.startTime || 0)) * 1000);
}

/**
 * The seq the server counted a loaded page after (its table's data-counted-after: the `seen` of
 * the page's address, as the server took it), or null when it counted the load as nothing (a
 * first load, a page of another run, an error). Read from the page, not from what this client
 * last saw: the page's own meta refresh and form carry their `seen` (an empty page's is 0), and
 * the server counted that one.
 */
function countedAfter(table) {
  const seen = table.dataset.countedAfter;
  return seen == null || seen === "" ? null : Number(seen);
}

/** Extra time allowed for a reload before the page is reloaded by hand. */
const WATCHDOG_GRACE_MS = 5000;
/** The watchdog's step (ms): it counts the page's running time, not its stops (armWatchdog). */
const WATCHDOG_STEP_MS = 1000;
/**
 * How long, at most, the projector mode is mirrored before every paint while a load is under way
 * (ms); a load ends sooner (its load event, even on an error page), or the watchdog starts another.
 */
const MIRROR_DURING_LOAD_MS = 60_000;

export class ClassicClient {
  constructor(panel, reporter, { refreshSeconds, getAuthor, getOffset }) {
    this.panel = panel;
    this.reporter = reporter;
    this.refreshSeconds = refreshSeconds;
    this.getAuthor = getAuthor;
    this.getOffset = getOffset;
    this.lastSeen = null;
    this.formSent = false;
    this.loads = 0;
    /** A load failed: the next good one is a reconnection, and counted. */
    this.lost = false;
    this.backoff = new Backoff({ firstMs: 1000 });
    this.iframe = el("iframe", { class: "classic-frame", title: t("classic.frame_title") });
    this.iframe.addEventListener("load", () => this.onLoad());
    panel.slot.append(this.iframe);
    this.mirrorFrame = 0;
    document.addEventListener("pushlab:projector", () => this.mirrorProjector());
    window.addEventListener("resize", () => this.mirrorProjector());
    panel.onPause((paused) => {
      this.resuming = !paused; // the next load says how much was missed meanwhile
      // What was published during the pause comes with the next load: shown, not timed, and
      // the load says so to the server (catch_up=1, see url()), which counts it as catch-up too.
      if (!paused) this.reporter.catchUpUntilNow();
      this.load();
    });
    /** A load failed and the next waits for its backoff (up to 15 s). */
    this.retryPending = false;
    // Another client of the page reached the page's own server again (a restart is over): the
    // classic page, which stays with that server (shared/cluster.js), tries now, not at the end
    // of its backoff. Another server's return is nothing to it.
    onServerBack((origin) => {
      if (this.retryPending && origin === location.origin && !panel.paused) this.load();
    });
  }

  run() {
    this.load();
  }

  setRefreshSeconds(seconds) {
    this.refreshSeconds = seconds;
    if (!this.panel.paused) this.load();
  }

  /** The page's address; paused, it has no refresh and stays as it is, like any classic page. */
  url() {
    const params = new URLSearchParams();
    if (!this.panel.paused) params.set("refresh", this.refreshSeconds);
    if (this.lastSeen != null) params.set("seen", this.lastSeen);
    // The run `seen` belongs to: a restarted server then says so instead of guessing.
    if (this.lastSeen != null && this.epoch) params.set("epoch", this.epoch);
    // Back from a pause or a failure: what the load brings waited for the reader, not the
    // transport (answer::live_since).
    if (this.lastSeen != null && (this.resuming || this.lost)) params.set("catch_up", "1");
    // The page inside speaks the dashboard's language, whatever the browser's preference.
    params.set("lang", lang);
    const query = params.toString();
    const path = transportPath("classic");
    return query ? `${path}?${query}` : path;
  }

  load() {
    this.retryPending = false;
    this.iframe.src = this.url();
    this.mirrorUntilLoaded();
    this.armWatchdog();
  }

  /**
   * The page inside has no script (on purpose), so it cannot read the projector mode
   * (shared/page-chrome.js): this page mirrors it onto the document the frame shows, as the class
   * `projector` and this page's root font size on its <html>, which its style follows (type in
   * rem, as large as the panels beside it). Called when the mode is switched or the window
   * resized (the document follows without a reload), and before every paint of a load.
   */
  mirrorProjector() {
    let root = null;
    try {
      root = this.iframe.contentDocument?.documentElement ?? null;
    } catch {
      root = null; // the browser's own error page
    }
    if (!root) return;
    const on = document.documentElement.classList.contains("projector");
    root.classList.toggle("projector", on);
    if (on) root.style.fontSize = getComputedStyle(document.documentElement).fontSize;
    else root.style.removeProperty("font-size");
  }

  /**
   * A new document in the frame is painted as soon as it is parsed, before its load event: from
   * the moment a load starts (this page sets the address, or the page inside navigates: its
   * meta refresh or its form) until it ends, the mode is mirrored in every animation frame,
   * which runs before the frame's paint, so that a projected page never flashes in small type.
   */
  mirrorUntilLoaded() {
    cancelAnimationFrame(this.mirrorFrame);
    const until = performance.now() + MIRROR_DURING_LOAD_MS;
    const mirror = (now) => {
      this.mirrorProjector();
      this.mirrorFrame = now < until ? requestAnimationFrame(mirror) : 0;
    };
    this.mirrorFrame = requestAnimationFrame(mirror);
  }

  /** The page inside is about to navigate by itself (meta refresh, form): mirror from now on. */
  watchNavigation() {
    try {
      this.iframe.contentWindow.addEventListener("pagehide", () => this.mirrorUntilLoaded(), { once: true });
    } catch {
      // Not our page (an error page): the watchdog's next load() mirrors again.
    }
  }

  armWatchdog() {
    clearTimeout(this.watchdog);
    if (this.panel.paused) return;
    const waitMs = this.refreshSeconds * 1000 + WATCHDOG_GRACE_MS;
    // Counted in steps, each at most twice its length: the time this page stood still (asleep,
    // frozen) is not counted. The frame's own refresh stood still with it and starts when it
    // runs again; loading over it then would abort a request the server has already counted
    // (and the events it missed, twice).
    let liveMs = 0;
    const step = (since) => {
      this.watchdog = setTimeout(() => {
        liveMs += Math.min(performance.now() - since, 2 * WATCHDOG_STEP_MS);
        if (liveMs >= waitMs) this.stalled();
        else step(performance.now());
      }, WATCHDOG_STEP_MS);
    };
    step(performance.now());
  }

  onLoad() {
    cancelAnimationFrame(this.mirrorFrame);
    this.mirrorProjector();
    this.watchNavigation();
    let page = null;
    try {
      page = this.iframe.contentDocument; // null for the browser's own error page
    } catch {
      page = null;
    }
    if (!page) {
      this.failed(t("error.network"));
      return;
    }
    // The empty document an iframe holds before its first navigation: not a load of ours.
    if (page.location.href === "about:blank") return;
    const rows = [...page.querySelectorAll("tr[data-seq]")];
    const table = page.querySelector("table");
    // A refuse fault's page (src/server/refuse.rs): counted as the server counted it, said in
    // the page's words, then tried again.
    const refusal = page.body?.dataset.fault === "refuse" ? page.body.dataset : null;
    if (refusal) {
      const navigation = this.iframe.contentWindow.performance.getEntriesByType("navigation")[0];
      this.panel.countAnswerSentAt(requestSentUs(this.iframe, navigation), () => this.countTraffic(navigation));
      this.failed(t("error.fault_refuse", { transport: t("transport.classic"), seconds: refusal.retryAfter }));
      return;
    }
    if (!table) {
      this.failed(t("error.classic_not_page"));
      return;
    }
    this.loads += 1;
    this.iframe.dataset.loads = String(this.loads);
    const navigation = this.iframe.contentWindow.performance.getEntriesByType("navigation")[0];
    // A page from a server on its way out (src/server/stopping.rs) is shown but not counted:
    // the next server may have begun its period already.
    const stopping = table.hasAttribute("data-stopping");
    // Counted as the server counted it, when the request arrived (a reset may have come between).
    const sentUs = requestSentUs(this.iframe, navigation);
    if (stopping) this.formSent = false;
    else this.panel.countAnswerSentAt(sentUs, () => this.countTraffic(navigation));
    if (this.lost) this.panel.reconnected(this.lastSeen);
    this.lost = false;
    this.readRun(page);
    this.panel.countAnswerSentAt(sentUs, () => this.readRows(rows, stopping ? null : countedAfter(table), queuedMs(navigation)));
    const refused = page.querySelector(".error")?.textContent.trim();
    if (refused) this.panel.showError(t("error.classic_refused", { why: refused }));
    else if (this.loads > 1) this.panel.clearError();
    this.hookForm(page);
    this.backoff.reset();
    this.armWatchdog();
  }

  countTraffic(navigation) {
    // A form post is two requests (POST /classic/chat, then the 303's GET /classic).
    this.panel.countRequest();
    if (this.formSent) this.panel.countRequest();
    this.formSent = false;
    if (navigation) {
      const { bytes, measured } = receivedBytes(navigation, CLASSIC_ANSWER);
      if (measured != null) this.panel.setBytesKnowledge("down", measured ? "measured" : "estimate");
      this.panel.addBytesDown(bytes);
    }
  }

  /** The run the page shows (its form carries the epoch): a new one means a restart. */
  readRun(page) {
    const epoch = page.querySelector('input[name="epoch"]')?.value ?? null;
    if (epoch && this.epoch && epoch !== this.epoch) {
      announceRestart(this.panel, { epoch, previous_epoch: this.epoch }, this.reporter);
      this.lastSeen = null; // the old run's seq says nothing about this one
    }
    if (epoch) this.epoch = epoch;
  }

  /**
   * `previous`: the seq the server counted this load after (countedAfter), null when it counted
   * it as nothing; `queued`: how long the browser kept this load's request waiting (ms, null:
   * unknown).
   */
  readRows(rows, previous, queued) {
    const seqs = rows.map((row) => Number(row.dataset.seq));
    this.lastSeen = seqs.length ? Math.max(this.lastSeen ?? 0, ...seqs) : this.lastSeen;
    if (previous == null) {
      // A first load shows history, not news: like the server, count nothing delivered.
      this.panel.setState(this.panel.paused ? "paused" : "open");
      return;
    }
    const fresh = rows.filter((row) => Number(row.dataset.seq) > previous).reverse();
    if (fresh.length === 0) this.panel.countEmpty();
    const oldestShown = Math.min(...seqs);
    const missed = fresh.length && oldestShown > previous + 1 ? oldestShown - previous - 1 : 0;
    if (missed) this.panel.countMissed(missed);
    const timed = !(queued > QUEUED_LIMIT_MS);
    if (!timed && fresh.length > 0) this.panel.noteQueued(queued);
    for (const row of fresh) {
      const event = this.eventOfRow(row);
      if (event) this.panel.deliver(event, timed ? this.reporter.record(event) : null);
    }
    if (this.panel.paused) this.panel.setState("paused");
    else if (missed || this.resuming) this.panel.setState("resumed", { missed });
    else if (this.panel.state !== "resumed") this.panel.setState("open");
    this.resuming = false;
  }

  /** The row's event: `ts` from the row's `data-ts` (µs), else rebuilt from its clock column. */
  eventOfRow(row) {
    const cell = (name) => row.querySelector(`.${name}`)?.textContent.trim() ?? "";
    const nowUs = nowMicros() + (this.getOffset()?.offsetUs ?? 0);
    const ts = row.dataset.ts ? Number(row.dataset.ts) : tsOfClock(cell("time"), nowUs);
    if (ts == null) return null;
    return { seq: Number(row.dataset.seq), ts, kind: cell("kind"), data: { text: cell("content") } };
  }

  /** No load ended within the refresh and its grace: loaded by hand. */
  stalled() {
    this.panel.showError(t("error.classic_stalled"));
    this.load();
  }

  hookForm(page) {
    const form = page.querySelector("form");
    if (!form) return;
    const author = form.querySelector('input[name="author"]');
    if (author && !author.value) author.value = this.getAuthor();
    form.addEventListener("submit", () => (this.formSent = true));
  }

  failed(message) {
    this.lost = true;
    this.panel.showError(message);
    const delay = this.backoff.next();
    this.panel.setState("reconnecting", { seconds: formatTenths(delay / 1000) });
    clearTimeout(this.watchdog);
    this.retryPending = true;
    this.watchdog = setTimeout(() => this.load(), delay);
  }
}

/** "14:03:07.123" (UTC) → Unix µs, taking the day of `nowUs` (or the day before, past midnight). */
export function tsOfClock(text, nowUs) {
  const match = /^(\d\d):(\d\d):(\d\d)\.(\d{3})$/.exec(text);
  if (!match) return null;
  const [hours, minutes, seconds, millis] = match.slice(1).map(Number);
  const msOfDay = ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis;
  const nowMs = nowUs / 1000;
  const day = 86_400_000;
  let ts = Math.floor(nowMs / day) * day + msOfDay;
  if (ts > nowMs + day / 2) ts -= day;
  return ts * 1000;
}
