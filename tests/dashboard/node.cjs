// A node's page: the inventory summary (CPUs, memory, disks with the root
// disk, NICs with the LLDP switch and port, BMC), its history and the diff;
// then the Reapply button.
"use strict";
const {
  assert, BASE, INPUT, WAIT_MS, step, run, screenshot, assertNoHorizontalOverflow, recordPageErrors,
} = require("./lib.cjs");

run(async (browser) => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = recordPageErrors(page);
  await page.goto(`${BASE}/dashboard/#/node/${INPUT.node}`);
  await page.locator("#status .badge", { hasText: "finished" }).waitFor({ timeout: WAIT_MS });
  await page.locator("#disks").waitFor({ timeout: WAIT_MS });

  const facts = await page.locator("#inventory .facts").innerText();
  const diskRows = await page.locator("#disks tbody tr").allInnerTexts();
  const rootRows = await page.locator("#disks tbody tr", { has: page.locator(".badge.root") }).allInnerTexts();
  const nicRows = await page.locator("#nics tbody tr").allInnerTexts();
  await page.locator("#diff-table").waitFor({ timeout: WAIT_MS });
  const historyRows = await page.locator("#history-table tbody tr").allInnerTexts();
  const diffRows = await page.locator("#diff-table tbody tr").allInnerTexts();
  await screenshot(page, "node-1280");

  await page.setViewportSize({ width: 390, height: 844 });
  await assertNoHorizontalOverflow(page);
  await screenshot(page, "node-390");

  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click("#reapply");
  await page.locator("#notice", { hasText: "Reapply: done" }).waitFor({ timeout: WAIT_MS });
  await step("reapplied");
  assert.deepEqual(errors, [], "errors in the page");
  return { facts, diskRows, rootRows, nicRows, historyRows, diffRows };
});
