#!/usr/bin/env node
// The broker against RabbitMQ, side by side, the way an application uses each (issue 9): the
// broker run as `npm start` runs it (the Worker in Miniflare directly) and as `npm run dev` does
// (through `wrangler dev` and its dev proxy), RabbitMQ + amqplib from a private node this script
// starts (bench/lib/rabbitmq.mjs, with its management plugin for the HTTP comparison).
//
//   node bench/compare.mjs                  # part of `npm run bench`
//   BENCH_QUICK=1 node bench/compare.mjs    # a short run: 2 s scenarios, depths 0/10k/50k
//   BENCH_RUNNERS=start node bench/compare.mjs   # only the `npm start` broker
//   BENCH_SECONDS=5, BENCH_DEPTHS=0,100000, BENCH_RABBITMQ=0
//   BENCH_RENDER_ONLY=1                     # rewrite the section from the last run's figures
//   BENCH_ONLY=deep                         # only the deep-queue phases (npm start broker)
//   BENCH_SCENARIOS=consume1                # only these scenarios (comma-separated keys:
//       http, publishDefault, publishDirect, consume1, consume100, consume1000,
//       consume1000multi, latency, deep); the run does not write BENCHMARKS.md
//
// Measures, 256-byte persistent messages everywhere: confirmed publishing with one `publish()`
// call per message (client/ batches what is called in the same tick), consuming with one
// `ack()` per delivery at prefetch 1, 100 and 1,000, publish -> delivered latency at 1,000
// msgs/s (bench/messaging/suite.mjs, which also checks every confirmed message arrives exactly
// once), a single HTTP publish at concurrency 1 and 16, and, on the `npm start` broker,
// publishing and consuming at growing queue depths with the memory of the process running the
// objects (bench/compare/scenarios.mjs; the section is bench/compare/report.mjs's).
// Writes its section of BENCHMARKS.md (between platform-bench markers); exits non-zero when a
// check fails. Every loop is bounded in count and in time; all traffic goes to 127.0.0.1.

import fs from "node:fs";
import path from "node:path";
import { checks, MARK_END, MARK_START, render } from "./compare/report.mjs";
import { deepQueue, httpPublishScenarios } from "./compare/scenarios.mjs";
import { startBroker } from "./lib/broker.mjs";
import { AUTH, numberEnv, QUICK, sleep } from "./lib/common.mjs";
import { groupPids, rssKiB } from "./lib/processes.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "./lib/rabbitmq.mjs";
import { writeSection } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";
import { clientAdapter } from "./messaging/client-adapter.mjs";
import { rabbitAdapter } from "./messaging/rabbitmq-adapter.mjs";
import { runMessagingSuite } from "./messaging/suite.mjs";

const OUTPUT = path.resolve(ROOT, process.env.BENCH_OUTPUT || "BENCHMARKS.md");
/** The last run's figures (BENCH_RENDER_ONLY=1 renders them again); bench/.state is not in git. */
const LAST_RUN = path.join(ROOT, "bench", ".state", "compare-last.json");

const SECONDS = numberEnv("BENCH_SECONDS", QUICK ? 2 : 8, 0.5, 600);
const WARMUP_MS = Math.min(1000, Math.max(200, Math.round((SECONDS * 1000) / 5)));
const DEEP_SECONDS = QUICK ? 2 : Math.min(SECONDS, 5);
const DEPTHS = (process.env.BENCH_DEPTHS || (QUICK ? "0,10000,50000" : "0,100000,1000000"))
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 0 && n <= 5_000_000)
  .sort((a, b) => a - b);
const RUNNERS = (process.env.BENCH_RUNNERS || "start,dev")
  .split(",")
  .filter((r) => r === "start" || r === "dev");
const WITH_RABBITMQ = process.env.BENCH_RABBITMQ !== "0";
/** BENCH_SCENARIOS: a partial run (null: every scenario), for measuring one thing quickly. */
const SCENARIOS = process.env.BENCH_SCENARIOS
  ? new Set(process.env.BENCH_SCENARIOS.split(",").map((s) => s.trim()))
  : null;
const wanted = (key) => SCENARIOS === null || SCENARIOS.has(key);

const RUNNER_NAMES = {
  start: "ours, `npm start` (Miniflare directly)",
  dev: "ours, `npm run dev` (wrangler dev)",
};

/** The broker's processes as this report names them (lib/processes.mjs's kinds). */
const ROLE_LABELS = {
  proxy: "workerd (dev proxy)",
  worker: "workerd (Worker + objects)",
  host: "node (Miniflare host)",
  wrangler: "wrangler (node)",
  esbuild: "esbuild",
  other: "other",
};

// ---------------------------------------------------------------------------------------------
// One broker runner: start, measure, stop.

