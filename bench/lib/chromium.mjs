// Debian's chromium for the browser tests and the UI benchmark (playwright-core drives it; no
// browser download). The flags keep a headless root run from reaching for the network, which
// this machine's closed network refuses.
import fs from "node:fs";

// BROWSER_TEST_CHROMIUM exists to check the skip path; Debian installs chromium here.
export const CHROMIUM = process.env.BROWSER_TEST_CHROMIUM || "/usr/bin/chromium";

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

/** false when chromium is there, else the reason a browser test skips. */
export const chromiumSkip = fs.existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) to run this test`;

/** Launches chromium with the flags above (a playwright-core `chromium` browser type). */
export function launchChromium(browserType) {
  return browserType.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
}
