// The inbox page in a real browser: Debian's chromium driven by playwright-core (no browser is
// ever downloaded). Starts its own `wrangler dev` in local-development mode (the article's four
// users, no credentials), opens Emma's page on two "devices", sends her notifications and checks
// that they arrive live, that the badge counts, and that marking read on one device reaches the
// other. Skips, saying so, when /usr/bin/chromium is absent.
//
//   npm run test:browser

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startBroker } from "../../bench/lib/broker.mjs";
import { chromiumSkip, launchChromium } from "../../bench/lib/chromium.mjs";

const WAIT_MS = 15_000;
const skip = chromiumSkip;
if (skip) console.log(`skipping the browser test: ${skip}`);

let server = null;
let browser = null;

before(async () => {
  if (skip) return;
  const { chromium } = await import("playwright-core");
  server = await startBroker({ vars: { LOCAL_DEV: "true" }, prefix: "broker-browser-" });
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function send(fromID, toID, message) {
  const response = await fetch(`${server.url}/send`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ fromID, toID, message }).toString(),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  assert.equal(response.status, 200, await response.text());
}

async function openInbox(userId) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.goto(`${server.url}/notifications/${userId}/page`);
  await page.locator("#status", { hasText: "live" }).waitFor();
  return page;
}

const badge = (page) => page.locator("#badge").textContent();
const title = (page) => page.locator("#title").textContent();

test("shows notifications as they arrive and keeps two devices in step", {
  skip,
  timeout: 180_000,
}, async () => {
  const phone = await openInbox(1);
  assert.equal(await title(phone), "Emma's inbox");
  assert.equal(await badge(phone), "0");

  await send(2, 1, "Bruno started following you.");
  await phone.locator("#list li", { hasText: "Bruno started following you." }).waitFor();
  await phone.locator("#badge", { hasText: "1" }).waitFor();

  const laptop = await openInbox(1);
  await laptop.locator("#list li", { hasText: "Bruno started following you." }).waitFor();
  assert.equal(await badge(laptop), "1");

  // Markup in a message is shown as text, never interpreted.
  await send(4, 1, "Lena liked your post: <b id='injected'>My weekend getaway!</b>");
  for (const page of [phone, laptop]) {
    await page.locator("#list li", { hasText: "<b id='injected'>" }).waitFor();
    await page.locator("#badge", { hasText: "2" }).waitFor();
    assert.equal(await page.locator("#injected").count(), 0);
  }
  const items = await phone.locator("#list li .text span").allTextContents();
  assert.deepEqual(items, [
    "Lena liked your post: <b id='injected'>My weekend getaway!</b>",
    "Bruno started following you.",
  ]);

  // Mark one read on the phone: the laptop's badge follows.
  await phone.locator("#list li", { hasText: "Bruno" }).locator("button.mark-read").click();
  await phone.locator("#badge", { hasText: "1" }).waitFor();
  await laptop.locator("#badge", { hasText: "1" }).waitFor();
  await laptop.locator("#list li.unread", { hasText: "Lena" }).waitFor();
  assert.equal(await laptop.locator("#list li.unread").count(), 1);

  // Mark all read on the laptop: both badges reach 0.
  await laptop.locator("#mark-all").click();
  await laptop.locator("#badge", { hasText: "0" }).waitFor();
  await phone.locator("#badge", { hasText: "0" }).waitFor();
  assert.equal(await phone.locator("#list li.unread").count(), 0);
});
