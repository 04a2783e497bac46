// The introspection list under noauth: nodes of the real Ironic, the state
// filter, live refresh picking up a change made meanwhile, the 390 px layout.
"use strict";
const {
  assert, BASE, INPUT, WAIT_MS, step, run, screenshot, assertNoHorizontalOverflow,
  recordForeignRequests, recordPageErrors,
} = require("./lib.cjs");

const rowState = (page, uuid) => page.locator("#introspection-table tr", { hasText: uuid }).locator(".badge");

run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const foreign = recordForeignRequests(page);
  const errors = recordPageErrors(page);
  const response = await page.goto(`${BASE}/dashboard/`);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers["content-security-policy"], /default-src 'self'/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.equal(headers["x-frame-options"], "DENY");

  await rowState(page, INPUT.finished).filter({ hasText: "finished" }).waitFor({ timeout: WAIT_MS });
  await rowState(page, INPUT.waiting).filter({ hasText: "waiting" }).waitFor({ timeout: WAIT_MS });

  // The filter asks the API for one state only.
  await page.selectOption("#state-filter", "waiting");
  await page.waitForFunction(() => location.hash === "#/?state=waiting");
  await rowState(page, INPUT.waiting).waitFor({ timeout: WAIT_MS });
  await page.locator("#introspection-table tr", { hasText: INPUT.finished }).waitFor({ state: "detached", timeout: WAIT_MS });
  const waitingRows = await page.locator("#introspection-table tbody tr").allTextContents();
  assert.ok(waitingRows.every((row) => row.includes("waiting")), waitingRows.join(" | "));

  await page.selectOption("#state-filter", "");
  await rowState(page, INPUT.finished).waitFor({ timeout: WAIT_MS });
  await page.evaluate(() => { window.notReloaded = true; });
  await step("watching");
  // The test posted the ramdisk's callback: the row turns finished by itself.
  await rowState(page, INPUT.waiting).filter({ hasText: "finished" }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.evaluate(() => window.notReloaded), true, "the page was reloaded");
  await screenshot(page, "list-1280");

  await page.setViewportSize({ width: 390, height: 844 });
  await rowState(page, INPUT.waiting).waitFor();
  await assertNoHorizontalOverflow(page);
  await screenshot(page, "list-390");

  assert.deepEqual(foreign, [], "requests to other origins");
  assert.deepEqual(errors, [], "errors in the page");
});
