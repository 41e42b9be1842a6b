// The management UI's queue list with 10,000 queues: how long the page takes to show a page of
// the list in a real browser (Debian's chromium via playwright-core), against its own
// `wrangler dev` on this machine. Declares the queues through one definitions import (1,000 per
// request), publishes to a few, logs in as guest and times, from the click or the navigation to
// the moment the rows are in the DOM: the first page sorted by name (the first time: the page's
// queue objects start; then warm), the next page, a regex filter and the name sort reversed. The
// API's own answer times are measured beside it: the first page, a sort by ready messages and
// the overview (both read the vhost's snapshot of its queues' reports). Replaces its section of BENCHMARKS.md (between the markers below).
//
//   npm run bench:ui            (BENCH_UI_QUEUES sets the queue count, default 10000)

import path from "node:path";
import { ROOT, startBroker, stopOnSignals } from "./lib/broker.mjs";
import { chromiumSkip, launchChromium } from "./lib/chromium.mjs";
import { fmt, middle } from "./lib/common.mjs";
import { fetchJson } from "./lib/http.mjs";
import { machineInfo } from "./lib/machine.mjs";
import { writeSection } from "./lib/report.mjs";

const QUEUES = Number(process.env.BENCH_UI_QUEUES || 10_000);
const ROUNDS = 5;
const MARK_START = "<!-- bench/ui-queues.mjs: start -->";
const MARK_END = "<!-- bench/ui-queues.mjs: end -->";
const name = (i) => `q-${String(i).padStart(5, "0")}`;

let server = null;
let sortRefusal = null;
let overviewTotals = null;
let sortTop = null;
/** Messages the bench publishes (1 + 2 + ... + 20, to 20 queues). */
const PUBLISHED = 210;
let browser = null;

/** A JSON call as guest: the parsed answer; throws on a status other than 2xx. */
async function api(method, apiPath, body) {
  const r = await fetchJson(server.url, method, apiPath, body, { timeoutMs: 300_000 });
  if (r.status < 200 || r.status >= 300)
    throw new Error(`${method} ${apiPath}: ${r.status} ${r.text}`);
  return r.body;
}

async function declareQueues() {
  const started = performance.now();
  for (let from = 0; from < QUEUES; from += 1000) {
    const queues = [];
    for (let i = from; i < Math.min(QUEUES, from + 1000); i++) {
      queues.push({ name: name(i), vhost: "/", durable: true, auto_delete: false, arguments: {} });
    }
    // An import is all or nothing and redeclares equivalently, so a retry after wrangler's dev
    // proxy restarted the Worker mid-request is safe.
    for (let attempt = 1; ; attempt++) {
      try {
        await api("POST", "/api/definitions", { queues });
        break;
      } catch (error) {
        if (attempt === 3) throw error;
        console.log(`  import retried: ${error.message}`);
      }
    }
  }
  // A few queues with messages, so the page shows counts and rates.
  for (let i = 0; i < 20; i++) {
    await api("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
      messages: Array.from({ length: i + 1 }, () => ({
        properties: {},
        routing_key: name(i * 7),
        payload: "hello",
        payload_encoding: "string",
      })),
    });
  }
  return performance.now() - started;
}

/** Times `act` until `rendered` holds in the page (polled every animation frame). */
async function timed(page, act, rendered, arg) {
  const started = performance.now();
  await act();
  await page.waitForFunction(rendered, arg, { timeout: 120_000, polling: "raf" });
  return performance.now() - started;
}

const firstRowIs = ([expected, count]) => {
  const rows = document.querySelectorAll('[data-testid="queues"] tbody tr');
  const first = rows[0]?.querySelector("a.name")?.textContent;
  return rows.length === count && first === expected;
};

