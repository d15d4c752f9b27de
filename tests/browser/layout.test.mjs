// layout.test.mjs — every page at a laptop's and a projector's size, in French and English, with
// and without projector mode, while the feed runs: nothing may stick out of its box sideways.
//
// For each page × size × language × projector on/off it loads the page with live traffic (events
// at 5/s, a long chat message, in the console a setting just applied so its "applied …" status
// shows), takes a full-page screenshot into target/screenshots/layout/ for a person to read, and
// fails on any horizontal overflow, listing the offenders by selector and text:
//  - the document wider than the window (a horizontal scroll bar on the whole page);
//  - an element that hides, clips or scrolls what it holds sideways (overflow-x hidden, clip,
//    auto or scroll, or text-overflow: ellipsis) while its content is wider than its box: a cost
//    table that loses its last columns behind a scroll bar, a chat cut to "student-477: h…";
//  - a block whose content spills past its right edge (overflow visible): a status line that runs
//    past its card.
// And in projector mode the dashboard's five transport panels stand side by side, on one row.
// A second test reads the same screens for labels that split a word over two lines ("compteu|r").
// Same-origin frames (the classic page inside the dashboard) are checked the same way.
// A third test follows the classic page inside the dashboard while projector mode is switched on
// and off, the window resized and the page reloads itself: its type follows the dashboard's.
//
// One server and one browser for the whole file; each combination is its own visitor (own
// cookies, own storage, so the tab lease never pauses a panel), a few at a time.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { SCREENSHOTS, launchBrowser, openPage, pageBugs, startServer, stopServer } from "./harness.mjs";

const TOKEN = `layout-test-${Math.random().toString(36).slice(2, 10)}`;
/** The two screens every page must fit: a 720p projector or laptop, and a full-HD projector. */
const SIZES = [{ width: 1280, height: 720 }, { width: 1920, height: 1080 }];
const LANGS = ["fr", "en"];
const PAGES = ["/", "/lab", "/admin", "/protocol", "/classic"];
/** Page loads at once: each is a Chromium tab with five live transports, on 2 shared cores. */
const PARALLEL = 3;
/** How long a page may take to show its live content (generous: 2 cores, several tabs). */
const LIVE_WITHIN_MS = 30_000;
/** A chat as students type them: sentences, a long URL, and a word too long for any column. */
const LONG_CHAT = "hello everyone, this message is long on purpose so that it has to wrap over several lines "
  + "in a narrow panel: see https://example.org/a/very/long/path/that/does/not/break/by/itself?query=1 "
  + "and supercalifragilisticexpialidocious-antidisestablishmentarianism-pneumonoultramicroscopicsilicovolcanoconiosis";
const LAYOUT_SHOTS = join(SCREENSHOTS, "layout");

let server;
let baseUrl;
let browser;
let adminCookies;
const results = [];

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN, "--chat-per-min", "600"]));
  browser = await launchBrowser();
  await mkdir(LAYOUT_SHOTS, { recursive: true });
  // The instructor's cookie, so that the console shows its controls and the lab its Apply buttons.
  const login = await fetch(`${baseUrl}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: TOKEN }),
  });
  const cookie = login.headers.get("set-cookie");
  assert.ok(cookie, `POST /admin/login set no cookie (HTTP ${login.status})`);
  const [name, value] = cookie.split(";")[0].split("=");
  adminCookies = [{ name, value, url: baseUrl }];
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

async function postChat(author, text) {
  const response = await fetch(`${baseUrl}/api/chat`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ author, text }),
  });
  assert.equal(response.status, 201, await response.text());
}

/**
 * In a document: what overflows sideways, each as "selector «text»: why". Runs in the page.
 * Hidden things (display none, the visually-hidden helper of 1 px) and form fields (whose value
 * scrolls inside them by design) are not boxes a reader sees overflow.
 */
function horizontalOverflow() {
  const offenders = [];
  const root = document.documentElement;
  if (root.scrollWidth > window.innerWidth) {
    offenders.push(`document: ${root.scrollWidth} px wide in a ${window.innerWidth} px window`);
  }
  const describe = (element) => {
    let selector = element.tagName.toLowerCase();
    if (element.id) selector += `#${element.id}`;
    for (const name of element.classList) selector += `.${name}`;
    const parent = element.parentElement;
    const where = parent && parent !== document.body ? `${parent.tagName.toLowerCase()}${parent.id ? `#${parent.id}` : ""}${parent.classList.length ? `.${[...parent.classList].join(".")}` : ""} > ` : "";
    const text = (element.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 60);
    return `${where}${selector} «${text}»`;
  };
  const skip = (element) => element.closest(".visually-hidden, [hidden], input, select, textarea, option, svg, canvas");
  for (const element of document.body.querySelectorAll("*")) {
    if (skip(element)) continue;
    const style = getComputedStyle(element);
    if (style.display === "none" || style.display === "contents" || style.visibility === "hidden") continue;
    if (element.clientWidth <= 1) continue; // inline boxes (clientWidth 0) and 1 px helpers
    const excess = element.scrollWidth - element.clientWidth;
    if (excess <= 1) continue;
    const clips = ["hidden", "clip", "auto", "scroll"].includes(style.overflowX);
    if (clips || style.textOverflow === "ellipsis") {
      offenders.push(`${describe(element)}: ${excess} px hidden (overflow-x ${style.overflowX}, text-overflow ${style.textOverflow})`);
    } else {
      offenders.push(`${describe(element)}: spills ${excess} px past its box`);
    }
  }
  return offenders;
}

