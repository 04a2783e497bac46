// http_basic: the page asks the browser for credentials (401 with a Basic
// challenge); with them, the dashboard works and shows the user. A page of
// another origin posting a form here, in the browser that holds the
// credentials, is refused.
"use strict";
const { assert, BASE, INPUT, WAIT_MS, run, recordPageErrors } = require("./lib.cjs");

run(async (browser) => {
  // Without credentials to give, headless Chromium cancels the dialog the
  // challenge opens, and the navigation fails with that reason.
  const anonymous = await browser.newPage();
  const [refused, navigation] = await Promise.all([
    anonymous.waitForResponse((r) => new URL(r.url()).pathname === "/dashboard/", { timeout: WAIT_MS }),
    anonymous.goto(`${BASE}/dashboard/`).then(() => "loaded", (e) => e.message),
  ]);
  const challenge = await refused.headerValue("www-authenticate");
  const status = refused.status();

  const context = await browser.newContext({
    httpCredentials: { username: INPUT.user, password: INPUT.password },
  });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const ok = await page.goto(`${BASE}/dashboard/`);
  assert.equal(ok.status(), 200);
  await page.locator("#introspection-table tr", { hasText: INPUT.node }).waitFor({ timeout: WAIT_MS });
  await page.locator("#user", { hasText: INPUT.user }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(errors, [], "errors in the page");

  const forged = await context.newPage();
  await forged.setContent(`<form method="post" action="${BASE}/v1/introspection/${INPUT.victim}?manage_boot=false">
    <button type="submit">Win a prize</button></form>`);
  const [forgedResponse] = await Promise.all([forged.waitForNavigation(), forged.click("button")]);
  return { status, challenge, navigation, forgedStatus: forgedResponse.status(),
    forgedAnswer: await forgedResponse.text() };
});
