// harness.mjs — what every browser test file shares: start the real server on 127.0.0.1:0 (each
// file its own, so files never see each other's settings), drive Debian's /usr/bin/chromium
// through playwright-core (which never downloads a browser), open pages while recording what went
// wrong in them, take screenshots for a person to look at, and call the admin API from Node.
//
// Not a test file itself (node --test only runs *.test.mjs).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SERVER_BINARY = join(ROOT, "target", "debug", "pushlab");
export const SCREENSHOTS = join(ROOT, "target", "screenshots");
export const CHROMIUM = process.env.PUSHLAB_CHROMIUM ?? "/usr/bin/chromium";
export const TRANSPORTS = ["classic", "poll", "longpoll", "sse", "ws"];
/** "Within a few seconds": generous enough for a loaded CI machine with 2 cores. */
export const FEW_SECONDS = 15_000;

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const VIEWPORT = { width: 1680, height: 1050 };

/**
 * Starts the real server on a free port (rate 5/s plus `extraArgs`), or at `bind` (to restart a
 * server where its clients know it); resolves once it printed its URL.
 */
export function startServer(extraArgs = [], { bind = "127.0.0.1:0" } = {}) {
  if (!existsSync(SERVER_BINARY)) {
    throw new Error(`${SERVER_BINARY} is missing: run \`cargo build\` first`);
  }
  const child = spawn(SERVER_BINARY, ["--bind", bind, "--rate", "5", ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: "pushlab=warn" },
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pushlab printed no URL within 20 s; stderr:\n${stderr}`)), 20_000);
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      const match = /pushlab is running at (http:\/\/\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1].replace(/\/$/, "") });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`pushlab exited (${code}) before serving; stderr:\n${stderr}`));
    });
  });
}

/**
 * Stops the scripts of `page` for `ms` (CDP Debugger.pause), the page staying visible: as a
 * laptop's lid closed, or a frozen tab. What arrives meanwhile waits in the browser.
 */
export async function standStill(context, page, ms) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Debugger.enable");
  await cdp.send("Debugger.pause");
  await new Promise((resolve) => setTimeout(resolve, ms));
  await cdp.send("Debugger.resume");
  await cdp.send("Debugger.disable");
}

/** Stops the server the way an operator would (SIGTERM) and waits until it is gone. */
export async function stopServer(child) {
  // Gone already: it exited, or a signal ended it (then exitCode stays null).
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** A headless Chromium whose contexts are separate visitors (own cookies, own storage). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens `url` in a new tab of `context` and records what went wrong there: console errors,
 * uncaught exceptions, and HTTP answers ≥ 400 (a missing script, or a refusal under test).
 */
export async function openPage(context, url, { acceptLanguage } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  if (acceptLanguage) await page.setExtraHTTPHeaders({ "Accept-Language": acceptLanguage });
  await page.goto(url);
  return { page, problems };
}

/** Problems that are bugs of the page whatever the test does: exceptions and missing texts. */
export function pageBugs(problems) {
  return problems.filter((problem) => problem.startsWith("exception:") || problem.includes("i18n:"));
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), fullPage: true });
}

/** Calls the admin API from Node with the Bearer token, as a script would; returns {status, body}. */
export async function adminApi(baseUrl, token, method, path, body) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

/** Logs `context` in at /admin with `token` through the form, as the instructor would. */
export async function logIn(context, baseUrl, token, lang = "en") {
  const { page, problems } = await openPage(context, `${baseUrl}/admin?lang=${lang}`);
  await page.fill("#token", token);
  await Promise.all([page.waitForURL(/\/admin\?lang=/), page.click('#login button[type="submit"]')]);
  await page.waitForSelector("#console");
  return { page, problems };
}

/** A number as a page writes it (1,234 or 1 234), read back. */
export function numberIn(text) {
  const digits = (text ?? "").replace(/[^\d]/g, "");
  return digits === "" ? null : Number(digits);
}