async function measure(page) {
  const results = [];
  const row = async (label, act, expected, count = 100) => {
    const times = [];
    for (let i = 0; i < ROUNDS; i++) {
      await page.evaluate(() => {
        location.hash = "#/vhosts";
      });
      await page.locator("main h1", { hasText: "Virtual hosts" }).waitFor();
      await page.evaluate(() => {
        location.hash = "#/queues";
      });
      await page.waitForFunction(firstRowIs, [name(0), 100], { timeout: 120_000 });
      times.push(await timed(page, () => act(page), firstRowIs, [expected, count]));
    }
    results.push({ label, first: times[0], warm: middle(times.slice(1)), times });
    console.log(`  ${label}: ${times.map((t) => fmt(t)).join(", ")} ms`);
  };

  // The first page: from the navigation to the list until its 100 rows are there.
  const open = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.evaluate(() => {
      location.hash = "#/vhosts";
    });
    await page.locator("main h1", { hasText: "Virtual hosts" }).waitFor();
    open.push(
      await timed(
        page,
        () =>
          page.evaluate(() => {
            location.hash = "#/queues";
          }),
        firstRowIs,
        [name(0), 100],
      ),
    );
  }
  results.push({
    label: "open the list: page 1 of 100, sorted by name",
    first: open[0],
    warm: middle(open.slice(1)),
    times: open,
  });
  console.log(`  open: ${open.map((t) => fmt(t)).join(", ")} ms`);

  await row(
    "next page (page 2)",
    (p) => p.getByRole("button", { name: "Next ›" }).click(),
    name(100),
  );
  await row(
    "regex filter ^q-0042 (10 matches: q-00420 to q-00429)",
    (p) =>
      p
        .locator('input[name="regex"]')
        .check()
        .then(() => p.locator('input[name="filter"]').fill("^q-0042")),
    name(420),
    10,
  );
  await row(
    "sort by name, reversed",
    (p) => p.getByRole("button", { name: "Name ▲" }).click(),
    name(QUEUES - 1),
  );
  return results;
}

/** A sort by a count needs every queue's object: one call, cold (objects start), then warm. */
async function statsSortTimes() {
  const times = [];
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    try {
      const answer = await api(
        "GET",
        "/api/queues/%2F?page=1&page_size=100&sort=messages_ready&sort_reverse=true&columns=name,messages_ready",
      );
      sortTop = answer.items[0];
      times.push(performance.now() - started);
    } catch (error) {
      console.log(`  sort by messages_ready refused: ${error.message.slice(0, 120)}`);
      sortRefusal = error.message;
      times.push(Number.NaN);
    }
  }
  console.log(`  sort by messages_ready (API): ${times.map((t) => fmt(t)).join(", ")} ms`);
  return times;
}

async function apiPageTimes() {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await api("GET", "/api/queues/%2F?page=1&page_size=100&sort=name&name=&use_regex=false");
    times.push(performance.now() - started);
  }
  return times;
}

