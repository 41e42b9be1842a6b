#!/usr/bin/env node
// Stream benchmark (docs/streams.md), beside RabbitMQ 3.10 stream queues through amqplib:
//
//   node bench/streams.mjs                 # npm run bench runs it too; npm run bench:streams alone
//   BENCH_STREAM_SECONDS=5                 # produce phases (default 8 s each)
//   BENCH_STREAM_MESSAGES=1000000          # the stream consumed from `first` (default 1,000,000)
//   BENCH_RABBITMQ=0                       # without the RabbitMQ comparison
//   BENCH_STREAM_OUTPUT=file               # where the report goes (default BENCHMARKS-streams.md)
//
// Scenarios, each bounded in time and count, all traffic to 127.0.0.1:
//   1. produce to one partition: batches of 1,000 x 100-byte messages on 8 producer WebSockets,
//      one batch in flight on each, each confirmed (produce_ok) once stored
//   2. produce to 8 partitions: each batch to one partition (Kafka's sticky batches), and keyed
//      with every batch split over the partitions
//   3. consume from `first` a stream of BENCH_STREAM_MESSAGES (WebSocket reader, credit 10,000)
//   4. a group of 4 members: time until the other 3 own every partition after one leaves, and
//      after one goes silent (session timeout 3 s)
// RabbitMQ: the same produce (confirm channel, 8 x 1,000 unconfirmed at a time) to one stream
// queue and to 8 stream queues in turn; consume with x-stream-offset first, prefetch 10,000, acks.
// Every message consumed is counted and checked; the script exits non-zero on a failed check.

import fs from "node:fs";
import path from "node:path";
import { ROOT, startBroker } from "./lib/broker.mjs";
import { AUTH, fmt, sleep, withTimeout } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "./lib/rabbitmq.mjs";

const SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 8);
const MESSAGES = Number(process.env.BENCH_STREAM_MESSAGES ?? 1_000_000);
const OUTPUT = process.env.BENCH_STREAM_OUTPUT ?? path.join(ROOT, "BENCHMARKS-streams.md");
const BATCH = 1000;
const IN_FLIGHT = 8;
const PAYLOAD = "x".repeat(100);
const MAX_PHASE_MS = 10 * 60_000;
if (!(SECONDS > 0 && SECONDS <= 120) || !(MESSAGES >= 1000 && MESSAGES <= 5_000_000)) {
  console.error(
    "BENCH_STREAM_SECONDS must be in (0, 120], BENCH_STREAM_MESSAGES in [1000, 5000000]",
  );
  process.exit(2);
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
};

// ------------------------------------------------------------------------------------------
// workers-broker