/**
 * In a document: the words of labels that the layout splits over two lines ("compteu|r"), each
 * as "selector «text»: «compteu|r»". Runs in the page. Label-like: table and list headings,
 * form labels, buttons, headings, captions, the navigation, badges and the column names of the
 * panels' feeds and counters. A word is a run of non-blank characters (2 or more); it must lie on
 * one line: a DOM Range over it has all its client rects on the same line. Data may break
 * anywhere and is left out: code, chat messages, events' text, values typed in fields.
 */
function splitWords() {
  const LABELS = [
    "th", "label", "dt", "button", "legend", "caption", "summary", "h1", "h2", "h3", "h4", "h5", "h6",
    "nav a", ".lang-switch a", ".label", ".state", ".chip", ".feed-head", ".settings-title", ".legend",
  ].join(", ");
  const DATA = "code, pre, kbd, samp, .mono, input, textarea, select, option, .feed .what, td.content, bdi, .visually-hidden, [hidden]";
  const describe = (element) => {
    let selector = element.tagName.toLowerCase();
    if (element.id) selector += `#${element.id}`;
    for (const name of element.classList) selector += `.${name}`;
    const text = (element.textContent ?? "").replace(/\s+/g, " ").trim().slice(0, 60);
    return `${selector} «${text}»`;
  };
  const lineOf = (rect) => Math.round(rect.top + rect.height / 2);
  const offenders = [];
  const seen = new Set();
  for (const label of document.querySelectorAll(LABELS)) {
    if (label.closest(DATA)) continue;
    const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (seen.has(node)) continue;
      seen.add(node);
      if (node.parentElement.closest(DATA)) continue;
      for (const match of node.data.matchAll(/\S{2,}/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = [...range.getClientRects()].filter((rect) => rect.width > 0 && rect.height > 0);
        if (new Set(rects.map(lineOf)).size <= 1) continue;
        // Where it breaks: between two characters on different lines.
        let shown = "";
        let previousLine = null;
        for (let i = 0; i < match[0].length; i += 1) {
          range.setStart(node, match.index + i);
          range.setEnd(node, match.index + i + 1);
          const rect = [...range.getClientRects()].find((r) => r.width > 0);
          const line = rect ? lineOf(rect) : previousLine;
          if (previousLine != null && line !== previousLine) shown += "|";
          shown += match[0][i];
          previousLine = line;
        }
        offenders.push(`${describe(node.parentElement.closest(LABELS) ?? label)}: «${shown}» split over ${new Set(rects.map(lineOf)).size} lines`);
      }
    }
  }
  return offenders;
}

/** Waits for `promise`; if it fails, says which step of bringing the page to life it was. */
async function step(name, promise) {
  try {
    return await promise;
  } catch (error) {
    throw new Error(`${name}: ${error.message.split("\n")[0]}`);
  }
}

