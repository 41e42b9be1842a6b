#!/usr/bin/env node
// What scraping /metrics every second costs the broker's publish throughput.
//
//   npm run bench:metrics               # part of `npm run bench`
//   BENCH_METRICS_ROUNDS=10 BENCH_METRICS_SECONDS=3 BENCH_METRICS_QUEUES=10 \
//     BENCH_METRICS_CONCURRENCY=24 npm run bench:metrics
//
// Starts its own broker as `npm start` runs it (bench/lib/broker.mjs; BROKER_RUNNER=dev
// for `wrangler dev` and its dev proxy), fresh state, free port on 127.0.0.1, then declares
// QUEUES queues (a scrape reads every one of them) with a message each, then runs confirmed
// HTTP batch publishes into one of them (100 messages a request, CONCURRENCY requests in
// flight, as fast as the broker confirms) in ROUNDS pairs of adjacent phases, without and with
// one scrape of /metrics per second, the order alternating so that the machine's drift cancels
// out. Two measures of the < 1 % target: the median of the paired throughput differences
// (direct, but noisy on a shared machine: reported as not resolvable when its pairs scatter
// more than 2 %), and the scrape's own CPU (a scrape's minus a trivial request's, both on an
// otherwise idle broker) against the broker's CPU per second while publishing near its limit.
// Printed and written to BENCHMARKS.md (section "Scraping /metrics"). Exits non-zero if a
// request failed or a scrape lacked the metric names. Every loop is bounded in count and time.

import http from "node:http";
import path from "node:path";
import { ROOT, startBroker } from "./lib/broker.mjs";
import { AUTH, fmt, median, sleep } from "./lib/common.mjs";
import { request as requestOn } from "./lib/http.mjs";
import { runLoad } from "./lib/load.mjs";
import { waitForQuiet } from "./lib/machine.mjs";
import { cpuDelta, groupCpu } from "./lib/processes.mjs";
import { writeLastSection } from "./lib/report.mjs";

// Prometheus scrapes with a bearer token (METRICS_TOKEN, docs/deploy.md): a Basic login would
// cost a PBKDF2 verification each time the 5 s credentials cache expires.
const METRICS_TOKEN = "bench-metrics-token-0123456789";
const positive = (name, fallback, max) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    console.error(`${name} must be a number in (0, ${max}]`);
    process.exit(2);
  }
  return n;
};
const ROUNDS = Math.round(positive("BENCH_METRICS_ROUNDS", 10, 40));
const PHASE_MS = Math.round(positive("BENCH_METRICS_SECONDS", 3, 60) * 1000);
const QUEUES = Math.round(positive("BENCH_METRICS_QUEUES", 10, 500));
const CONCURRENCY = Math.round(positive("BENCH_METRICS_CONCURRENCY", 24, 64));
const BATCH = 100;
// CPU time is read in 10 ms ticks: 100 requests resolve 0.1 ms per request.
const IDLE_SCRAPES = 100;
const MAX_REQUESTS_PER_PHASE = 100_000;
const TARGET_PCT = 1;
const RUNNER =
  process.env.BROKER_RUNNER === "dev"
    ? "`npm run dev` runs it (`wrangler dev`)"
    : "`npm start` runs it (Miniflare)";
const NAMES = [
  "rabbitmq_queue_messages_ready",
  "rabbitmq_queue_messages_unacked",
  "rabbitmq_queue_consumers",
  "rabbitmq_global_messages_routed_total",
  "rabbitmq_global_messages_delivered_total",
  "rabbitmq_global_messages_acknowledged_total",
  "rabbitmq_connections",
];

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY + 2 });
let port = 0;
const failures = [];

function request(method, urlPath, body, authorization = AUTH) {
  return requestOn(agent, port, method, urlPath, body, { authorization });
}

async function api(method, urlPath, body, expect) {
  const res = await request(method, urlPath, body);
  if (!expect.includes(res.status))
    throw new Error(`${method} ${urlPath}: ${res.status} ${res.text}`);
  return res;
}

const batch = Array.from({ length: BATCH }, (_, i) => ({
  properties: {},
  routing_key: "metrics.q.0",
  payload: `message ${i}`,
  payload_encoding: "string",
}));

