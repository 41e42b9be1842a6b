// Delayed delivery (x-delayed-message), measured against one `npm start`:
//
//   1. Publish rate into a delayed exchange holding nothing when the phase starts, then into one
//      already holding WAITING (100,000) messages, so its held table and index are that large.
//      Each phase publishes for PUBLISH_MS: batches of 100 over POST .../publish-batch at
//      concurrency 2, then single publishes at concurrency 8 (into a second empty exchange for
//      the first row), all with x-delay one hour (nothing is released meanwhile). The two rows
//      should match.
//   2. Release lag: a burst of BURST messages due over a one-second window (their x-delay set so
//      each is due at a known time) released to a queue a WebSocket consumer reads; lag is the
//      time a message reached the consumer minus its due time (p50, p99, max).
//
// Every figure comes with the CPU % of other processes over its phase: a busy machine distorts it.
// Printed and written to BENCHMARKS.md (its section between the markers below; the rest kept).
//
//   node bench/delayed-delivery.mjs                (npm run bench:delayed)
//   BENCH_DELAYED_WAITING=20000 BENCH_DELAYED_MS=2000 BENCH_DELAYED_BURST=5000   a shorter run

import http from "node:http";
import path from "node:path";
import { startBroker } from "./lib/broker.mjs";
import { fmt, percentile } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { runLoad } from "./lib/load.mjs";
import { describeMachine, machineInfo, startCpuMeter, waitForQuiet } from "./lib/machine.mjs";
import { writeSection } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";

const WAITING = Number(process.env.BENCH_DELAYED_WAITING ?? 100_000);
const PUBLISH_MS = Number(process.env.BENCH_DELAYED_MS ?? 5000);
const BURST = Number(process.env.BENCH_DELAYED_BURST ?? 20_000);
const BATCH = 100;
const FILL_BATCH = 1000;
const HOUR_MS = 3600 * 1000;
const MARK_START = "<!-- delayed-delivery-bench:start -->";
const MARK_END = "<!-- delayed-delivery-bench:end -->";
/** The environment overrides of this run, so the reproduce line says how it was run. */
const overrides = ["BENCH_DELAYED_WAITING", "BENCH_DELAYED_MS", "BENCH_DELAYED_BURST"]
  .filter((name) => process.env[name] !== undefined)
  .map((name) => `${name}=${process.env[name]} `)
  .join("");
const AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;

const api = (base, method, path, body) => callApi(base, method, `/api${path}`, body);

const delayedBatch = (n, delayOf, payloadOf = (i) => `m${i} ${"x".repeat(64)}`) => ({
  messages: Array.from({ length: n }, (_, i) => ({
    routing_key: "k",
    payload: payloadOf(i),
    payload_encoding: "string",
    properties: { headers: { "x-delay": delayOf(i) } },
  })),
});

const otherLoad = (cpu) => (cpu.otherPct === null ? "n/a" : `${fmt(cpu.otherPct)}%`);

/** Publishes for PUBLISH_MS, in batches and one by one: msg/s of each, and the CPU meters. */
async function publishRates(broker, server, batchExchange, singleExchange = batchExchange) {
  const batchBody = JSON.stringify(delayedBatch(BATCH, () => HOUR_MS));
  const singleBody = JSON.stringify({
    routing_key: "k",
    payload: `one ${"x".repeat(64)}`,
    payload_encoding: "string",
    properties: { headers: { "x-delay": HOUR_MS } },
  });
  const post = (agent, exchange, suffix, body, messages) =>
    new Promise((resolve) => {
      const req = http.request(
        `${broker.url}/api/exchanges/%2F/${exchange}/${suffix}`,
        {
          method: "POST",
          agent,
          headers: { authorization: AUTH, "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve(res.statusCode === 200 ? { ok: true, messages } : { ok: false, error: text }),
          );
        },
      );
      req.on("error", (e) => resolve({ ok: false, error: e.message }));
      req.end(body);
    });
  const batched = await runLoad({
    concurrency: 2,
    durationMs: PUBLISH_MS,
    one: (agent) => post(agent, batchExchange, "publish-batch", batchBody, BATCH),
    server,
  });
  const single = await runLoad({
    concurrency: 8,
    durationMs: PUBLISH_MS,
    one: (agent) => post(agent, singleExchange, "publish", singleBody, 1),
    server,
  });
  return { batched, single };
}

async function held(base, exchange) {
  return (await api(base, "GET", `/exchanges/%2F/${exchange}`)).messages_delayed;
}