async function measureOurs(mode) {
  console.log(`\n${RUNNER_NAMES[mode]}: starting`);
  const broker = await startBroker({ mode, prefix: `broker-compare-${mode}-` });
  const server = broker.server(ROLE_LABELS);
  const serverChanged = broker.changeWatch();
  /** Resident memory (MiB) of the group's workerd processes that run the Worker and objects. */
  const rssMiB = () =>
    groupPids(broker.pid)
      .filter((pid) => server.roleOf(pid) === ROLE_LABELS.worker)
      .reduce((kib, pid) => kib + rssKiB(pid), 0) / 1024;
  const adapter = clientAdapter({
    port: broker.port,
    authorization: AUTH,
    server,
    serverChanged,
    name: RUNNER_NAMES[mode],
  });
  adapter.short = mode === "start" ? "ours (npm start)" : "ours (wrangler dev)";
  try {
    // BENCH_ONLY=deep: only the deep-queue phases (they take long with a million messages).
    const deepOnly = process.env.BENCH_ONLY === "deep";
    const http =
      deepOnly || !wanted("http")
        ? {}
        : await httpPublishScenarios(adapter.short, broker.port, server, SECONDS);
    const suite = deepOnly
      ? { results: [], checks: [] }
      : await runMessagingSuite(adapter, {
          seconds: SECONDS,
          warmupMs: WARMUP_MS,
          scenarios: SCENARIOS,
        });
    const deep =
      mode === "start" && DEPTHS.length > 0 && wanted("deep")
        ? await deepQueue(adapter, broker.port, rssMiB, {
            depths: DEPTHS,
            deepSeconds: DEEP_SECONDS,
          })
        : null;
    return { mode, name: RUNNER_NAMES[mode], http, suite, deep };
  } finally {
    await broker.stop();
  }
}

async function measureRabbitMQ() {
  const found = findRabbitMQ();
  if (found.skip) return { skipped: found.skip };
  let adapter = null;
  try {
    const { node } = await startRabbitMQ(found, { management: true });
    console.log(`\nRabbitMQ ${node.version}: AMQP on ${node.port}, HTTP API on ${node.httpPort}`);
    adapter = rabbitAdapter(node);
    adapter.short = "RabbitMQ";
    const http = wanted("http")
      ? await httpPublishScenarios("RabbitMQ", node.httpPort, adapter.server, SECONDS)
      : {};
    const suite = await runMessagingSuite(adapter, {
      seconds: SECONDS,
      warmupMs: WARMUP_MS,
      scenarios: SCENARIOS,
    });
    return { name: `RabbitMQ ${node.version} + amqplib`, version: node.version, http, suite };
  } catch (e) {
    console.error(`RabbitMQ comparison failed: ${e?.stack ?? e}`);
    return { error: String(e?.message ?? e).split("\n")[0] };
  } finally {
    await adapter?.close().catch(() => {});
    await stopRabbitMQ();
  }
}

async function main() {
  const started = new Date();
  console.log(
    `compare: ${SECONDS} s per scenario, runners ${RUNNERS.join(", ")}, depths ${DEPTHS.join(", ")}` +
      (QUICK ? " (BENCH_QUICK)" : ""),
  );
  let ours = [];
  let rabbit = null;
  let wallSeconds = 0;
  let when = started;
  if (process.env.BENCH_RENDER_ONLY === "1") {
    // Render the last run's figures again (after a change to the report only).
    const last = JSON.parse(fs.readFileSync(LAST_RUN, "utf8"));
    ({ ours, rabbit, wallSeconds } = last);
    when = new Date(last.started);
  } else {
    for (const mode of RUNNERS) {
      try {
        ours.push(await measureOurs(mode));
      } catch (e) {
        // One runner failing (it did not start, a scenario threw) still leaves the others'
        // figures and a failed check in the report.
        console.error(`${RUNNER_NAMES[mode]} failed: ${e?.stack ?? e}`);
        const error = String(e?.message ?? e).split("\n")[0];
        ours.push({ mode, name: RUNNER_NAMES[mode], error, http: null, suite: null, deep: null });
      }
    }
    rabbit = WITH_RABBITMQ ? await measureRabbitMQ() : { skipped: "BENCH_RABBITMQ=0" };
    wallSeconds = (Date.now() - started.getTime()) / 1000;
    fs.mkdirSync(path.dirname(LAST_RUN), { recursive: true });
    fs.writeFileSync(
      SCENARIOS === null ? LAST_RUN : LAST_RUN.replace(/\.json$/, "-partial.json"),
      JSON.stringify({ started: started.toISOString(), ours, rabbit, wallSeconds }),
    );
  }
  const settings = {
    seconds: SECONDS,
    warmupMs: WARMUP_MS,
    deepSeconds: DEEP_SECONDS,
    depths: DEPTHS,
  };
  if (SCENARIOS !== null) {
    // A partial run: its figures are printed above and kept in bench/.state, not rendered.
    const failed = checks(ours, rabbit).filter((c) => !c.ok && !c.warnOnly);
    for (const c of failed) console.error(`(partial run) check: ${c.what}: ${c.detail}`);
    return;
  }
  const text = render({ started: when, ours, rabbit, wallSeconds, settings });
  writeSection(OUTPUT, MARK_START, MARK_END, text, "");
  console.log(`\nwrote the platform-bench section of ${OUTPUT}`);
  const failed = checks(ours, rabbit).filter((c) => !c.ok && !c.warnOnly);
  for (const c of failed) console.error(`FAILED: ${c.what}: ${c.detail}`);
  if (failed.length > 0) process.exitCode = 1;
  await sleep(0);
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