function section({ declareMs, results, apiTimes, sortTimes, overviewTimes }) {
  const m = machineInfo();
  const rows = results
    .map(
      (r) =>
        `| ${r.label} | ${fmt(r.first)} | ${fmt(r.warm)} | ${r.times.map((t) => fmt(t)).join(", ")} |`,
    )
    .join("\n");
  return `${MARK_START}
## Management UI: the queue list with ${fmt(QUEUES)} queues (bench/ui-queues.mjs)

- Date: ${new Date().toISOString()}; ${m.cpu}, ${m.cores} logical CPUs; Node ${process.version}; chromium ${browser.version()}
- The broker through \`wrangler dev\` on this machine (fresh state), ${fmt(QUEUES)} queues in \`/\` (declared by definitions import in ${fmt(declareMs / 1000, 1)} s), 20 of them holding messages; the UI logged in as guest, 100 rows a page
- Each figure: from the click (or the navigation to \`#/queues\`) until the expected rows are in the page's DOM, measured from the test driver; ${ROUNDS} rounds, "first" is round 1 (for the first page: the page's queue objects start), "warm" the median of the others

| action | first ms | warm ms (median) | each round ms |
|---|---:|---:|---|
${rows}

The API alone, \`GET /api/queues/%2F?page=1&page_size=100&sort=name\`: ${apiTimes.map((t) => fmt(t)).join(", ")} ms. Sorting by a count, \`GET /api/queues/%2F?page=1&page_size=100&sort=messages_ready&sort_reverse=true\` (sorts the vhost's snapshot of the queues' reports, one call, then asks the page's 100 queue objects), twice: ${sortRefusal ? `refused (\`${sortRefusal.replace(/^GET [^:]+: /, "").slice(0, 60)}…\`)` : `${sortTimes.map((t) => fmt(t)).join(", ")} ms (first row: ${sortTop?.name}, ${sortTop?.messages_ready} ready)`}. \`GET /api/overview\` (one call per vhost: the catalog sums the queues' reports), three in a row after that: ${overviewTimes.map((t) => fmt(t)).join(", ")} ms (totals: ${fmt(overviewTotals?.queues)} queues, ${fmt(overviewTotals?.ready)} messages ready of the ${PUBLISHED} published).

Reading them: a page sorted or filtered by name asks the catalog for the ${fmt(QUEUES)} declarations, filters, sorts and slices them, then asks only the page's 100 queue objects for their counts and rates (\`listPresented\` in src/api/pagination.ts), so the page costs the same with ${fmt(QUEUES)} queues as with 100 beyond the catalog read. Sorting by a column only the queues know (ready, unacked, rates) and the overview read the snapshot each vhost's catalog keeps of its queues' latest reports (each queue object reports at most once a second, only when its counts changed: src/queue/queue-report.ts), so they cost one call per vhost plus the page's rows, whatever the queue count; the rows' order is at most about a second old, the rows shown are fresh.

Reproduce: \`npm run bench:ui\` (\`BENCH_UI_QUEUES\` sets the queue count, default 10000; needs /usr/bin/chromium).
${MARK_END}`;
}

async function main() {
  if (chromiumSkip) {
    console.error(chromiumSkip);
    process.exit(2);
  }
  stopOnSignals();
  console.log("starting wrangler dev ...");
  server = await startBroker({ prefix: "broker-ui-bench-" });
  try {
    console.log(`declaring ${QUEUES} queues ...`);
    const declareMs = await declareQueues();
    const { chromium } = await import("playwright-core");
    browser = await launchChromium(chromium);
    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 } })
    ).newPage();
    page.setDefaultTimeout(120_000);
    // Straight to the vhosts page after login: the overview sums every queue (timed apart).
    await page.goto(`${server.url}/#/vhosts`);
    await page.locator('input[name="username"]').fill("guest");
    await page.locator('input[name="password"]').fill("guest");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.locator('[data-testid="whoami"]').waitFor();
    console.log("measuring the queue list ...");
    const results = await measure(page);
    const apiTimes = await apiPageTimes();
    // The queues report their counts to the vhost at most once a second: let the last ones land.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const sortTimes = await statsSortTimes();
    const overviewTimes = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      try {
        const overview = await api("GET", "/api/overview");
        overviewTotals = {
          queues: overview.object_totals.queues,
          ready: overview.queue_totals.messages_ready,
        };
        overviewTimes.push(performance.now() - started);
      } catch (error) {
        console.log(`  overview failed: ${error.message.slice(0, 120)}`);
        overviewTimes.push(Number.NaN);
      }
    }
    console.log(`  overview API: ${overviewTimes.map((t) => fmt(t)).join(", ")} ms`);
    writeSection(
      path.join(ROOT, "BENCHMARKS.md"),
      MARK_START,
      MARK_END,
      section({ declareMs, results, apiTimes, sortTimes, overviewTimes }),
    );
    console.log("BENCHMARKS.md updated");
  } finally {
    await browser?.close();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