/** Opens a topic producer WebSocket (bounded wait). */
async function openProducer(base, topic) {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/topics/%2F/${topic}/producer`, {
    headers: { Authorization: AUTH },
  });
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.addEventListener("open", resolve, { once: true });
      ws.addEventListener("error", () => reject(new Error("producer WebSocket error")), {
        once: true,
      });
    }),
    15_000,
    "producer WebSocket open",
  );
  let waiting = null;
  ws.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data));
    const w = waiting;
    waiting = null;
    w?.(frame);
  });
  return {
    /** Sends one produce frame and waits for its answer (one frame in flight per connection). */
    send: (frame) =>
      withTimeout(
        new Promise((resolve) => {
          waiting = resolve;
          ws.send(JSON.stringify(frame));
        }),
        60_000,
        "produce_ok",
      ),
    close: () => ws.close(),
  };
}

/**
 * Produces batches for `seconds` (or until `limit` messages) on IN_FLIGHT producer WebSockets,
 * one batch in flight on each; every batch is confirmed before the next is sent on it.
 */
async function brokerProduce(
  base,
  topic,
  { seconds, limit = Number.POSITIVE_INFINITY, keyed = false, sticky = 0 },
) {
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  let batches = 0;
  const producers = await Promise.all(
    Array.from({ length: IN_FLIGHT }, () => openProducer(base, topic)),
  );
  const worker = async (producer) => {
    while (Date.now() < deadline && sent < limit) {
      const n = Math.min(BATCH, limit - sent);
      sent += n;
      // sticky: Kafka's partitioner for keyless records sends a whole batch to one partition.
      const partition = sticky > 0 ? batches % sticky : undefined;
      const messages = Array.from({ length: n }, (_, i) => ({
        key: keyed ? `key-${(batches * BATCH + i) % 10_000}` : null,
        ...(partition === undefined ? {} : { partition }),
        payload: PAYLOAD,
      }));
      batches++;
      const answer = await producer.send({ type: "produce", seq: batches, messages });
      check(
        answer.type === "produce_ok" &&
          answer.results.length === n &&
          answer.results.every((r) => r.offset >= 0),
        `produce answered ${JSON.stringify(answer).slice(0, 200)}`,
      );
    }
  };
  const started = Date.now();
  await Promise.all(producers.map(worker));
  const ms = Date.now() - started;
  for (const p of producers) p.close();
  return { messages: sent, ms, rate: (sent / ms) * 1000 };
}

/** Reads a whole stream from `first` on a WebSocket with credit; checks offsets are dense. */
async function brokerConsume(base, stream, expected) {
  const ws = new WebSocket(`${base.replace("http", "ws")}/api/streams/%2F/${stream}/consume`, {
    headers: { Authorization: AUTH },
  });
  const started = Date.now();
  let received = 0;
  let nextOffset = 0;
  let frames = 0;
  await withTimeout(
    new Promise((resolve, reject) => {
      ws.addEventListener("open", () => {
        ws.send(JSON.stringify({ type: "subscribe", offset: "first", credit: 10_000 }));
      });
      ws.addEventListener("message", (event) => {
        const frame = JSON.parse(String(event.data));
        if (frame.type === "error") reject(new Error(`${frame.code}: ${frame.reason}`));
        if (frame.type !== "deliver") return;
        frames++;
        for (const m of frame.messages) {
          if (m.offset !== nextOffset)
            check(false, `offset ${m.offset} where ${nextOffset} was due`);
          nextOffset = m.offset + 1;
        }
        received += frame.messages.length;
        ws.send(JSON.stringify({ type: "credit", credit: frame.messages.length }));
        if (received >= expected) resolve();
      });
      ws.addEventListener("error", () => reject(new Error("WebSocket error")));
      ws.addEventListener("close", (event) =>
        reject(new Error(`WebSocket closed after ${received} messages (${event.code})`)),
      );
    }),
    MAX_PHASE_MS,
    "stream consume",
  );
  const ms = Date.now() - started;
  ws.close();
  check(received === expected, `consumed ${received} of ${expected}`);
  return { messages: received, ms, rate: (received / ms) * 1000, frames };
}

/** A group member as a client runs it over HTTP: heartbeats every interval. */
function groupMember(base, group, topic, sessionMs) {
  const m = { id: undefined, epoch: 0, partitions: [], beating: true, timer: null };
  m.beat = async () => {
    const answer = await callApi(base, "POST", `/api/groups/%2F/${group}/heartbeat`, {
      ...(m.id ? { member_id: m.id } : {}),
      member_epoch: m.epoch,
      ...(m.epoch === 0 ? { topics: [topic] } : {}),
      session_timeout_ms: sessionMs,
    });
    m.id = answer.member_id;
    m.epoch = answer.member_epoch;
    m.partitions = answer.assignment.map((a) => a.partition);
    return answer;
  };
  m.start = () => {
    const loop = async () => {
      if (!m.beating) return;
      await m.beat().catch(() => {});
      m.timer = setTimeout(loop, 1000);
    };
    return loop();
  };
  m.silence = () => {
    m.beating = false;
    clearTimeout(m.timer);
  };
  m.leave = async () => {
    m.silence();
    await callApi(base, "POST", `/api/groups/%2F/${group}/heartbeat`, {
      member_id: m.id,
      member_epoch: -1,
    });
  };
  return m;
}

async function untilOwned(members, partitions, limitMs) {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    const owned = members.flatMap((m) => m.partitions);
    if (owned.length === partitions && new Set(owned).size === partitions)
      return Date.now() - started;
    await sleep(20);
  }
  return null;
}

async function brokerRebalance(base) {
  await callApi(base, "PUT", "/api/topics/%2F/bench-group-topic", { partitions: 8 });
  const results = {};
  for (const [name, sessionMs] of [
    ["leave", 30_000],
    ["silent", 3000],
  ]) {
    const group = `bench-group-${name}`;
    const members = [1, 2, 3, 4].map(() =>
      groupMember(base, group, "bench-group-topic", sessionMs),
    );
    for (const m of members) await m.start();
    const settled = await untilOwned(members, 8, 15_000);
    check(settled !== null, `${name}: the group of 4 did not settle`);
    await sleep(1500);
    const [gone, ...rest] = members;
    gone.partitions = [];
    const t0 = Date.now();
    if (name === "leave") await gone.leave();
    else gone.silence();
    const ms = await untilOwned(rest, 8, 20_000);
    check(ms !== null, `${name}: the 3 members did not take over`);
    results[name] = ms === null ? null : Date.now() - t0;
    for (const m of rest) await m.leave();
  }
  return results;
}

async function runBroker() {
  const broker = await startBroker({ prefix: "broker-stream-bench-" });
  try {
    const base = broker.url;
    await callApi(base, "PUT", "/api/topics/%2F/bench-one", { partitions: 1 });
    await callApi(base, "PUT", "/api/topics/%2F/bench-eight", { partitions: 8 });
    await callApi(base, "PUT", "/api/topics/%2F/bench-log", { partitions: 1 });
    console.log("workers-broker: produce to 1 partition ...");
    const one = await brokerProduce(base, "bench-one", { seconds: SECONDS, sticky: 1 });
    console.log(`  ${fmt(one.rate)} msg/s`);
    console.log("workers-broker: produce to 8 partitions, a batch per partition ...");
    const eight = await brokerProduce(base, "bench-eight", { seconds: SECONDS, sticky: 8 });
    console.log(`  ${fmt(eight.rate)} msg/s`);
    console.log("workers-broker: produce to 8 partitions, keys spread within each batch ...");
    const eightKeyed = await brokerProduce(base, "bench-eight", { seconds: SECONDS, keyed: true });
    console.log(`  ${fmt(eightKeyed.rate)} msg/s`);
    console.log(`workers-broker: filling a ${fmt(MESSAGES)}-message stream ...`);
    const fill = await brokerProduce(base, "bench-log", {
      seconds: MAX_PHASE_MS / 1000,
      limit: MESSAGES,
      keyed: false,
    });
    console.log(`  ${fmt(fill.rate)} msg/s`);
    console.log("workers-broker: consume from first ...");
    const consume = await brokerConsume(base, "bench-log-0", MESSAGES);
    console.log(`  ${fmt(consume.rate)} msg/s in ${fmt(consume.frames)} frames`);
    console.log("workers-broker: group of 4, rebalance ...");
    const rebalance = await brokerRebalance(base);
    console.log(
      `  after a leave ${rebalance.leave} ms, after a silent failure ${rebalance.silent} ms`,
    );
    return { one, eight, eightKeyed, consume, rebalance };
  } finally {
    await broker.stop();
  }
}

// ------------------------------------------------------------------------------------------
// RabbitMQ 3.10 stream queues through amqplib

async function rabbitProduce(conn, queues, seconds, limit = Number.POSITIVE_INFINITY) {
  const ch = await conn.createConfirmChannel();
  const deadline = Date.now() + seconds * 1000;
  const body = Buffer.from(PAYLOAD);
  let sent = 0;
  const started = Date.now();
  while (Date.now() < deadline && sent < limit) {
    const n = Math.min(BATCH * IN_FLIGHT, limit - sent);
    for (let i = 0; i < n; i++) {
      const q = queues[(sent + i) % queues.length];
      ch.sendToQueue(q, body, { persistent: true });
    }
    sent += n;
    await ch.waitForConfirms();
  }
  const ms = Date.now() - started;
  await ch.close();
  return { messages: sent, ms, rate: (sent / ms) * 1000 };
}

async function rabbitConsume(conn, queue, expected) {
  const ch = await conn.createChannel();
  await ch.prefetch(10_000);
  let received = 0;
  const started = Date.now();
  await withTimeout(
    new Promise((resolve) => {
      ch.consume(
        queue,
        (msg) => {
          if (!msg) return;
          received++;
          if (received % 1000 === 0 || received >= expected) ch.ack(msg, true);
          if (received >= expected) resolve();
        },
        { noAck: false, arguments: { "x-stream-offset": "first" } },
      );
    }),
    MAX_PHASE_MS,
    "RabbitMQ stream consume",
  );
  const ms = Date.now() - started;
  await ch.close();
  check(received === expected, `RabbitMQ consumed ${received} of ${expected}`);
  return { messages: received, ms, rate: (received / ms) * 1000 };
}

async function runRabbit() {
  const found = findRabbitMQ();
  if (found.skip) return { skip: found.skip };
  const { node } = await startRabbitMQ(found);
  try {
    const conn = await node.amqp.connect(node.url);
    const ch = await conn.createChannel();
    const declare = (q) =>
      ch.assertQueue(q, { durable: true, arguments: { "x-queue-type": "stream" } });
    await declare("bench-one");
    const eight = Array.from({ length: 8 }, (_, i) => `bench-eight-${i}`);
    for (const q of eight) await declare(q);
    await declare("bench-log");
    console.log("RabbitMQ: produce to 1 stream ...");
    const one = await rabbitProduce(conn, ["bench-one"], SECONDS);
    console.log(`  ${fmt(one.rate)} msg/s`);
    console.log("RabbitMQ: produce to 8 streams ...");
    const eightR = await rabbitProduce(conn, eight, SECONDS);
    console.log(`  ${fmt(eightR.rate)} msg/s`);
    console.log(`RabbitMQ: filling a ${fmt(MESSAGES)}-message stream ...`);
    await rabbitProduce(conn, ["bench-log"], MAX_PHASE_MS / 1000, MESSAGES);
    console.log("RabbitMQ: consume from first ...");
    const consume = await rabbitConsume(conn, "bench-log", MESSAGES);
    console.log(`  ${fmt(consume.rate)} msg/s`);
    await ch.close();
    await conn.close();
    return { one, eight: eightR, consume, version: node.version };
  } finally {
    await stopRabbitMQ();
  }
}

// ------------------------------------------------------------------------------------------

const broker = await runBroker();
const rabbit = await runRabbit().catch((error) => ({
  skip: `RabbitMQ run failed: ${error.message}`,
}));
const r = (x) => (x ? `${fmt(x.rate)} msg/s` : "-");
const ratio = (a, b) => (a && b ? `${(a.rate / b.rate).toFixed(2)}x` : "-");
const lines = [
  "# Stream benchmarks",
  "",
  `\`node bench/streams.mjs\` (part of \`npm run bench\`), ${new Date().toISOString()}, ${SECONDS} s per produce phase,`,
  `${fmt(MESSAGES)}-message stream consumed; workers-broker through \`wrangler dev\`, RabbitMQ ${rabbit.version ?? "3.10"} via amqplib,`,
  "both on this machine (2 cores shared with other work): compare within a run, not across runs.",
  "",
  "| scenario | workers-broker | RabbitMQ 3.10 streams | broker / RabbitMQ |",
  "|---|---|---|---|",
  `| produce, 1 partition (1,000-message batches, ${IN_FLIGHT} in flight, confirmed; broker: producer WebSockets) | ${r(broker.one)} | ${r(rabbit.one)} | ${ratio(broker.one, rabbit.one)} |`,
  `| produce, 8 partitions (each batch to one partition, as Kafka's sticky partitioner) | ${r(broker.eight)} | ${r(rabbit.eight)} | ${ratio(broker.eight, rabbit.eight)} |`,
  `| produce, 8 partitions (10,000 keys, each batch split over the partitions) | ${r(broker.eightKeyed)} | - | |`,
  `| consume from first, ${fmt(MESSAGES)} messages | ${r(broker.consume)} | ${r(rabbit.consume)} | ${ratio(broker.consume, rabbit.consume)} |`,
  `| group of 4: rebalance after a member leaves | ${broker.rebalance.leave ?? "failed"} ms | - | |`,
  `| group of 4: rebalance after a silent member (session timeout 3,000 ms) | ${broker.rebalance.silent ?? "failed"} ms | - | |`,
  "",
  rabbit.skip ? `RabbitMQ: ${rabbit.skip}` : "",
  failures.length
    ? `Failed checks: ${failures.join("; ")}`
    : "Every check held (offsets dense, every message consumed once).",
  "",
];
fs.writeFileSync(OUTPUT, lines.join("\n"));
console.log(lines.join("\n"));
process.exit(failures.length ? 1 : 0);
