// keystone: the login form, the session cookie (HttpOnly, SameSite=Strict),
// an action without the CSRF token refused and with it done, log out, and
// a user whom policy allows no action.
"use strict";
const { assert, BASE, INPUT, WAIT_MS, step, run, screenshot, recordPageErrors } = require("./lib.cjs");

async function logIn(page, user, password, project) {
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.fill("#project", project);
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click("#login-submit"),
  ]);
  return response;
}

const session = (page) => page.evaluate(async () => {
  const r = await fetch("/dashboard/session");
  return { status: r.status, body: await r.json() };
});

run(async (browser) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  await page.goto(`${BASE}/dashboard/`);
  assert.equal(new URL(page.url()).pathname, "/dashboard/login");
  await screenshot(page, "login-1280");

  const wrong = await logIn(page, INPUT.admin.user, "not-the-password", INPUT.admin.project);
  const wrongStatus = wrong.status();
  const wrongMessage = await page.locator("#login-error").innerText();

  await logIn(page, INPUT.admin.user, INPUT.admin.password, INPUT.admin.project);
  assert.equal(new URL(page.url()).pathname, "/dashboard/");
  await page.locator("#user", { hasText: INPUT.admin.user }).waitFor({ timeout: WAIT_MS });
  const cookies = await context.cookies();
  const visibleToScripts = await page.evaluate(() => document.cookie);

  // Cookie-authenticated, without X-CSRF-Token: refused.
  const withoutCsrf = await page.evaluate(async (node) => {
    const r = await fetch(`/v1/introspection/${node}`, {
      method: "POST", headers: { "X-OpenStack-Ironic-Inspector-API-Version": "1.19" },
    });
    return { status: r.status, body: await r.json() };
  }, INPUT.node);
  await step("refused");

  // The page's own button sends it.
  await page.goto(`${BASE}/dashboard/#/node/${INPUT.node}`);
  await page.locator("#manage-boot").uncheck();
  await page.click("#start");
  await page.locator("#status .badge", { hasText: "waiting" }).waitFor({ timeout: WAIT_MS });
  await step("started");

  await Promise.all([page.waitForURL("**/dashboard/login"), page.click("#logout")]);
  const afterLogout = await context.cookies();
  const sessionAfterLogout = await session(page);

  // A user whom policy allows statuses only is offered no action.
  await logIn(page, INPUT.observer.user, INPUT.observer.password, INPUT.observer.project);
  await page.locator("h2", { hasText: "Introspections" }).waitFor({ timeout: WAIT_MS });
  const observer = await session(page);
  const observerStartForm = await page.locator("#start-form").count();
  assert.deepEqual(errors.filter((e) => !/^40[134] /.test(e)), [], "errors in the page");
  return {
    wrongStatus, wrongMessage, cookies, visibleToScripts, withoutCsrf, afterLogout,
    sessionAfterLogout, observer, observerStartForm,
  };
});
