// What every dashboard scenario shares: the browser (Debian's Chromium,
// driven by playwright-core), the conversation with the Rust test that runs
// the scenario (tests/api/dashboard.rs), screenshots and checks.
//
// The Rust test starts `node <scenario>.cjs` with the service's URL and the
// scenario's inputs in DASHBOARD_INPUT (JSON). A scenario that needs the
// test to act or check something midway calls `step(name, facts)`: it
// writes {"step": name, ...facts} as one line to stdout and waits for one
// line on stdin. At the end it writes {"done": facts}. Any failure exits
// non-zero with the reason on stderr, which fails the Rust test.
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");

let playwright;
try {
  playwright = require("playwright-core");
} catch (e) {
  console.error(`playwright-core is not installed (NODE_PATH=${process.env.NODE_PATH}): run scripts/testbed/install.sh`);
  process.exit(3);
}

const BASE = process.env.DASHBOARD_BASE_URL;
const INPUT = JSON.parse(process.env.DASHBOARD_INPUT || "{}");
const SHOTS = process.env.DASHBOARD_SCREENSHOTS;
const CHROMIUM = process.env.DASHBOARD_CHROMIUM || "/usr/bin/chromium";
const WAIT_MS = 15000;

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function emit(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

/** Lets the Rust test act or check; resolves when it answers. */
async function step(name, facts) {
  emit({ step: name, ...(facts || {}) });
  const answer = await lines.next();
  if (answer.done) throw new Error(`the test went away during step ${name}`);
  if (answer.value.trim() !== "ok") throw new Error(`step ${name}: ${answer.value}`);
}

async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/testbed/install.sh)`);
  }
  // The closed network of the test bed makes Chromium's background
  // services misbehave: they are all switched off.
  return playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

async function screenshot(page, name) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Fails when the page is wider than its viewport (a horizontal scroll bar). */
async function assertNoHorizontalOverflow(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
  }));
  assert.ok(scroll <= width, `the page is ${scroll} px wide in a ${width} px viewport`);
}

/** Every request the page made to another origin (there must be none). */
function recordForeignRequests(page) {
  const foreign = [];
  const origin = new URL(BASE).origin;
  page.on("request", (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) foreign.push(r.url());
  });
  return foreign;
}

/** Errors the page reported (script errors, CSP violations). */
function recordPageErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  // Failed loads, with their URL (the console message has none).
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  return errors;
}

/** Runs a scenario: any exception fails it with a clear message. */
function run(scenario) {
  let browser;
  (async () => {
    browser = await launch();
    const facts = await scenario(browser);
    emit({ done: facts || {} });
    await browser.close();
    process.exit(0);
  })().catch(async (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    if (browser) await browser.close().catch(() => {});
    process.exit(1);
  });
}

module.exports = {
  assert, BASE, INPUT, WAIT_MS, step, run, screenshot, assertNoHorizontalOverflow,
  recordForeignRequests, recordPageErrors,
};