/** Confirmed batch publishes for `ms`: messages per second. */
async function publishPhase(ms, scrape) {
  const until = Date.now() + ms;
  let scrapes = 0;
  const scraper = async () => {
    while (scrape && Date.now() < until) {
      const next = Date.now() + 1000;
      await scrapeOnce();
      scrapes++;
      // Never past the phase's end: the phase's time is the publishers' time alone.
      await sleep(Math.max(0, Math.min(next, until) - Date.now()));
    }
  };
  const scraping = scraper();
  const run = await runLoad({
    concurrency: CONCURRENCY,
    durationMs: ms,
    maxRequests: MAX_REQUESTS_PER_PHASE,
    agent,
    one: async () => {
      try {
        const res = await request("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
          messages: batch,
        });
        if (res.status !== 200) {
          failures.push(`publish-batch: ${res.status} ${res.text.slice(0, 200)}`);
          return { ok: false };
        }
        return { ok: true, messages: JSON.parse(res.text).results.filter((r) => r.routed).length };
      } catch (error) {
        failures.push(`publish-batch: ${error.message}`);
        return { ok: false };
      }
    },
  });
  await scraping;
  return { perSec: run.messages / run.elapsed, scrapes };
}

async function scrapeOnce() {
  const res = await request("GET", "/metrics", undefined, `Bearer ${METRICS_TOKEN}`);
  if (res.status !== 200) {
    failures.push(`/metrics: ${res.status}`);
    return;
  }
  for (const name of NAMES) {
    if (!res.text.includes(`\n${name}`) && !res.text.startsWith(name)) {
      failures.push(`/metrics lacks ${name}`);
    }
  }
}

async function main() {
  const broker = await startBroker({
    prefix: "broker-bench-metrics-",
    vars: { METRICS_TOKEN },
  });
  port = broker.port;
  const cpu = () => groupCpu(broker.pid);
  try {
    for (let i = 0; i < QUEUES; i++) {
      await api("PUT", `/api/queues/%2F/metrics.q.${i}`, { durable: true }, [201, 204]);
      const resting = `resting in metrics.q.${i}`;
      await api(
        "POST",
        "/api/exchanges/%2F/amq.default/publish",
        {
          properties: {},
          routing_key: `metrics.q.${i}`,
          payload: resting,
          payload_encoding: "string",
        },
        [200],
      );
    }
    await publishPhase(1000, false); // warm-up: every queue object started
    await waitForQuiet();

    // The broker's CPU per scrape and per trivial request (/health), idle otherwise: locally
    // every HTTP request pays the local runner's own overhead, which a deploy does not have.
    const perRequestCpu = async (one) => {
      const before = cpu();
      const t0 = performance.now();
      for (let i = 0; i < IDLE_SCRAPES; i++) await one();
      const wall = (performance.now() - t0) / IDLE_SCRAPES;
      const d = cpuDelta(before, cpu());
      return { wall, cpuMs: d.seconds === null ? null : (d.seconds * 1000) / IDLE_SCRAPES };
    };
    const scrape = await perRequestCpu(scrapeOnce);
    const health = await perRequestCpu(() => request("GET", "/health"));

    // Pairs of adjacent phases (the order alternating), so that the machine's drift between
    // pairs cancels out: the paired differences are the throughput cost of scraping.
    const without = [];
    const withScrape = [];
    const paired = [];
    const publishCpu = [];
    for (let round = 0; round < ROUNDS; round++) {
      const pair = {};
      for (const scraping of round % 2 === 0 ? [false, true] : [true, false]) {
        const c0 = cpu();
        const p0 = performance.now();
        const { perSec } = await publishPhase(PHASE_MS, scraping);
        const d = cpuDelta(c0, cpu());
        if (!scraping && d.seconds !== null) {
          publishCpu.push((d.seconds * 1000) / ((performance.now() - p0) / 1000));
        }
        (scraping ? withScrape : without).push(perSec);
        pair[scraping ? "with" : "without"] = perSec;
      }
      paired.push(((pair.without - pair.with) / pair.without) * 100);
    }
    const sorted = [...paired].sort((x, y) => x - y);
    const quartile = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    const busyCpuMsPerSec = publishCpu.length > 0 ? median(publishCpu) : null;
    const result = {
      queues: QUEUES,
      rounds: ROUNDS,
      phaseSeconds: PHASE_MS / 1000,
      withoutPerSec: median(without),
      withPerSec: median(withScrape),
      pairedMedianPct: median(paired),
      pairedLowPct: quartile(0.25),
      pairedHighPct: quartile(0.75),
      scrapeWallMs: scrape.wall,
      scrapeCpuMs: scrape.cpuMs,
      healthCpuMs: health.cpuMs,
      busyCpuMsPerSec,
    };
    report(result);
  } finally {
    await broker.stop();
    agent.destroy();
  }
  if (failures.length > 0) {
    console.error(
      `failures (${failures.length}):\n${[...new Set(failures)].slice(0, 10).join("\n")}`,
    );
    process.exit(1);
  }
}

