// guard.test.mjs — nothing that lets a student in, and a file through /ws/echo, in headless
// Chromium against the real server: the inspector projected while the instructor is logged in
// shows that the browser sent its cookie, never the cookie itself; a file picked in the
// inspector goes to /ws/echo with ws.send(file) and comes back identical, its frames shown; a
// file above the limit is refused with 1009 and the page says why (in French); after too many
// wrong tokens the login form says how long to wait.
//
// Its own server: a known --admin-token, and --echo-max-message-bytes 8 MiB so that a 5 MiB file
// passes and a 9 MiB one does not. The lockout test runs last: it locks 127.0.0.1 for a minute.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { FEW_SECONDS, VIEWPORT, launchBrowser, logIn, openPage, pageBugs, screenshot, startServer, stopServer } from "./harness.mjs";

const TOKEN = `guard-test-${Math.random().toString(36).slice(2, 10)}`;
const MIB = 1024 * 1024;
const ECHO_LIMIT = 8 * MIB;

let server;
let baseUrl;
let browser;

before(async () => {
  ({ child: server, url: baseUrl } = await startServer(["--admin-token", TOKEN, "--echo-max-message-bytes", String(ECHO_LIMIT)]));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stopServer(server);
});

describe("the inspector while the instructor is logged in", () => {
  test("shows that the browser sent its cookie, never the cookie", async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      await logIn(context, baseUrl, TOKEN);
      const session = (await context.cookies()).find((cookie) => cookie.name === "pushlab_admin");
      assert.ok(session, "logged in");
      const { page, problems } = await openPage(context, `${baseUrl}/protocol?lang=en`);
      await page.waitForSelector('#accept-verdict[data-ok="true"]', { timeout: FEW_SECONDS });
      const head = await page.textContent("#request-head");
      assert.match(head, /cookie: <redacted: 1 cookie, \d+ bytes>/);
      const everything = await page.content();
      assert.ok(!everything.includes(session.value), "the session id is on the page");
      // A script of the page reads every record it can: none holds the cookie either.
      const records = await page.evaluate(async () => {
        const tags = performance.getEntriesByType("resource")
          .map((entry) => /\/api\/handshake\/([\w-]+)/.exec(entry.name)?.[1])
          .filter(Boolean);
        return Promise.all(tags.map(async (tag) => (await fetch(`/api/handshake/${tag}`)).text()));
      });
      assert.ok(records.length > 0, "the page read its handshake records");
      for (const record of records) assert.ok(!record.includes(session.value), record);
      await screenshot(page, "protocol-logged-in.png");
      assert.deepEqual(pageBugs(problems), []);
    } finally {
      await context.close();
    }
  });
});

describe("sending a file to /ws/echo from the inspector", () => {
  let context;

  before(async () => {
    context = await browser.newContext({ viewport: VIEWPORT });
  });

  after(async () => {
    await context?.close();
  });

  test("a 5 MiB file comes back identical, with its frames", async () => {
    const { page, problems } = await openPage(context, `${baseUrl}/protocol?lang=en`);
    assert.ok(await page.isDisabled("#file-send"), "nothing to send before a file is picked");
    const file = randomBytes(5 * MIB);
    await page.setInputFiles("#file-input", { name: "photo.jpg", mimeType: "image/jpeg", buffer: file });
    await page.click("#file-send");
    await page.waitForSelector('#file-verdict[data-ok="true"]', { timeout: 2 * FEW_SECONDS });
    assert.match(await page.textContent("#file-verdict"), /identical.*5,242,880 bytes/);
    await page.waitForSelector("#file-frames tbody tr");
    const frames = Number(await page.getAttribute("#file-frames", "data-frames"));
    assert.ok(frames >= 1, `the browser's frames are shown: ${frames}`);
    const table = await page.textContent("#file-frames");
    assert.match(table, /server → browser/);
    assert.match(table, /0x2 \(binary\)/);
    assert.match(table, /5,242,880/, "the echo's single frame carries the whole file");
    await page.waitForFunction(() => /code 1000/.test(document.getElementById("file-log").textContent), null, { timeout: FEW_SECONDS });
    await screenshot(page, "protocol-file.png");
    assert.deepEqual(pageBugs(problems), []);
  });

  test("in French, a file above the limit is refused with 1009 and the page says why", async () => {
    const { page, problems } = await openPage(context, `${baseUrl}/protocol?lang=fr`);
    await page.setInputFiles("#file-input", { name: "video.mp4", mimeType: "video/mp4", buffer: randomBytes(ECHO_LIMIT + MIB) });
    await page.click("#file-send");
    await page.waitForFunction(() => /1009/.test(document.getElementById("file-log").textContent), null, { timeout: 2 * FEW_SECONDS });
    const log = await page.textContent("#file-log");
    assert.match(log, /message trop grand/);
    assert.equal(await page.getAttribute("#file-verdict", "data-ok"), null, "no verdict: nothing came back");
    assert.ok(!(await page.isDisabled("#file-send")), "another file may be tried");
    await screenshot(page, "protocol-file-refused-fr.png");
    assert.deepEqual(pageBugs(problems), []);
  });
});

describe("the login form after too many wrong tokens (last: it locks 127.0.0.1)", () => {
  test("answers 429 and says, in French, how long to wait", async () => {
    for (let i = 0; i < 10; i += 1) {
      const response = await fetch(`${baseUrl}/api/admin/settings`, { headers: { Authorization: `Bearer guess-${i}` } });
      assert.equal(response.status, 401);
    }
    const context = await browser.newContext({ viewport: VIEWPORT });
    try {
      const { page } = await openPage(context, `${baseUrl}/admin?lang=fr`);
      await page.fill("#token", TOKEN);
      const [answer] = await Promise.all([
        page.waitForResponse((response) => response.url().endsWith("/admin/login")),
        // The answer's page loaded, so its script has put the texts in French (the HTML's own
        // text is the English fallback): reading before that raced with the script.
        page.waitForURL(/\/admin\/login$/, { waitUntil: "load" }),
        page.click('#login button[type="submit"]'),
      ]);
      assert.equal(answer.status(), 429, "even the right token waits");
      assert.ok(Number(answer.headers()["retry-after"]) > 0);
      const message = (await page.textContent("#login-error")).trim();
      assert.match(message, /^Trop de jetons incorrects.*pendant encore \d+ s/);
      assert.ok(!message.includes("{seconds}"), message);
      await screenshot(page, "admin-locked-fr.png");
    } finally {
      await context.close();
    }
  });
});
