// The rules page: the stored rules, and a dry run against a node.
"use strict";
const { assert, BASE, INPUT, WAIT_MS, run, screenshot, recordPageErrors } = require("./lib.cjs");

run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = recordPageErrors(page);
  await page.goto(`${BASE}/dashboard/`);
  await page.click("#nav-rules");
  await page.locator("#rules-table").waitFor({ timeout: WAIT_MS });
  const rules = await page.locator("#rules-table tbody tr").allInnerTexts();
  await page.fill("#dry-run-node", INPUT.node);
  await page.click("#dry-run button[type=submit]");
  await page.locator("#dry-run-result .report").waitFor({ timeout: WAIT_MS });
  const report = await page.locator("#dry-run-result .report > li").allInnerTexts();
  await screenshot(page, "rules-1280");
  assert.deepEqual(errors, [], "errors in the page");
  return { rules, report };
});