function report(r) {
  // The target can only be shown when the pairs agree to within it; otherwise say so.
  const scatter = r.pairedHighPct - r.pairedLowPct;
  const verdict =
    scatter > 2 * TARGET_PCT
      ? `not resolvable here: the middle half of the pairs spans ${fmt(scatter, 1)} %, more than the ${TARGET_PCT} % to be shown`
      : r.pairedMedianPct < TARGET_PCT
        ? `under ${TARGET_PCT} %: met`
        : `${TARGET_PCT} % or more: NOT met`;
  const ms = (v, digits = 1) => (v === null ? "n/a" : `${fmt(v, digits)} ms`);
  const own =
    r.scrapeCpuMs !== null && r.healthCpuMs !== null ? r.scrapeCpuMs - r.healthCpuMs : null;
  const share = own !== null && r.busyCpuMsPerSec ? (own / r.busyCpuMsPerSec) * 100 : null;
  const lines = [
    "## Scraping /metrics",
    "",
    `\`npm run bench:metrics\` (part of \`npm run bench\`): ${r.queues} queues, confirmed HTTP`,
    `\`publish-batch\` of ${BATCH} messages into one of them, ${CONCURRENCY} requests in flight,`,
    `run as ${RUNNER}; Prometheus' side scrapes with a bearer token (METRICS_TOKEN);`,
    `${r.rounds} pairs of adjacent ${r.phaseSeconds} s phases, without and with one scrape per`,
    "second, the order alternating.",
    "",
    "| figure | value |",
    "|---|---|",
    `| publish without scraping (median) | ${fmt(r.withoutPerSec)} msg/s |`,
    `| publish with a scrape every second (median) | ${fmt(r.withPerSec)} msg/s |`,
    `| **throughput cost of scraping** (median of the paired differences) | **${fmt(r.pairedMedianPct, 2)} %** (${verdict}); middle half of the pairs ${fmt(r.pairedLowPct, 1)} % to ${fmt(r.pairedHighPct, 1)} % |`,
    `| one scrape of ${r.queues} queues: wall time | ${ms(r.scrapeWallMs)} |`,
    `| one scrape: broker CPU | ${ms(r.scrapeCpuMs)}, of which ${ms(r.healthCpuMs)} is what any request costs locally (\`/health\`): ${ms(own)} is the scrape's own work |`,
    `| broker CPU while publishing | ${r.busyCpuMsPerSec === null ? "n/a" : `${fmt(r.busyCpuMsPerSec)} ms per second`} |`,
    `| **a 1/s scrape's own work against the broker's CPU while publishing** | ${share === null ? "n/a" : `**${fmt(share, 2)} %** (${share < TARGET_PCT ? `under ${TARGET_PCT} %: met` : `${TARGET_PCT} % or more: NOT met`})`} |`,
    "",
    "The paired throughput difference is the direct measure, but on a shared 2-core machine its",
    "pairs scatter far more than 1 %; the CPU share is the measure that resolves it: the broker",
    "publishes near its CPU limit here, so what a scrape takes from the CPU is what it takes from",
    "throughput. A scrape reads the reports the queues send their vhost's catalog at most once a",
    "second (three calls per vhost, whatever the number of queues) and no message: it never",
    "calls a queue object, so a busy queue's thread does not see it at all.",
    "",
  ];
  const text = lines.join("\n");
  console.log(text);
  writeLastSection(path.join(ROOT, "BENCHMARKS.md"), "## Scraping /metrics", text);
}

await main();
