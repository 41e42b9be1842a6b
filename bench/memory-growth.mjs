// Where the broker's memory goes as messages flow: the workerd process running the Worker and
// every object (its anonymous resident memory, from /proc) and the Worker isolate's JavaScript
// heap after a forced collection (through workerd's inspector, BROKER_INSPECTOR_PORT of
// scripts/start.mjs). Publishes batches of 1,000 256-byte persistent messages into one queue, in
// steps of STEP messages; with BENCH_MEMORY_MODE=deep the queue keeps them (memory against
// depth), with =purge it is purged after each step (the same traffic, the queue never deeper
// than one step), so the two runs separate what grows with depth from what grows with traffic.
//
//   node bench/memory-growth.mjs                       (npm run bench:memory; deep, 10 steps)
//   BENCH_MEMORY_MODE=purge BENCH_MEMORY_STEPS=20 BENCH_MEMORY_STEP=100000
//
// Prints one line per step; all traffic to 127.0.0.1, bounded by the step count.

import fs from "node:fs";
import { startBroker } from "./lib/broker.mjs";
import { numberEnv } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { inspectWorker } from "./lib/inspector.mjs";
import { freePort } from "./lib/ports.mjs";
import { groupPids, processKind } from "./lib/processes.mjs";

const MODE = process.env.BENCH_MEMORY_MODE === "purge" ? "purge" : "deep";
const STEPS = numberEnv("BENCH_MEMORY_STEPS", 10, 1, 100);
const STEP = numberEnv("BENCH_MEMORY_STEP", 100_000, 4000, 1_000_000);
const QUEUE = "memory.q";

const inspectorPort = await freePort();
process.env.BROKER_INSPECTOR_PORT = String(inspectorPort);
const broker = await startBroker({ mode: "start", prefix: "broker-memory-" });

/** Anonymous resident memory (MiB) of the workerd process running the Worker and objects. */
function anonymousMiB() {
  const pids = groupPids(broker.pid).filter((pid) => processKind(pid, broker) === "worker");
  let kib = 0;
  for (const pid of pids) {
    const rollup = fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    kib += Number(/Anonymous:\s+(\d+)/.exec(rollup)?.[1] ?? 0);
  }
  return kib / 1024;
}

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const session = await inspectWorker(inspectorPort, { timeoutMs: 3000 });
async function report(label) {
  await session.call("HeapProfiler.collectGarbage");
  const usage = await session.call("Runtime.getHeapUsage");
  const heap = usage.result ? `${fmt(usage.result.usedSize / 1048576)} MiB` : "unknown";
  console.log(`${label}: workerd anonymous ${fmt(anonymousMiB())} MiB, JS heap used ${heap}`);
}

try {
  await callApi(broker.url, "PUT", `/api/queues/%2F/${QUEUE}`, { durable: true });
  await report("empty queue");
  const payload = "x".repeat(256);
  const batch = {
    messages: Array.from({ length: 1000 }, () => ({
      routing_key: QUEUE,
      payload,
      payload_encoding: "string",
      properties: { delivery_mode: 2 },
    })),
  };
  const publish = () =>
    callApi(broker.url, "POST", "/api/exchanges/%2F/amq.default/publish-batch", batch);
  let published = 0;
  for (let step = 1; step <= STEPS; step++) {
    while (published < step * STEP) {
      await Promise.all([publish(), publish(), publish(), publish()]);
      published += 4000;
    }
    if (MODE === "purge") await callApi(broker.url, "DELETE", `/api/queues/%2F/${QUEUE}/contents`);
    const { messages } = await callApi(broker.url, "GET", `/api/queues/%2F/${QUEUE}`);
    await report(`${fmt(published)} published, ${fmt(messages)} queued`);
  }
} finally {
  session.close();
  await broker.stop();
}
