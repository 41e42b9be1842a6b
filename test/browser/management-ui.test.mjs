// The management UI in a real browser: Debian's chromium driven by playwright-core (no browser is
// ever downloaded) against its own `wrangler dev`. Walks the vhost article (log in as guest, add
// a vhost and a user, set its permissions, log out, log in as that user, declare a queue, publish,
// get the message back), checks that a non-administrator sees no admin page and that the API
// refuses it, that markup in names and payloads renders as text, and that the overview's rate
// chart moves while a publisher runs. Writes a screenshot of each page to
// test/browser/screenshots/ (not committed). Skips, saying so, when /usr/bin/chromium is absent.
//
//   npm run test:browser

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { ROOT, startBroker } from "../../bench/lib/broker.mjs";
import { chromiumSkip, launchChromium } from "../../bench/lib/chromium.mjs";

const WAIT_MS = 15_000;
const SHOTS = path.join(ROOT, "test", "browser", "screenshots");
const skip = chromiumSkip;
if (skip) console.log(`skipping the management UI browser test: ${skip}`);

let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startBroker({ prefix: "broker-ui-" });
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

async function api(method, apiPath, body, auth = basic("guest", "guest")) {
  const response = await fetch(`${server.url}${apiPath}`, {
    method,
    headers: { Authorization: auth, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  return response;
}

/** A fresh browser context (no shared memory: each is its own session) on the UI. */
async function openUi() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const problems = [];
  page.on("dialog", (dialog) => {
    if (dialog.type() === "alert") problems.push(`alert: ${dialog.message()}`);
    void dialog.accept();
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  await page.goto(server.url);
  return { page, problems, close: () => context.close() };
}

async function logIn(page, user, password) {
  await page.locator('[data-testid="login-form"] input[name="username"]').fill(user);
  await page.locator('[data-testid="login-form"] input[name="password"]').fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.locator('[data-testid="whoami"]', { hasText: user }).waitFor();
}

async function go(page, hash, heading) {
  await page.evaluate((h) => {
    location.hash = h;
  }, hash);
  await page.locator("main h1", { hasText: heading }).first().waitFor();
}

const shot = (page, name) =>
  page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

test("walks the vhost article: guest adds a vhost and user1, user1 declares, publishes and gets", {
  skip,
  timeout: 240_000,
}, async () => {
  const guest = await openUi();
  const { page } = guest;
  await page.locator('[data-testid="login-form"]').waitFor();
  await shot(page, "login");
  await logIn(page, "guest", "guest");
  assert.equal(await page.locator('[data-testid="whoami"]').textContent(), "guest (administrator)");
  await page.locator('[data-total="Exchanges"] dd').filter({ hasText: /\d/ }).waitFor();
  await shot(page, "overview");

  // A vhost.
  await go(page, "#/vhosts", "Virtual hosts");
  await page.locator('input[name="vhost-name"]').fill("new-virtual-host");
  await page.getByRole("button", { name: "Add virtual host" }).click();
  await page.locator('[data-testid="vhosts"] td', { hasText: "new-virtual-host" }).waitFor();
  await shot(page, "vhosts");

  // A user, with the management tag RabbitMQ's UI requires of whoever logs in to it.
  await go(page, "#/users", "Users");
  await page.locator('input[name="new-username"]').fill("user1");
  await page.locator('input[name="new-password"]').fill("password");
  await page.locator('input[name="new-tags"]').fill("management");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.locator('[data-testid="users"] a', { hasText: "user1" }).click();
  await page.locator("main h1", { hasText: "User user1" }).waitFor();

  // Its permissions in the new vhost.
  const form = page.locator('[data-testid="set-permission"]');
  await form.locator('select[name="permission-vhost"]').selectOption("new-virtual-host");
  await form.getByRole("button", { name: "Set permission" }).click();
  await page
    .locator('[data-testid="permissions"] tr', { hasText: "new-virtual-host" })
    .filter({ hasText: ".*" })
    .waitFor();
  await shot(page, "user");
  const permission = await api("GET", "/api/permissions/new-virtual-host/user1");
  assert.deepEqual(
    { status: permission.status, ...(await permission.json()) },
    {
      status: 200,
      user: "user1",
      vhost: "new-virtual-host",
      configure: ".*",
      write: ".*",
      read: ".*",
    },
  );

  // Log out: the session is gone, the login form is back.
  await page.getByRole("button", { name: "Log out" }).click();
  await page.locator('[data-testid="login-form"]').waitFor();
  await page.locator(".notice", { hasText: "signed out" }).waitFor();
  assert.deepEqual(guest.problems, []);
  await guest.close();

  // user1 logs in, sees only its vhost and no admin page.
  const user = await openUi();
  const p = user.page;
  await logIn(p, "user1", "password");
  await p
    .locator('select[name="vhost"] option', { hasText: "new-virtual-host" })
    .waitFor({ state: "attached" });
  const vhosts = await p.locator('select[name="vhost"] option').allTextContents();
  assert.deepEqual(vhosts, ["All", "new-virtual-host"]);
  const menu = await p.locator("header nav a").allTextContents();
  assert.deepEqual(menu, ["Overview", "Exchanges", "Queues", "Topics", "Notifications"]);
  await p.locator('select[name="vhost"]').selectOption("new-virtual-host");

  // Declare a queue there.
  await go(p, "#/queues", "Queues");
  await p.locator('[data-testid="declare-queue"] select[name="declare-vhost"]').waitFor();
  assert.equal(
    await p.locator('[data-testid="declare-queue"] select[name="declare-vhost"]').inputValue(),
    "new-virtual-host",
  );
  await p.locator('input[name="queue-name"]').fill("article-queue");
  await p.getByRole("button", { name: "Add queue" }).click();
  await p.locator('[data-testid="queues"] a', { hasText: "article-queue" }).click();
  await p.locator('[data-testid="queue-name"]', { hasText: "article-queue" }).waitFor();

  // Publish to it (the default exchange, routing key = the queue), then get it back.
  const publish = p.locator('[data-testid="publish-form"]');
  await publish.locator('textarea[name="payload"]').fill('{"hello":"from user1"}');
  await publish.locator('input[name="content-type"]').fill("application/json");
  await publish.getByRole("button", { name: "Publish message" }).click();
  await publish.locator(".notice", { hasText: "Message published and routed." }).waitFor();
  const getForm = p.locator('[data-testid="get-messages"]');
  await getForm.locator('select[name="ackmode"]').selectOption("ack_requeue_false");
  await getForm.getByRole("button", { name: "Get messages" }).click();
  const message = p.locator('[data-testid="message"]');
  await message.waitFor();
  assert.equal(
    await message.locator(".payload-body").textContent(),
    JSON.stringify({ hello: "from user1" }, null, 2),
  );
  await message.getByRole("tab", { name: "Base64" }).click();
  assert.equal(
    await message.locator(".payload-body").textContent(),
    Buffer.from('{"hello":"from user1"}').toString("base64"),
  );
  await message.locator("dd", { hasText: "application/json" }).waitFor();
  await p.locator('[data-fact="ready"]', { hasText: "0" }).waitFor();
  await shot(p, "queue");

  // No admin page for user1, and the API refuses it the admin calls.
  await p.evaluate(() => {
    location.hash = "#/users";
  });
  await p.locator(".notice.error", { hasText: "for administrators" }).waitFor();
  assert.equal(await p.locator('[data-testid="users"]').count(), 0);
  const auth = basic("user1", "password");
  for (const [method, apiPath, body] of [
    ["GET", "/api/users"],
    ["PUT", "/api/users/intruder", { password: "x", tags: "administrator" }],
    ["PUT", "/api/vhosts/intruded", {}],
    ["GET", "/api/definitions"],
    [
      "PUT",
      "/api/permissions/new-virtual-host/user1",
      { configure: ".*", write: ".*", read: ".*" },
    ],
  ]) {
    const response = await api(method, apiPath, body, auth);
    assert.equal(response.status, 403, `${method} ${apiPath}`);
    assert.equal((await response.json()).error, "access_refused");
  }
  assert.deepEqual(user.problems, []);
  await user.close();
});

test("shows markup in queue names and payloads as text, under a CSP without inline script", {
  skip,
  timeout: 120_000,
}, async () => {
  const markup = "<img src=x onerror=alert(1)>";
  const queue = `xss-${markup}`;
  const declared = await api("PUT", `/api/queues/%2F/${encodeURIComponent(queue)}`, {});
  assert.equal(declared.status, 201);
  const published = await api("POST", "/api/exchanges/%2F/amq.default/publish", {
    properties: { headers: { note: markup } },
    routing_key: queue,
    payload: markup,
    payload_encoding: "string",
  });
  assert.deepEqual(await published.json(), { routed: true });

  const page = await fetch(server.url);
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const html = await page.text();
  assert.doesNotMatch(html, /<script>(?!<)/, "no inline script in the page");

  const ui = await openUi();
  const { page: p } = ui;
  await logIn(p, "guest", "guest");
  await go(p, "#/queues", "Queues");
  await p.locator('input[name="filter"]').fill("xss-");
  const link = p.locator('[data-testid="queues"] a', { hasText: markup });
  await link.waitFor();
  assert.equal(await link.textContent(), queue);
  await link.click();
  await p.locator('[data-testid="queue-name"]', { hasText: markup }).waitFor();
  await p
    .locator('[data-testid="get-messages"]')
    .getByRole("button", { name: "Get messages" })
    .click();
  const body = p.locator('[data-testid="message"] .payload-body');
  await body.waitFor();
  assert.equal(await body.textContent(), markup);
  await p.locator('[data-testid="message"]').getByText(markup, { exact: true }).first().waitFor();
  assert.equal(await p.locator('[data-testid="message"] dd', { hasText: markup }).count(), 2); // header, routing key
  assert.equal(await p.locator("main img").count(), 0);
  await shot(p, "xss-as-text");
  assert.deepEqual(ui.problems, []);
  await ui.close();
});

test("the overview's rate chart moves while a publisher runs", {
  skip,
  timeout: 120_000,
}, async () => {
  assert.equal((await api("PUT", "/api/queues/%2F/chart-feed", {})).status, 201);
  const ui = await openUi();
  const { page } = ui;
  await logIn(page, "guest", "guest");
  const publishRate = page.locator('[data-testid="rates-chart"] [data-series="publish"]');
  await publishRate.waitFor();
  const before = Number(await publishRate.getAttribute("data-latest"));
  assert.ok(before < 1, `publish rate ${before}/s before the publisher starts`);

  let running = true;
  const publisher = (async () => {
    const batch = Array.from({ length: 20 }, (_, i) => ({
      properties: {},
      routing_key: "chart-feed",
      payload: `tick ${i}`,
      payload_encoding: "string",
    }));
    const deadline = Date.now() + 60_000;
    while (running && Date.now() < deadline) {
      await api("POST", "/api/exchanges/%2F/amq.default/publish-batch", { messages: batch });
    }
  })();
  try {
    // The chart has drawn at least two samples and the newest shows the publisher (its batches
    // of 20 are far above the at most one message a second of the earlier tests).
    await page.waitForFunction(
      () => {
        const chart = document.querySelector('[data-testid="rates-chart"]');
        const series = chart?.querySelector('[data-series="publish"]');
        return (
          Number(chart?.getAttribute("data-points") ?? 0) >= 2 &&
          Number(series?.getAttribute("data-latest") ?? 0) > 5 &&
          chart?.querySelector("canvas") !== null
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    await page.locator('[data-total="Ready"] dd').filter({ hasText: /[1-9]/ }).waitFor();
    await shot(page, "overview-live");
  } finally {
    running = false;
    await publisher;
  }
  assert.deepEqual(ui.problems, []);
  await ui.close();
});

test("every page renders for an administrator", { skip, timeout: 120_000 }, async () => {
  const ui = await openUi();
  const { page } = ui;
  await logIn(page, "guest", "guest");
  await api("PUT", "/api/exchanges/%2F/shots", { type: "topic" });
  await api("PUT", "/api/notification-users/%2F/7", { name: "Ada" });
  assert.equal((await api("PUT", "/api/topics/%2F/shots-topic", { partitions: 2 })).status, 201);
  for (const [hash, heading, name] of [
    ["#/exchanges", "Exchanges", "exchanges"],
    ["#/exchanges/%2F/shots", "Exchange shots", "exchange"],
    ["#/queues", "Queues", "queues"],
    ["#/topics", "Topics", "topics"],
    ["#/topics/%2F/shots-topic", "Topic shots-topic", "topic"],
    ["#/definitions", "Definitions", "definitions"],
    ["#/notifications", "Notifications", "notifications"],
    ["#/notifications/7", "Notifications", "inbox"],
  ]) {
    await go(page, hash, heading);
    await page.waitForLoadState("networkidle");
    assert.equal(await page.locator(".notice.error").count(), 0, `${hash} shows an error`);
    await shot(page, name);
  }
  assert.deepEqual(ui.problems, []);
  await ui.close();
});
