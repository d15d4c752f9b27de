// chat.test.mjs — chat text as people type it, in headless Chromium: one 500-character word and
// a right-to-left name must neither widen a page beyond the window nor hide behind an ellipsis,
// on the standalone classic page and inside the dashboard (its classic iframe and its feeds);
// author and text are separate direction isolates everywhere.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { FEW_SECONDS, TRANSPORTS, launchBrowser, openPage, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

/** The window of a classroom laptop, narrower than the harness's default. */
const WINDOW = { width: 1200, height: 900 };
/** A 500-character word (the longest text the server takes), told apart by its first letters. */
const longWord = (tag) => tag + "x".repeat(500 - tag.length);
const RTL_AUTHOR = "מרים";

let server;
let baseUrl;
let browser;
let context;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer());
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: WINDOW });
});

after(async () => {
  await context?.close();
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
 * In a document (a page or a frame): how wide the page is against its window, and whether the
 * element holding `word` shows all of it (not clipped, no ellipsis).
 */
function measure(word) {
  const root = document.documentElement;
  const cell = [...document.querySelectorAll("bdi.text")].find((node) => node.textContent === word)?.parentElement;
  if (!cell) return null;
  const style = getComputedStyle(cell);
  return {
    pageWidth: root.scrollWidth,
    windowWidth: window.innerWidth,
    cellClipped: cell.scrollWidth > cell.clientWidth + 1,
    ellipsis: style.textOverflow === "ellipsis",
    isolates: [...cell.querySelectorAll("bdi")].map((node) => node.className),
  };
}

function assertReadable(where, figures) {
  assert.ok(figures, `${where}: the chat is shown`);
  assert.ok(figures.pageWidth <= figures.windowWidth, `${where}: ${figures.pageWidth} px wide in a ${figures.windowWidth} px window`);
  assert.equal(figures.cellClipped, false, `${where}: the text is cut off`);
  assert.equal(figures.ellipsis, false, `${where}: the text ends in an ellipsis`);
  assert.deepEqual(figures.isolates, ["author", "text"], `${where}: author and text are two isolates`);
}

/** `measure` inside the dashboard's classic iframe, which reloads every few seconds: a reload
 * in the middle of the reading is read again. */
async function inClassicFrame(page, word) {
  for (let attempt = 0; ; attempt++) {
    const frame = page.frames().find((f) => f.url().includes("/classic"));
    try {
      const figures = await frame.evaluate(measure, word);
      if (figures) return figures;
    } catch (error) {
      if (attempt >= 5) throw error;
    }
    await page.waitForTimeout(200);
  }
}

test("a 500-character word wraps on the standalone classic page at 1200 px", async () => {
  const word = longWord("standalone");
  await postChat(RTL_AUTHOR, word);
  const { page, problems } = await openPage(context, `${baseUrl}/classic?lang=en`);
  assertReadable("/classic", await page.evaluate(measure, word));
  await screenshot(page, "classic-long-word.png");
  assert.deepEqual(pageBugs(problems), []);
  await page.close();
});

test("it wraps in the dashboard too: the classic iframe and every panel's feed", async () => {
  const { page, problems } = await openPage(context, `${baseUrl}/?lang=en`);
  for (const transport of ["poll", "longpoll", "sse", "ws"]) {
    await page.waitForSelector(`.panel[data-transport="${transport}"] .state[data-state="open"]`, { timeout: FEW_SECONDS });
  }
  // Published while the panels follow the feed, so that each of them receives it.
  const word = longWord("dashboard");
  await postChat(RTL_AUTHOR, word);
  for (const transport of TRANSPORTS) {
    const selector = transport === "classic" ? null : `.panel[data-transport="${transport}"] .feed bdi.text`;
    if (selector) await page.locator(selector, { hasText: "dashboardxxx" }).first().waitFor({ timeout: FEW_SECONDS });
  }
  assertReadable("the dashboard's feeds", await page.evaluate(measure, word));
  for (const transport of ["poll", "longpoll", "sse", "ws"]) {
    const item = page.locator(`.panel[data-transport="${transport}"] .feed li.chat-event`).first();
    const figures = await item.evaluate((li) => {
      const what = li.querySelector(".what");
      return { clipped: what.scrollWidth > what.clientWidth + 1, ellipsis: getComputedStyle(what).textOverflow === "ellipsis" };
    });
    assert.deepEqual(figures, { clipped: false, ellipsis: false }, `${transport} panel`);
  }
  const frame = page.frameLocator('.panel[data-transport="classic"] iframe');
  await frame.locator("bdi.text", { hasText: "dashboardxxx" }).first().waitFor({ timeout: FEW_SECONDS });
  const frameFigures = await inClassicFrame(page, word);
  assertReadable("the dashboard's classic iframe", frameFigures);
  assert.ok(frameFigures.windowWidth <= 520, `the iframe is the narrow layout (${frameFigures.windowWidth} px)`);
  await screenshot(page, "dashboard-long-word.png");
  assert.deepEqual(pageBugs(problems), []);
  await page.close();
});
