#!/usr/bin/env node
// Throughput and latency benchmark of the broker's HTTP API, end to end, the broker run as
// `npm start` runs it (BENCH_RUNNER=dev: through `wrangler dev`).
//
//   npm run bench                      # ~8 s per scenario
//   BENCH_SECONDS=5 npm run bench      # shorter
//   BENCH_RABBITMQ=0 npm run bench     # without the RabbitMQ comparison
//   BENCH_ONLY=http|messaging          # one part only; BENCH_OUTPUT=file writes the report there
//
// Starts its own broker (fresh state in a temp dir, free port on 127.0.0.1), declares a topic
// exchange and a queue, measures health / publish / batch publish / get over HTTP, checks every
// answer (status, routed flag, exactly-once delivery of every confirmed message); then measures
// confirmed publishing, consuming with acks and publish-to-delivery latency over WebSocket
// (bench/messaging/) and, when rabbitmq-server is installed, the same against a RabbitMQ node it
// starts and stops itself (bench/lib/rabbitmq.mjs). The HTTP scenarios and their section are in
// bench/http-api/. Prints tables and overwrites BENCHMARKS.md (keeping the sections other
// scripts mark as theirs). Exits non-zero if any request or frame failed or a check did not
// hold. Every loop is bounded in count and in time; all traffic goes to 127.0.0.1.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { printTable, ROLE_LABELS, render } from "./http-api/report.mjs";
import { closeHttpScenarios, httpScenarios } from "./http-api/scenarios.mjs";
import { startBroker, stopOnSignals } from "./lib/broker.mjs";
import { AUTH, HOST } from "./lib/common.mjs";
import { machineInfo } from "./lib/machine.mjs";
import { keptSections } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";
import { compareWithRabbitMQ } from "./messaging/rabbitmq-run.mjs";
import { printMessaging, renderMessaging } from "./messaging/report.mjs";
import { runMessagingSuite } from "./messaging/suite.mjs";
import { workersBrokerAdapter } from "./messaging/ws-adapter.mjs";

const SECONDS = (() => {
  const raw = process.env.BENCH_SECONDS;
  if (raw === undefined || raw === "") return 8;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 600) {
    console.error(`BENCH_SECONDS must be a number in (0, 600], got '${raw}'`);
    process.exit(2);
  }
  return n;
})();
// BENCH_ONLY=http or =messaging runs one part; BENCH_OUTPUT writes the report elsewhere.
const ONLY = process.env.BENCH_ONLY ?? "";
if (!["", "http", "messaging"].includes(ONLY)) {
  console.error(`BENCH_ONLY must be 'http' or 'messaging', got '${ONLY}'`);
  process.exit(2);
}
// BENCH_RUNNER=start (default: as `npm start` runs the broker) or dev (through `wrangler dev`).
const RUNNER = process.env.BENCH_RUNNER || "start";
if (!["start", "dev"].includes(RUNNER)) {
  console.error(`BENCH_RUNNER must be 'start' or 'dev', got '${RUNNER}'`);
  process.exit(2);
}
const OUTPUT = path.resolve(ROOT, process.env.BENCH_OUTPUT || "BENCHMARKS.md");
const DURATION_MS = Math.round(SECONDS * 1000);
const WARMUP_MS = Math.min(1000, Math.max(200, Math.round(DURATION_MS / 5)));

let broker = null;
stopOnSignals();

async function main() {
  const started = new Date();
  const m = machineInfo();
  console.log(
    `bench: ${SECONDS} s per scenario (BENCH_SECONDS), warm-up ${WARMUP_MS} ms; node ${m.node}, wrangler ${m.wrangler}`,
  );
  // A copy of src/ taken now: every scenario measures the same code, and no restart of
  // `wrangler dev` (it watches its sources) lands in a measurement.
  broker = await startBroker({ mode: RUNNER, snapshot: true, prefix: "broker-bench-" });
  const { port } = broker;
  console.log(
    `broker up on ${HOST}:${port} after ${(broker.startupMs / 1000).toFixed(1)} s (pid ${broker.pid})`,
  );
  const server = broker.server(ROLE_LABELS);

  const results = [];
  const checks = [];
  if (ONLY !== "messaging") {
    const context = { port, authorization: AUTH, broker, server };
    await httpScenarios(
      { ...context, durationMs: DURATION_MS, warmupMs: WARMUP_MS },
      results,
      checks,
    );
  }

  // Messaging over WebSocket against the same broker (bench/messaging/).
  let ours = null;
  if (ONLY !== "http") {
    console.log("measuring messaging over WebSocket:");
    ours = await runMessagingSuite(
      workersBrokerAdapter({
        port,
        authorization: AUTH,
        server,
        serverChanged: broker.changeWatch(),
      }),
      { seconds: SECONDS, warmupMs: WARMUP_MS },
    );
  }

  // Keep the broker's log (its errors, if any) for a failed check.
  const failed = ours?.checks.some((c) => !c.ok && !c.warnOnly);
  const kept = failed ? path.join(os.tmpdir(), `broker-bench-wrangler-${Date.now()}.log`) : null;
  await broker.stop({ keepLogAt: kept ?? undefined });
  if (kept && fs.existsSync(kept)) {
    console.log(`a messaging check failed: the broker's log is kept in ${kept}`);
  }

  // The same scenarios against RabbitMQ on this machine, when it is installed.
  const rabbit = ours ? await compareWithRabbitMQ({ seconds: SECONDS, warmupMs: WARMUP_MS }) : null;

  const messagingChecks = ours ? [...ours.checks, ...rabbit.checks] : [];
  const report = [
    ...(ONLY !== "messaging"
      ? [
          render({
            started,
            m,
            results,
            checks,
            runner: RUNNER,
            seconds: SECONDS,
            warmupMs: WARMUP_MS,
            source: broker.source,
          }),
        ]
      : []),
    ...(ours
      ? renderMessaging({ ours, rabbit, seconds: SECONDS, warmupMs: WARMUP_MS, cores: m.cores })
      : []),
  ].join("\n");
  if (ONLY !== "messaging") printTable(results, checks);
  if (ours) printMessaging({ ours, rabbit, checks: messagingChecks });
  fs.writeFileSync(OUTPUT, `${report.trimEnd()}\n${keptSections(OUTPUT)}`);
  console.log(`\nwrote ${OUTPUT}`);
  const ok = [...checks, ...messagingChecks].every((c) => c.ok || c.warnOnly);
  if (!ok) {
    console.error("\nFAILED: see the checks above");
    process.exitCode = 1;
  }
}

main()
  .catch(async (e) => {
    console.error(`\nbench failed: ${e?.stack ?? e}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await broker?.stop();
    closeHttpScenarios();
  });