/**
 * Waits until `page` shows what it shows in class (events, the chat, charts, a status).
 * `index`: the combination's number, so that each console applies a poll interval of its own
 * (pages run in parallel: two applying the same value would race).
 */
async function bringToLife(page, path, index) {
  if (path === "/") {
    // Every panel follows the feed before the chat goes: a panel starts from "now" (the long
    // poll and SSE once this tab holds them), so a chat posted earlier is not in its feed.
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      await step(`first event on the ${transport} panel`, page.waitForSelector(`.panel[data-transport="${transport}"] .feed li[data-seq]`, { timeout: LIVE_WITHIN_MS }));
    }
    await postChat("student-477", LONG_CHAT);
    for (const transport of ["poll", "longpoll", "sse", "ws"]) {
      await step(`the chat on the ${transport} panel`, page.waitForSelector(`.panel[data-transport="${transport}"] .feed li.chat-event`, { timeout: LIVE_WITHIN_MS }));
    }
    // Three seconds of charts at least, and the cost table filled.
    await step("three seconds of charts", page.waitForFunction(() => Number(document.getElementById("chart-requests")?.dataset.samples ?? 0) >= 3, null, { timeout: LIVE_WITHIN_MS }));
    await step("the cost table", page.waitForSelector("#cost-table tbody tr", { timeout: LIVE_WITHIN_MS }));
  } else if (path === "/lab") {
    await step("figures in the table", page.waitForFunction(() => [...document.querySelectorAll("#figures-table td.num")].some((td) => /\d/.test(td.textContent)), null, { timeout: LIVE_WITHIN_MS }));
  } else if (path === "/admin") {
    await step("the console", page.waitForSelector("#console", { timeout: LIVE_WITHIN_MS }));
    // A setting applied, as the instructor does: its status line must fit its card.
    const field = "#poll-interval";
    await step("the settings in the console", page.waitForFunction((selector) => document.querySelector(selector)?.value !== "", field, { timeout: LIVE_WITHIN_MS }));
    await page.fill(field, String(1100 + 100 * index));
    await page.press(field, "Enter");
    await step("the \"applied\" status", page.waitForFunction((selector) => /\S/.test(document.querySelector(selector)?.closest(".control")?.querySelector(".status")?.textContent ?? ""), field, { timeout: LIVE_WITHIN_MS }));
  } else if (path === "/protocol") {
    await page.waitForLoadState("networkidle").catch(() => {});
  }
}

async function checkOne({ path, size, lang, projector }, index) {
  const context = await browser.newContext({ viewport: size });
  await context.addCookies(adminCookies);
  await context.addInitScript((on) => {
    try { localStorage.setItem("pushlab.projector", on ? "on" : "off"); } catch (_) { /* no storage */ }
  }, projector);
  try {
    if (path === "/classic") await postChat("student-477", LONG_CHAT);
    // The script-free classic page takes projector mode from its address, not from storage.
    const mode = path === "/classic" && projector ? "&projector=1" : "";
    const { page, problems } = await openPage(context, `${baseUrl}${path}?lang=${lang}${mode}`);
    await bringToLife(page, path, index);
    const name = `${path === "/" ? "dashboard" : path.slice(1)}-${lang}-${size.width}x${size.height}${projector ? "-projector" : ""}.png`;
    // Layout settles after the last live update (fonts, charts resized by their observer).
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const offenders = [];
    const splits = [];
    for (const frame of page.frames()) {
      const where = frame === page.mainFrame() ? "" : `[frame ${new URL(frame.url()).pathname}] `;
      try {
        offenders.push(...(await frame.evaluate(horizontalOverflow)).map((line) => where + line));
        splits.push(...(await frame.evaluate(splitWords)).map((line) => where + line));
      } catch (error) {
        if (!/detached|navigat|destroyed/i.test(error.message)) throw error; // a reloading classic frame
      }
    }
    if (path === "/" && projector) {
      // Projector mode compares the five transports side by side: one row, never two per row.
      const rows = await page.$$eval(".panel", (panels) => [...new Set(panels.map((panel) => Math.round(panel.getBoundingClientRect().top)))].length);
      if (rows !== 1) offenders.push(`the five transport panels take ${rows} rows in projector mode, not one`);
    }
    await page.screenshot({ path: join(LAYOUT_SHOTS, name), fullPage: true });
    const screen = `${path} ${lang} ${size.width}×${size.height} projector ${projector ? "on" : "off"}`;
    return { name, screen, offenders, splits, bugs: pageBugs(problems) };
  } finally {
    await context.close();
  }
}

