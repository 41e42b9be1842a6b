#!/usr/bin/env node
// amqplib through the AMQP bridge (bridge/) in front of the broker, beside amqplib against
// RabbitMQ on the same machine: confirmed publish and consume with a per-message ack.
//
//   npm run bench:amqp                       # 5,000 messages per phase
//   BENCH_AMQP_MESSAGES=20000 npm run bench:amqp
//   BENCH_RABBITMQ=0 npm run bench:amqp      # without the RabbitMQ comparison
//
// Starts its own broker (bench/lib/broker.mjs: as `npm start` runs it, or through
// `wrangler dev` with BROKER_RUNNER=dev; fresh state, free port),
// the bridge in this process on a free port, and a private RabbitMQ node when rabbitmq-server is
// installed (bench/lib/rabbitmq.mjs), then stops exactly those. Messages are 256 bytes, persistent;
// publishing keeps up to 1,000 unconfirmed; consuming runs at prefetch 100 and acks each
// message. Checks that every message is confirmed and consumed once. Every phase is bounded in
// time. Prints a Markdown table.

import amqp from "amqplib";
import { startBridge } from "../bridge/server.ts";
import { startBroker } from "./lib/broker.mjs";
import { fmt, withTimeout } from "./lib/common.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "./lib/rabbitmq.mjs";

const COUNT = Number(process.env.BENCH_AMQP_MESSAGES ?? "5000");
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 200_000) {
  console.error("BENCH_AMQP_MESSAGES must be an integer in [1, 200000]");
  process.exit(2);
}
const WINDOW = 1000;
const PREFETCH = 100;
const PHASE_TIMEOUT_MS = 300_000;
const PAYLOAD = Buffer.alloc(256, "x");
const QUEUE = "bench.amqp";

async function publishConfirmed(ch) {
  await ch.assertQueue(QUEUE, { durable: true });
  await ch.purgeQueue(QUEUE);
  let sent = 0;
  let confirmed = 0;
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const pump = () => {
      while (sent < COUNT && sent - confirmed < WINDOW) {
        sent += 1;
        ch.sendToQueue(QUEUE, PAYLOAD, { persistent: true }, (error) => {
          if (error) return reject(error);
          confirmed += 1;
          if (confirmed === COUNT) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  return COUNT / ((performance.now() - started) / 1000);
}

async function consumeAcked(ch) {
  await ch.prefetch(PREFETCH);
  let received = 0;
  const started = performance.now();
  let tag;
  await new Promise((resolve, reject) => {
    ch.consume(QUEUE, (msg) => {
      if (msg === null) return reject(new Error("consumer cancelled"));
      ch.ack(msg);
      received += 1;
      if (received === COUNT) resolve();
    })
      .then((ok) => {
        tag = ok.consumerTag;
      })
      .catch(reject);
  });
  const rate = COUNT / ((performance.now() - started) / 1000);
  await ch.cancel(tag);
  return rate;
}

async function measure(name, url) {
  const conn = await withTimeout(amqp.connect(url), 30_000, `connect (${name})`);
  try {
    const pub = await conn.createConfirmChannel();
    const publish = await withTimeout(publishConfirmed(pub), PHASE_TIMEOUT_MS, `publish (${name})`);
    const depth = (await pub.checkQueue(QUEUE)).messageCount;
    if (depth !== COUNT) throw new Error(`${name}: ${depth} messages stored, ${COUNT} confirmed`);
    const sub = await conn.createChannel();
    const consume = await withTimeout(consumeAcked(sub), PHASE_TIMEOUT_MS, `consume (${name})`);
    return { name, publish, consume };
  } finally {
    await conn.close().catch(() => {});
  }
}

const rows = [];
const notes = [];
const broker = await startBroker({ prefix: "bench-amqp-" });
const bridge = await startBridge({ broker: broker.url, port: 0 });
try {
  const how = broker.mode === "dev" ? "wrangler dev" : "as npm start runs it";
  rows.push(
    await measure(
      `amqplib -> bridge -> broker (${how})`,
      `amqp://guest:guest@127.0.0.1:${bridge.port}`,
    ),
  );
} finally {
  await bridge.close();
  await broker.stop();
}
const rabbit = findRabbitMQ();
if (rabbit.skip) notes.push(rabbit.skip);
else {
  const { node } = await startRabbitMQ(rabbit);
  try {
    rows.push(await measure(`amqplib -> RabbitMQ ${node.version}`, node.url));
  } finally {
    await stopRabbitMQ();
  }
}

const base = rows.find((r) => r.name.includes("RabbitMQ"));
const ratio = (value, of) => (of ? `${fmt(value / of, 2)}x` : "n/a");
console.log(
  `\n${COUNT} messages of 256 bytes, persistent; confirms windowed at ${WINDOW}; consume at prefetch ${PREFETCH}, one ack per message\n`,
);
console.log(
  "| client and server | confirmed publish msgs/s | vs RabbitMQ | acked consume msgs/s | vs RabbitMQ |",
);
console.log("|---|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.publish)} | ${ratio(r.publish, base?.publish)} | ${fmt(r.consume)} | ${ratio(r.consume, base?.consume)} |`,
  );
}
for (const note of notes) console.log(`\n${note}`);
