#!/usr/bin/env node
// What reading one published message costs the isolate (issue 9): the JS heap it allocates and
// the time it takes, from a publish frame's text to the message the broker routes, for the code
// before the fast publish reader (src/protocol/publish-fast-read.ts) and the working tree's. The
// isolate's mark-compact pauses, the publish->delivered latency tail, follow its allocation rate.
//
// Each side runs what a producer socket runs per frame (parsePublishFrame, then toMessage per
// entry, src/api/producer-session.ts) or the HTTP publish route per body (JSON.parse, toMessage),
// on 256-byte messages with properties {delivery_mode: 2} or {content_type, message_id,
// timestamp}. "before" is src/ of BENCH_BEFORE_REF (default: the commit before the fast reader was
// added), taken with `git archive`; both sides are bundled with esbuild (src/ imports without
// extensions, which Node's type stripping does not resolve).
//
// Bytes per message: the growth of the used heap over a loop no GC interrupts (young generation
// made large with --min/--max-semi-space-size; a run during which a GC happened is refused).
// ns per message: the median of several timed loops. The first figure, JSON.parse alone, is the
// floor of both sides. No broker, no network.
//
//   flock /tmp/broker-bench.lock node_modules/.bin/node bench/publish-parse-alloc.mjs
//   BENCH_BEFORE_REF=main BENCH_MESSAGES=2000 node_modules/.bin/node bench/publish-parse-alloc.mjs
//
// The script starts itself again with the V8 flags it needs.

import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import { fmt, median, numberEnv } from "./lib/common.mjs";
import { beforeFastReader, git } from "./lib/fast-reader-ref.mjs";
import { ROOT } from "./lib/root.mjs";

const FLAGS = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];
const CHILD = process.env.PUBLISH_PARSE_ALLOC_CHILD === "1";

if (!CHILD) {
  const result = spawnSync(process.execPath, [...FLAGS, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, PUBLISH_PARSE_ALLOC_CHILD: "1" },
  });
  process.exit(result.status ?? 1);
}

const MESSAGES = numberEnv("BENCH_MESSAGES", 4000, 100, 8000);
const TIMED_ROUNDS = numberEnv("BENCH_ROUNDS", 7, 1, 50);

const { build } = await import("esbuild");

/** One side's code, bundled: what the bench calls, from `srcDir`. */
async function bundle(srcDir, outFile) {
  const entry = `
    export { parsePublishFrame } from ${JSON.stringify(path.join(srcDir, "protocol/frames.ts"))};
    export * as frames from ${JSON.stringify(path.join(srcDir, "protocol/frames.ts"))};
    export { toMessage } from ${JSON.stringify(path.join(srcDir, "api/message-input.ts"))};
    export { loadConfig, LIMITS } from ${JSON.stringify(path.join(srcDir, "config.ts"))};
  `;
  await build({
    stdin: { contents: entry, resolveDir: ROOT, loader: "ts" },
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    nodePaths: [path.join(ROOT, "node_modules")],
    outfile: outFile,
    logLevel: "error",
  });
  return import(pathToFileURL(outFile).href);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "publish-parse-alloc-"));
const ref = beforeFastReader();
const refName = git("rev-parse", "--short", ref);
const beforeSrc = path.join(work, "before");
fs.mkdirSync(beforeSrc);
execFileSync("sh", ["-c", `git archive ${refName} src | tar -x -C ${JSON.stringify(beforeSrc)}`], {
  cwd: ROOT,
});
const sides = {
  before: await bundle(path.join(beforeSrc, "src"), path.join(work, "before.mjs")),
  after: await bundle(path.join(ROOT, "src"), path.join(work, "after.mjs")),
};
fs.rmSync(work, { recursive: true, force: true });

const PAYLOAD = "x".repeat(256);
const PROPERTY_SETS = {
  "{delivery_mode:2}": { delivery_mode: 2 },
  "{content_type,message_id,timestamp}": {
    content_type: "application/json",
    message_id: "m-00000001",
    timestamp: 1_700_000_000,
  },
};

