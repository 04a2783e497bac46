// Start and abort from a node's page: start by clicking, abort with the
// keyboard only (Tab to the button, Enter), the test checking the service
// and Ironic after each.
"use strict";
const { assert, BASE, INPUT, WAIT_MS, step, run, screenshot, recordPageErrors } = require("./lib.cjs");

run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = recordPageErrors(page);
  await page.goto(`${BASE}/dashboard/#/node/${INPUT.node}`);
  // Never introspected: the status is the API's 404, the Start button is there.
  await page.locator("#status .error").waitFor({ timeout: WAIT_MS });
  await page.click("#start");
  await page.locator("#status .badge", { hasText: "waiting" }).waitFor({ timeout: WAIT_MS });
  await step("started");

  // Keyboard only, from the top of the page.
  await page.locator("body").focus();
  let tabs = 0;
  let focused = null;
  while (tabs < 40) {
    await page.keyboard.press("Tab");
    tabs += 1;
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused === "abort") break;
  }
  assert.equal(focused, "abort", `Tab never reached the Abort button (${tabs} presses)`);
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, "none", "the focused button shows no focus outline");
  await screenshot(page, "node-actions-1280");
  await page.keyboard.press("Enter");
  await page.locator("#status .badge", { hasText: "error" }).waitFor({ timeout: WAIT_MS });
  await step("aborted");
  assert.deepEqual(errors.filter((e) => !e.startsWith("404 ")), [], "errors in the page");
  return { tabs };
});
