// What the queue features cost: publish and consume rates on a plain queue against a queue with
// x-message-ttl + x-dead-letter-exchange + x-max-length set (limits high enough that nothing
// expires, drops or dead-letters: the cost of carrying the features, not of using them), and a
// priority queue (x-max-priority 10, random priorities). Each kind is measured ROUNDS times,
// interleaved, against one `npm start`; the median is printed with the broker's CPU per message
// (steadier than a rate on a shared machine) and written to BENCHMARKS.md (section between the
// markers below; the rest of the file is kept).
//
// Publish: batches of 100 through POST .../publish-batch for PUBLISH_MS. Consume: one WebSocket
// consumer (prefetch 500, batched deliver frames, one ack per frame with `multiple`) takes every
// message published, timed from consume to the last delivery.
//
//   node bench/queue-features-cost.mjs      (npm run bench:queue-features)
//   BENCH_FEATURES_MS=2000 BENCH_FEATURES_ROUNDS=1   a shorter run

import path from "node:path";
import { startBroker } from "./lib/broker.mjs";
import { median } from "./lib/common.mjs";
import { describeMachine, machineInfo, startCpuMeter } from "./lib/machine.mjs";
import { writeSection } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";

const MARK_START = "<!-- queue-features-bench:start -->";
const MARK_END = "<!-- queue-features-bench:end -->";

const AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
const PUBLISH_MS = Number(process.env.BENCH_FEATURES_MS ?? 5000);
const ROUNDS = Number(process.env.BENCH_FEATURES_ROUNDS ?? 3);
const BATCH = 100;

async function api(base, method, path, body) {
  const response = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const KINDS = {
  plain: () => ({}),
  "ttl+dlx+max-length": () => ({
    "x-message-ttl": 600_000,
    "x-dead-letter-exchange": "cost.dlx",
    "x-max-length": 10_000_000,
  }),
  "priority (x-max-priority 10)": () => ({ "x-max-priority": 10 }),
};

function batch(queue, kind, offset) {
  return {
    messages: Array.from({ length: BATCH }, (_, i) => ({
      routing_key: queue,
      payload: `message ${offset + i} ${"x".repeat(64)}`,
      payload_encoding: "string",
      properties: kind.startsWith("priority") ? { priority: (offset + i) % 11 } : {},
    })),
  };
}

async function publishFor(base, queue, kind) {
  let sent = 0;
  const start = performance.now();
  while (performance.now() - start < PUBLISH_MS) {
    await api(base, "POST", "/exchanges/%2F/amq.default/publish-batch", batch(queue, kind, sent));
    sent += BATCH;
  }
  return { sent, rate: sent / ((performance.now() - start) / 1000) };
}

async function consumeAll(broker, queue, expected) {
  const { ticket } = await api(broker.url, "POST", "/tickets", { vhost: "/" });
  const socket = new WebSocket(
    `ws://127.0.0.1:${broker.port}/api/queues/%2F/${queue}/consume?ticket=${ticket}`,
  );
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", reject);
  });
  let received = 0;
  const start = performance.now();
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`consumed ${received} of ${expected}`)),
      300_000,
    );
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type !== "deliver") return;
      const deliveries = frame.deliveries ?? [frame];
      received += deliveries.length;
      const last = deliveries[deliveries.length - 1];
      socket.send(JSON.stringify({ type: "ack", delivery_tag: last.delivery_tag, multiple: true }));
      if (received >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  socket.send(JSON.stringify({ type: "consume", tag: "cost", prefetch: 500, batch: true }));
  await done;
  const seconds = (performance.now() - start) / 1000;
  socket.close();
  return expected / seconds;
}