/** The texts of one scenario, distinct per message as a producer's are (its seq). */
function texts(shape, properties) {
  const entry = (seq) => ({
    seq,
    exchange: "orders",
    routing_key: "order.created",
    properties,
    payload: PAYLOAD,
    payload_encoding: "string",
  });
  const out = [];
  for (let i = 0; i < MESSAGES; i++) {
    const seq = i + 1;
    if (shape === "list of 1")
      out.push(JSON.stringify({ type: "publish", messages: [entry(seq)] }));
    if (shape === "single") out.push(JSON.stringify({ type: "publish", ...entry(seq) }));
    if (shape === "HTTP body") {
      const { seq: _seq, exchange: _exchange, ...body } = entry(seq);
      out.push(JSON.stringify(body));
    }
  }
  if (shape === "list of 100") {
    for (let i = 0; i < MESSAGES; i += 100) {
      const entries = Array.from({ length: 100 }, (_, j) => entry(i + j + 1));
      out.push(JSON.stringify({ type: "publish", messages: entries }));
    }
  }
  return out;
}

/** What a producer socket (or the HTTP route) does with each text; the count of messages made. */
function reader(side, shape) {
  const config = side.loadConfig({});
  const limit = Math.ceil(config.maxMessageBytes * 1.4) + side.LIMITS.maxPropertiesBytes + 4096;
  // The socket's defaults for an entry: the working tree's helper, or before it the spread.
  const asBody =
    side.frames.entryAsPublishBody ??
    ((entry) => ({ properties: {}, payload_encoding: "string", ...entry }));
  if (shape === "HTTP body") {
    return (text) => {
      side.toMessage("orders", JSON.parse(text), config);
      return 1;
    };
  }
  return (text) => {
    const parsed = side.parsePublishFrame(text, limit);
    if (!parsed.ok) throw new Error(`${parsed.code}: ${parsed.reason}`);
    for (const entry of parsed.frame) side.toMessage(entry.exchange, asBody(entry), config);
    return parsed.frame.length;
  };
}

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ["gc"] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

/** Heap bytes per message over one loop no GC interrupted (retried a few times), or null. */
async function bytesPerMessage(read, inputs) {
  for (let attempt = 0; attempt < 5; attempt++) {
    globalThis.gc();
    await settle();
    const gcsBefore = gcs;
    const before = v8.getHeapStatistics().used_heap_size;
    let count = 0;
    for (const text of inputs) count += read(text);
    const after = v8.getHeapStatistics().used_heap_size;
    await settle();
    if (gcs === gcsBefore) return (after - before) / count;
  }
  return null;
}

function nsPerMessage(read, inputs) {
  const samples = [];
  for (let round = 0; round < TIMED_ROUNDS; round++) {
    const t0 = process.hrtime.bigint();
    let count = 0;
    for (const text of inputs) count += read(text);
    samples.push(Number(process.hrtime.bigint() - t0) / count);
  }
  return median(samples);
}

console.log(
  `publish parse cost per message: before = src/ at ${refName}, after = working tree; ` +
    `${MESSAGES} messages of ${PAYLOAD.length} bytes per loop; node ${process.version}; ` +
    `load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs`,
);
const header = [
  "shape",
  "properties",
  "JSON.parse B/msg",
  "before B/msg",
  "after B/msg",
  "before ns/msg",
  "after ns/msg",
];
const rows = [header];
for (const shape of ["list of 1", "single", "list of 100", "HTTP body"]) {
  for (const [name, properties] of Object.entries(PROPERTY_SETS)) {
    const inputs = texts(shape, properties);
    const row = [shape, name];
    // The floor neither side can go below: the parsed JSON itself.
    const parseOnly = (text) => {
      const value = JSON.parse(text);
      return Array.isArray(value.messages) ? value.messages.length : 1;
    };
    for (let i = 0; i < 3; i++) for (const text of inputs) parseOnly(text);
    row.push(fmt(await bytesPerMessage(parseOnly, inputs)));
    const figures = {};
    for (const [sideName, side] of Object.entries(sides)) {
      const read = reader(side, shape);
      for (let i = 0; i < 3; i++) for (const text of inputs) read(text); // warm up the JIT
      figures[sideName] = {
        bytes: await bytesPerMessage(read, inputs),
        ns: nsPerMessage(read, inputs),
      };
    }
    row.push(fmt(figures.before.bytes), fmt(figures.after.bytes));
    row.push(fmt(figures.before.ns), fmt(figures.after.ns));
    rows.push(row);
  }
}
const widths = header.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const row of rows)
  console.log(row.map((cell, i) => String(cell).padEnd(widths[i])).join("  "));
console.log('("–": a GC ran during every attempted loop; lower BENCH_MESSAGES)');