/** Consumes `expected` messages; answers each one's arrival time minus its due time. */
function consumeLags(broker, queue, expected, ticket) {
  const socket = new WebSocket(
    `ws://127.0.0.1:${broker.port}/api/queues/%2F/${queue}/consume?ticket=${ticket}`,
  );
  const lags = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`consumed ${lags.length} of ${expected} in 300 s`)),
      300_000,
    );
    socket.addEventListener("error", reject);
    socket.addEventListener("open", () =>
      socket.send(JSON.stringify({ type: "consume", tag: "lag", prefetch: 1000, batch: true })),
    );
    socket.addEventListener("message", (event) => {
      const now = Date.now();
      const frame = JSON.parse(event.data);
      if (frame.type !== "deliver") return;
      const deliveries = frame.deliveries ?? [frame];
      for (const d of deliveries) lags.push(now - Number(d.payload.split(" ")[0]));
      const last = deliveries[deliveries.length - 1];
      socket.send(JSON.stringify({ type: "ack", delivery_tag: last.delivery_tag, multiple: true }));
      if (lags.length >= expected) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return {
    done: done.then(() => {
      socket.close();
      return lags;
    }),
  };
}

const broker = await startBroker({ prefix: "broker-delayed-delivery-" });
const server = broker.server({});
const rows = [];
let fillSeconds = 0;
try {
  const base = broker.url;
  for (const name of ["delay.empty", "delay.empty-single", "delay.full", "delay.burst"]) {
    await api(base, "PUT", `/exchanges/%2F/${name}`, {
      type: "x-delayed-message",
      arguments: { "x-delayed-type": "direct" },
    });
  }
  await api(base, "PUT", "/queues/%2F/delay.burst-q", {});
  await api(base, "POST", "/bindings/%2F/e/delay.burst/q/delay.burst-q", { routing_key: "k" });

  // 1a. Nothing waiting when each sub-phase starts (each adds what it publishes, an hour away).
  console.log(`other processes before the run: ${fmt(await waitForQuiet({ server }))}%`);
  const empty = await publishRates(broker, server, "delay.empty", "delay.empty-single");
  rows.push(["0", empty]);

  // 1b. WAITING messages held, an hour away, then the same publishes.
  const fill = performance.now();
  for (let sent = 0; sent < WAITING; sent += FILL_BATCH) {
    const n = Math.min(FILL_BATCH, WAITING - sent);
    await api(
      base,
      "POST",
      "/exchanges/%2F/delay.full/publish-batch",
      delayedBatch(n, () => HOUR_MS),
    );
  }
  fillSeconds = (performance.now() - fill) / 1000;
  const waiting = await held(base, "delay.full");
  console.log(
    `filled delay.full with ${waiting} held messages in ${fmt(fillSeconds, 1)} s (${fmt(WAITING / fillSeconds)} msg/s in batches of ${FILL_BATCH})`,
  );
  await waitForQuiet({ server });
  const full = await publishRates(broker, server, "delay.full");
  rows.push([fmt(waiting), full]);

  // 2. A burst due over one second, starting a few seconds after it is published.
  const { ticket } = await api(base, "POST", "/tickets", { vhost: "/" });
  const consumer = consumeLags(broker, "delay.burst-q", BURST, ticket);
  const dueFrom = Date.now() + 3000 + Math.ceil(BURST / 10);
  const publishStart = Date.now();
  for (let sent = 0; sent < BURST; sent += FILL_BATCH) {
    const n = Math.min(FILL_BATCH, BURST - sent);
    const now = Date.now();
    const dues = Array.from({ length: n }, (_, i) => dueFrom + ((sent + i) * 1000) / BURST);
    await api(
      base,
      "POST",
      "/exchanges/%2F/delay.burst/publish-batch",
      delayedBatch(
        n,
        (i) => Math.round(dues[i] - now),
        (i) => `${Math.round(dues[i])} ${"x".repeat(64)}`,
      ),
    );
  }
  const published = Date.now();
  if (published > dueFrom) console.log("warning: the burst was still being published when due");
  const meter = startCpuMeter(server);
  const lags = (await consumer.done).sort((a, b) => a - b);
  const cpu = meter.stop();
  const releasedIn = (Date.now() - dueFrom) / 1000;

  const lines = [
    MARK_START,
    "## Delayed delivery (bench/delayed-delivery.mjs)",
    "",
    `- Date: ${new Date().toISOString()}; ${describeMachine(machineInfo())}; Node ${process.version}`,
    "- The broker as `npm start` runs it, fresh state; exchanges of type `x-delayed-message` (`x-delayed-type` direct).",
    "",
    `Publishing into a delayed exchange (x-delay 1 h, so nothing is released meanwhile), ${PUBLISH_MS} ms per phase:`,
    "",
    "| held in the exchange when the phase starts | batches of 100 (2 at a time): msg/s | p50 ms per batch | single publishes (8 at a time): msg/s | p50 ms | p99 ms | other processes (batches / singles) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const [label, { batched, single }] of rows) {
    lines.push(
      `| ${label} | ${fmt(batched.messages / batched.elapsed)} | ${fmt(percentile(batched.latencies, 50), 1)} | ${fmt(single.messages / single.elapsed)} | ${fmt(percentile(single.latencies, 50), 1)} | ${fmt(percentile(single.latencies, 99), 1)} | ${otherLoad(batched.cpu)} / ${otherLoad(single.cpu)} |`,
    );
    const failures = batched.failures + single.failures;
    if (failures > 0) {
      lines.push(
        `  ${failures} failed: ${[...batched.failureSamples, ...single.failureSamples][0]}`,
      );
    }
  }
  lines.push(
    "",
    `Filling the exchange with ${fmt(WAITING)} held messages (batches of ${FILL_BATCH}): ${fmt(fillSeconds, 1)} s.`,
    "",
    `Release of a burst: ${fmt(BURST)} messages due over 1 s (published in ${fmt((published - publishStart) / 1000, 1)} s, before the first was due), read by one WebSocket consumer (prefetch 1,000); lag = when the consumer got a message minus when it was due:`,
    "",
    "| messages | lag p50 ms | lag p99 ms | lag max ms | last delivered after the first was due | other processes |",
    "| --- | --- | --- | --- | --- | --- |",
    `| ${fmt(lags.length)} | ${fmt(percentile(lags, 50))} | ${fmt(percentile(lags, 99))} | ${fmt(lags[lags.length - 1])} | ${fmt(releasedIn, 2)} s | ${otherLoad(cpu)} |`,
    "",
    `Reproduce: \`${overrides}npm run bench:delayed\``,
    MARK_END,
  );
  const section = lines.join("\n");
  console.log(`\n${section}`);
  writeSection(path.join(ROOT, "BENCHMARKS.md"), MARK_START, MARK_END, section);
} finally {
  await broker.stop();
}
