#!/usr/bin/env node
// What the broker's isolate allocates per message at one message per frame (issue 9), measured
// in the broker itself: run as `npm start` runs it (workerd; the Worker and every Durable Object
// share one isolate), a producer publishes 256-byte persistent messages one at a time (each
// awaits its confirm, so every frame carries one message) to a queue a consumer drains with a
// per-message ack, while V8's sampling heap profiler (over workerd's inspector) counts every
// allocation, collected ones included. Reports JS heap bytes per message in all, and under the
// publish path's readers (parsePublishFrame, toMessage), for the code before the fast publish
// reader (src/ of BENCH_BEFORE_REF, default the commit before src/protocol/publish-fast-read.ts
// was added) and the working tree's.
//
//   flock /tmp/broker-bench.lock node bench/publish-heap-profile.mjs
//   BENCH_MESSAGES=3000 BENCH_SIDES=after node bench/publish-heap-profile.mjs
//   BENCH_TOP=20 ...   also lists the functions that allocate most themselves (self bytes)
//
// Sampling is statistical (one sample per ~4 KB allocated, scaled): read the figures to ~10%.
// Traffic to 127.0.0.1 only, bounded by the message count.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { BrokerClient } from "../client/index.ts";
import { ROOT, startBroker } from "./lib/broker.mjs";
import { fmt, HOST, numberEnv, withTimeout } from "./lib/common.mjs";
import { beforeFastReader, git } from "./lib/fast-reader-ref.mjs";
import { inspectWorker } from "./lib/inspector.mjs";
import { freePort } from "./lib/ports.mjs";

const MESSAGES = numberEnv("BENCH_MESSAGES", 2000, 200, 20_000);
const WARMUP = Math.min(500, MESSAGES);
const SIDES = (process.env.BENCH_SIDES || "before,after").split(",");
const QUEUE = "heap.profile";
const READERS = ["parsePublishFrame", "toMessage"];
const TOP = numberEnv("BENCH_TOP", 0, 0, 100);

/** The app at `ref` (src/ and its configuration), node_modules and the built UI linked. */
function appAt(ref, dir) {
  const app = path.join(dir, "app");
  fs.mkdirSync(app, { recursive: true });
  execFileSync(
    "sh",
    ["-c", `git archive ${ref} src wrangler.jsonc package.json tsconfig.json | tar -x -C "${app}"`],
    { cwd: ROOT },
  );
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(app, "node_modules"), "dir");
  fs.symlinkSync(path.join(ROOT, "dist"), path.join(app, "dist"), "dir");
  return path.join(app, "wrangler.jsonc");
}

/** Bytes in all, and under the first frame (inclusive) of each reader, of a sampling profile. */
function sum(profile) {
  const under = Object.fromEntries(READERS.map((name) => [name, 0]));
  const walk = (node, inside) => {
    let total = node.selfSize;
    const name = node.callFrame.functionName;
    const reader = inside ?? (READERS.includes(name) ? name : null);
    for (const child of node.children) total += walk(child, reader);
    if (reader && !inside) under[reader] += total;
    return total;
  };
  return { total: walk(profile.head, null), under };
}

/** The `count` functions with the most self bytes, by name and line. */
function top(profile, count) {
  const bySite = new Map();
  const walk = (node) => {
    const { functionName, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"}:${lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return [...bySite].sort((a, b) => b[1] - a[1]).slice(0, count);
}

async function measure(side, configPath) {
  const inspectorPort = await freePort();
  process.env.BROKER_INSPECTOR_PORT = String(inspectorPort);
  const broker = await startBroker({ mode: "start", prefix: "heap-profile-", configPath });
  const session = await inspectWorker(inspectorPort);
  const client = new BrokerClient(`http://guest:guest@${HOST}:${broker.port}/%2F`, {
    reconnect: { maxRetries: 0 },
  });
  let consumer = null;
  let publisher = null;
  try {
    await client.declareQueue(QUEUE, { durable: true });
    consumer = client.consume(QUEUE, (delivery) => delivery.ack(), { prefetch: 100, tag: "heap" });
    publisher = client.publisher();
    const payload = "x".repeat(256);
    const publish = async (count) => {
      for (let i = 0; i < count; i++) {
        await withTimeout(
          publisher.publish("", QUEUE, payload, { delivery_mode: 2 }),
          30_000,
          "confirm",
        );
      }
    };
    await publish(WARMUP);
    await session.call("HeapProfiler.enable");
    await session.call("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const t0 = performance.now();
    await publish(MESSAGES);
    const seconds = (performance.now() - t0) / 1000;
    const answer = await session.call("HeapProfiler.stopSampling");
    if (!answer.result) throw new Error(`stopSampling: ${JSON.stringify(answer.error ?? answer)}`);
    const { total, under } = sum(answer.result.profile);
    const perMessage = (bytes) => fmt(bytes / MESSAGES);
    console.log(
      `${side.padEnd(6)} ${perMessage(total).padStart(7)} B/msg in the isolate; ` +
        READERS.map((r) => `${r} ${perMessage(under[r])}`).join(", ") +
        `; ${fmt(MESSAGES / seconds)} msgs/s one per frame; load average ${os.loadavg()[0].toFixed(2)}`,
    );
    for (const [site, bytes] of top(answer.result.profile, TOP)) {
      console.log(`  ${fmt(bytes / MESSAGES).padStart(6)} B/msg  ${site}`);
    }
  } finally {
    publisher?.close();
    consumer?.close();
    session.close();
    await broker.stop();
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "heap-profile-app-"));
try {
  const ref = git("rev-parse", "--short", beforeFastReader());
  console.log(
    `JS heap allocated per message, ${MESSAGES} messages after ${WARMUP} of warm-up; ` +
      `before = src/ at ${ref}, after = working tree`,
  );
  for (const side of SIDES) {
    const configPath = side === "before" ? appAt(ref, work) : path.join(ROOT, "wrangler.jsonc");
    await measure(side, configPath);
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