const combinations = [
  ...PAGES.flatMap((path) => SIZES.flatMap((size) => LANGS.flatMap((lang) =>
    [false, true].map((projector) => ({ path, size, lang, projector }))))),
  // Where the lab puts "you and the class" beside the experiments, the French table was clipped.
  { path: "/lab", size: { width: 1600, height: 900 }, lang: "fr", projector: false },
];

/** Every combination, loaded once for the tests below (each asserts its own kind of fault). */
let checked;
function checkAll() {
  checked ??= (async () => {
    const queue = combinations.map((combination, index) => ({ combination, index }));
    const worker = async () => {
      while (queue.length > 0) {
        const { combination, index } = queue.shift();
        try {
          results.push(await checkOne(combination, index));
        } catch (error) {
          const why = error.message.split("\n").filter((line) => /\S/.test(line)).slice(0, 3).join(" / ");
          results.push({ name: JSON.stringify(combination), offenders: [], splits: [], bugs: [`the page did not come to life: ${why}`] });
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    assert.equal(results.length, combinations.length);
    return results;
  })();
  return checked;
}

test("every page fits 1280×720 and 1920×1080, in French and English, with and without projector mode", { timeout: 300_000 }, async () => {
  const failures = (await checkAll())
    .filter((result) => result.offenders.length > 0 || result.bugs.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((result) => `${result.name}:\n${[...result.bugs, ...result.offenders].map((line) => `  - ${line}`).join("\n")}`);
  assert.ok(failures.length === 0, `horizontal overflow in ${failures.length} of ${results.length} screens:\n${failures.join("\n")}`);
});

test("no label, heading, table heading or button splits a word over two lines, on any page, size, language or mode", { timeout: 300_000 }, async () => {
  const failures = (await checkAll())
    .filter((result) => result.splits.length > 0)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((result) => `${result.screen} (${result.name}):\n${result.splits.map((line) => `  - ${line}`).join("\n")}`);
  assert.ok(failures.length === 0, `words split inside in ${failures.length} of ${results.length} screens:\n${failures.join("\n")}`);
});

/** The classic page's own type inside the dashboard's narrow frame (its `max-width: 520px` style). */
const CLASSIC_IN_FRAME_PX = 13;

/**
 * The body text of the classic page inside the dashboard's frame, and of the dashboard, in px,
 * read at once (no reload between two figures) once the page inside is loaded and painted.
 */
async function classicTypeSizes(page) {
  const handle = await step("the classic page loaded and painted", page.waitForFunction(() => {
    const frame = document.querySelector(".panel[data-transport=\"classic\"] iframe.classic-frame");
    const inner = frame?.contentDocument;
    const probe = frame?.contentWindow.layoutTestProbe;
    if (!inner || inner.readyState !== "complete" || !inner.querySelector("td") || probe?.paintAt == null) return null;
    const px = (element) => parseFloat(getComputedStyle(element).fontSize);
    return {
      dashboard: px(document.body),
      frameBody: px(inner.body),
      frameRows: Math.min(...[...inner.querySelectorAll("td")].map(px)),
      loads: Number(frame.dataset.loads ?? 0),
      sameDocument: frame.contentWindow.layoutTestMark === true,
      probe: { ...probe },
    };
  }, null, { timeout: LIVE_WITHIN_MS }));
  return handle.jsonValue();
}

test("the classic page inside the dashboard follows projector mode: switched on and off, resized, and across its reloads", { timeout: 120_000 }, async () => {
  const context = await browser.newContext({ viewport: SIZES[0] });
  await context.addInitScript(() => {
    if (window === window.top) {
      try { localStorage.setItem("pushlab.projector", "off"); } catch (_) { /* no storage */ }
      return;
    }
    // In the frame, from the document's start: when the projector class arrived, when it was
    // first painted (a projected page must never flash in small type first).
    const probe = { classAt: null, paintAt: null };
    window.layoutTestProbe = probe;
    new MutationObserver(() => {
      if (probe.classAt == null && document.documentElement?.classList.contains("projector")) probe.classAt = performance.now();
    }).observe(document, { attributes: true, childList: true, subtree: true });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.name !== "first-paint") continue;
        probe.paintAt = entry.startTime;
        window.top.layoutTestPaints?.push({ ...probe, url: location.search });
      }
    }).observe({ type: "paint", buffered: true });
  });
  try {
    const { page, problems } = await openPage(context, `${baseUrl}/?lang=fr`);
    const frameSelector = ".panel[data-transport=\"classic\"] iframe.classic-frame";
    const loadsAtLeast = (n) => page.waitForFunction(({ selector, n }) => Number(document.querySelector(selector)?.dataset.loads ?? 0) >= n, { selector: frameSelector, n }, { timeout: LIVE_WITHIN_MS });
    // One reload an hour: while the mode is switched, the page inside stays the same document.
    await step("the classic page's first load", loadsAtLeast(1));
    const start = await classicTypeSizes(page);
    await page.fill("#classic-refresh", "3600");
    await page.press("#classic-refresh", "Tab");
    await step("the reload with refresh=3600", loadsAtLeast(start.loads + 1));
    const normal = await classicTypeSizes(page);
    assert.equal(normal.frameBody, CLASSIC_IN_FRAME_PX, `normal mode: the classic page's body text is ${normal.frameBody} px`);
    await page.evaluate((selector) => { document.querySelector(selector).contentWindow.layoutTestMark = true; }, frameSelector);

    const projectorSized = async (what) => {
      // The mode is mirrored at once (no reload to wait for): the next frame shows it.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const sizes = await classicTypeSizes(page);
      assert.ok(sizes.frameBody >= sizes.dashboard - 0.5, `${what}: the classic page's body text is ${sizes.frameBody} px, the projected dashboard's ${sizes.dashboard} px`);
      assert.ok(sizes.frameRows >= 0.85 * sizes.dashboard - 0.5, `${what}: the classic page's rows are ${sizes.frameRows} px, the dashboard's feeds ${0.85 * sizes.dashboard} px`);
      return sizes;
    };

    await page.click("#projector-toggle");
    let sizes = await projectorSized("projector switched on at 1280×720");
    assert.ok(sizes.sameDocument, "switching projector mode on reloaded the classic page instead of following it");

    await page.setViewportSize(SIZES[1]);
    sizes = await projectorSized("projector mode, window resized to 1920×1080");
    assert.ok(sizes.sameDocument, "resizing the window reloaded the classic page");

    await page.click("#projector-toggle");
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    sizes = await classicTypeSizes(page);
    assert.equal(sizes.frameBody, normal.frameBody, "projector switched off: the classic page's body text is not back to its normal size");
    assert.ok(sizes.sameDocument, "switching projector mode off reloaded the classic page");

    // Its own reloads (the page's <meta http-equiv="refresh">, every second) keep the mode, from
    // their first paint on.
    await page.click("#projector-toggle");
    sizes = await classicTypeSizes(page);
    await page.evaluate(() => { window.layoutTestPaints = []; });
    await page.fill("#classic-refresh", "1");
    await page.press("#classic-refresh", "Tab");
    await step("four reloads at refresh=1", loadsAtLeast(sizes.loads + 5));
    sizes = await projectorSized("projector mode, after the classic page reloaded itself");
    assert.ok(!sizes.sameDocument);
    const paints = await page.evaluate(() => window.layoutTestPaints);
    assert.ok(paints.length >= 4, `${paints.length} first paints seen in 5 loads`);
    for (const { classAt, paintAt, url } of paints) {
      assert.ok(classAt != null && classAt <= paintAt, `the classic page ${url} was first painted at ${paintAt} ms in normal type; projector mode came at ${classAt} ms`);
    }
    assert.deepEqual(pageBugs(problems), []);
  } finally {
    await context.close();
  }
});