const broker = await startBroker({ prefix: "broker-queue-features-cost-" });
const server = broker.server({});
/** Runs `phase`, answering its result with the broker's CPU µs per message and others' load. */
async function metered(phase, messages) {
  const meter = startCpuMeter(server);
  const result = await phase();
  const cpu = meter.stop();
  const count = typeof messages === "function" ? messages(result) : messages;
  return {
    result,
    cpuUs: cpu.serverSeconds === null ? null : (cpu.serverSeconds * 1e6) / count,
    otherPct: cpu.otherPct,
  };
}
const results = Object.fromEntries(
  Object.keys(KINDS).map((k) => [k, { pub: [], con: [], pubCpu: [], conCpu: [], other: [] }]),
);
try {
  await api(broker.url, "PUT", "/exchanges/%2F/cost.dlx", { type: "fanout" });
  // Warm-up, not measured: the Worker's first requests and the first queue object's start.
  await api(broker.url, "PUT", "/queues/%2F/cost.warm-up", {});
  for (let i = 0; i < 20; i++) {
    await api(
      broker.url,
      "POST",
      "/exchanges/%2F/amq.default/publish-batch",
      batch("cost.warm-up", "plain", i),
    );
  }
  await consumeAll(broker, "cost.warm-up", 20 * BATCH);
  await api(broker.url, "DELETE", "/queues/%2F/cost.warm-up");
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, args] of Object.entries(KINDS)) {
      const queue = `cost.${round}.${Object.keys(KINDS).indexOf(kind)}`;
      await api(broker.url, "PUT", `/queues/%2F/${queue}`, { arguments: args() });
      const pub = await metered(
        () => publishFor(broker.url, queue, kind),
        (r) => r.sent,
      );
      const { sent, rate } = pub.result;
      const con = await metered(() => consumeAll(broker, queue, sent), sent);
      const consumed = con.result;
      results[kind].pub.push(rate);
      results[kind].con.push(consumed);
      results[kind].pubCpu.push(pub.cpuUs);
      results[kind].conCpu.push(con.cpuUs);
      results[kind].other.push(pub.otherPct, con.otherPct);
      await api(broker.url, "DELETE", `/queues/%2F/${queue}`);
      console.log(
        `round ${round + 1} ${kind}: publish ${Math.round(rate)} msg/s, consume ${Math.round(consumed)} msg/s (${sent} messages)`,
      );
    }
  }
} finally {
  await broker.stop();
}
const fmt = (n) => (n === null || Number.isNaN(n) ? "–" : Math.round(n).toLocaleString("en-US"));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : "–");
const known = (values) => values.filter((v) => v !== null);
const rows = Object.entries(results).map(([kind, r]) => ({
  kind,
  pub: median(r.pub),
  con: median(r.con),
  pubCpu: median(known(r.pubCpu)),
  conCpu: median(known(r.conCpu)),
  other: Math.max(...known(r.other), 0),
}));
const plain = rows[0];
const table = [
  "| queue | publish msgs/s | vs plain | broker CPU µs/msg | consume msgs/s | vs plain | broker CPU µs/msg | other processes, max (% of a core) |",
  "|---|---:|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.kind} | ${fmt(r.pub)} | ${ratio(r.pub, plain.pub)} | ${fmt(r.pubCpu)} | ${fmt(r.con)} | ${ratio(r.con, plain.con)} | ${fmt(r.conCpu)} | ${fmt(r.other)} |`,
  ),
];
console.log(`\nmedian of ${ROUNDS} (batches of ${BATCH} over HTTP; one WebSocket consumer):`);
console.log(table.join("\n"));
const lengthNote =
  process.env.BENCH_FEATURES_MS || process.env.BENCH_FEATURES_ROUNDS
    ? `BENCH_FEATURES_MS=${PUBLISH_MS} BENCH_FEATURES_ROUNDS=${ROUNDS} `
    : "";
writeSection(
  path.join(ROOT, "BENCHMARKS.md"),
  MARK_START,
  MARK_END,
  [
    MARK_START,
    "## What the queue features cost (bench/queue-features-cost.mjs)",
    "",
    `- Date: ${new Date().toISOString()}; ${describeMachine(machineInfo())}; Node ${process.version}`,
    `- The broker as \`npm start\` runs it, fresh state. Each kind measured ${ROUNDS} times, interleaved; medians. Publish: batches of ${BATCH} messages over \`POST .../publish-batch\` for ${PUBLISH_MS / 1000} s. Consume: one WebSocket consumer (prefetch 500, batched deliver frames, one \`multiple\` ack per frame) takes everything published. The TTL, dead-letter exchange and max-length are set high enough that nothing expires, drops or dead-letters: this is the cost of carrying the features, not of using them. Priorities are 0-10, spread evenly.`,
    "- Broker CPU is the user+system time of the broker's processes during the phase, per message: steadier than a rate when other processes share the machine.",
    "",
    ...table,
    "",
    `Reproduce: \`${lengthNote}npm run bench:queue-features\``,
    MARK_END,
  ].join("\n"),
);
