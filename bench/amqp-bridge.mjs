#!/usr/bin/env node
// amqplib through the AMQP bridge (bridge/) in front of the broker, beside amqplib against
// RabbitMQ on the same machine: confirmed publish and consume with a per-message ack.
//
//   npm run bench:amqp                       # 5,000 messages per phase
//   BENCH_AMQP_MESSAGES=20000 npm run bench:amqp
//   BENCH_RABBITMQ=0 npm run bench:amqp      # without the RabbitMQ comparison
//   BENCH_AMQP_LOOKAHEADS=10,4,1 npm run bench:amqp  # bridge rows per --lookahead (default 10,1)
//
// Starts its own broker (bench/lib/broker.mjs: as `npm start` runs it, or through
// `wrangler dev` with BROKER_RUNNER=dev; fresh state, free port),
// the bridge in this process on a free port, and a private RabbitMQ node when rabbitmq-server is
// installed (bench/lib/rabbitmq.mjs), then stops exactly those. Messages are 256 bytes, persistent;
// publishing keeps up to 1,000 unconfirmed; consuming runs at prefetch 100 and acks each
// message. Checks that every message is confirmed and consumed once. Every phase is bounded in
// time. The machine is shared: the broker, the bridges and RabbitMQ run side by side and each
// phase measures them in rounds, one run each back to back, so compared figures share the
// load of the moment; each run waits (bounded) for a quiet machine and meters the CPU of the
// server (broker or RabbitMQ), of this process (amqplib, and the bridge, which runs in it) and
// of everything else; a disturbed round runs again (up to MAX_ATTEMPTS), keeping the round whose
// worst run was the least disturbed. Prints a Markdown table.

import amqp from "amqplib";
import { startBridge } from "../bridge/server.ts";
import { startBroker } from "./lib/broker.mjs";
import { fmt, MAX_ATTEMPTS, QUIET_BUSY_PCT, withTimeout } from "./lib/common.mjs";
import { startCpuMeter, waitForQuiet } from "./lib/machine.mjs";
import { pidsCpu, treePids } from "./lib/processes.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "./lib/rabbitmq.mjs";

const COUNT = Number(process.env.BENCH_AMQP_MESSAGES ?? "5000");
if (!Number.isInteger(COUNT) || COUNT < 1 || COUNT > 200_000) {
  console.error("BENCH_AMQP_MESSAGES must be an integer in [1, 200000]");
  process.exit(2);
}
const LOOKAHEADS = (process.env.BENCH_AMQP_LOOKAHEADS ?? "10,1").split(",").map(Number);
if (LOOKAHEADS.some((n) => !Number.isInteger(n) || n < 1 || n > 100)) {
  console.error("BENCH_AMQP_LOOKAHEADS must be integers in [1, 100], comma-separated");
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

/** One measured run: `prepare` (not measured), a bounded wait for quiet, then `phase`. */
async function once(target, label, phase, prepare) {
  await prepare();
  await waitForQuiet();
  const meter = startCpuMeter(target.server);
  const rate = await withTimeout(phase(), PHASE_TIMEOUT_MS, `${label} (${target.name})`);
  const cpu = meter.stop();
  const run = {
    rate,
    otherPct: cpu.otherPct,
    serverUs: cpu.serverSeconds === null ? null : (cpu.serverSeconds * 1e6) / COUNT,
    clientUs: (cpu.clientSeconds * 1e6) / COUNT,
  };
  console.log(
    `  ${label} (${target.name}): ${fmt(rate)} msgs/s, CPU us/msg server ${fmt(run.serverUs)} this process ${fmt(run.clientUs)}, others ${fmt(cpu.otherPct)}% of a core`,
  );
  return run;
}

/**
 * Rounds of one run per target, back to back, so that the figures compared were taken under
 * about the same load (the machine is shared); up to MAX_ATTEMPTS rounds while other
 * processes disturbed one, keeping the round whose most disturbed run was the least disturbed.
 */
async function rounds(targets, label, phaseOf, prepareOf = () => async () => {}) {
  let best = null;
  for (let round = 1; round <= MAX_ATTEMPTS; round++) {
    const runs = [];
    for (const t of targets) runs.push(await once(t, label, phaseOf(t), prepareOf(t)));
    const worst = Math.max(...runs.map((r) => r.otherPct ?? 0));
    if (!best || worst < best.worst) best = { runs, worst };
    if (worst <= QUIET_BUSY_PCT) break;
  }
  return best.runs;
}

const rows = [];
const notes = [];
const targets = [];
const bridges = [];
let rabbitStarted = false;
const broker = await startBroker({ prefix: "bench-amqp-" });
try {
  const how = broker.mode === "dev" ? "wrangler dev" : "as npm start runs it";
  const brokerCpu = broker.server({});
  for (const lookahead of LOOKAHEADS) {
    const bridge = await startBridge({ broker: broker.url, port: 0, lookahead });
    bridges.push(bridge);
    targets.push({
      name: `amqplib -> bridge (--lookahead ${lookahead}) -> broker (${how})`,
      url: `amqp://guest:guest@127.0.0.1:${bridge.port}`,
      server: brokerCpu,
    });
  }
  const rabbit = findRabbitMQ();
  if (rabbit.skip) notes.push(rabbit.skip);
  else {
    const { node } = await startRabbitMQ(rabbit);
    rabbitStarted = true;
    targets.push({
      name: `amqplib -> RabbitMQ ${node.version}`,
      url: node.url,
      server: { sample: () => pidsCpu(treePids(node.pid)) },
    });
  }
  for (const t of targets) {
    t.conn = await withTimeout(amqp.connect(t.url), 30_000, `connect (${t.name})`);
    t.pub = await t.conn.createConfirmChannel();
    t.sub = await t.conn.createChannel();
  }
  const publish = await rounds(targets, "publish", (t) => async () => {
    const rate = await publishConfirmed(t.pub);
    const depth = (await t.pub.checkQueue(QUEUE)).messageCount;
    if (depth !== COUNT) throw new Error(`${t.name}: ${depth} messages stored, ${COUNT} confirmed`);
    return rate;
  });
  const consume = await rounds(
    targets,
    "consume",
    (t) => () => consumeAcked(t.sub),
    // A consume run after the first needs the queue filled again (not measured).
    (t) => async () => {
      if ((await t.pub.checkQueue(QUEUE)).messageCount < COUNT) await publishConfirmed(t.pub);
    },
  );
  targets.forEach((t, i) => {
    rows.push({ name: t.name, publish: publish[i], consume: consume[i] });
  });
} finally {
  for (const t of targets) await t.conn?.close().catch(() => {});
  for (const bridge of bridges) await bridge.close();
  await broker.stop();
  if (rabbitStarted) await stopRabbitMQ();
}

const base = rows.find((r) => r.name.includes("RabbitMQ"));
const ratio = (value, of) => (of ? `${fmt(value / of, 2)}x` : "n/a");
const cpu = (run) => `${fmt(run.serverUs)} / ${fmt(run.clientUs)}`;
console.log(
  `\n${COUNT} messages of 256 bytes, persistent; confirms windowed at ${WINDOW}; consume at prefetch ${PREFETCH}, one ack per message. CPU: microseconds per message of the server (broker or RabbitMQ) / of the benchmark process (amqplib, and the bridge when there is one); others: the rest of the machine during the kept run, % of a core.\n`,
);
console.log(
  "| client and server | confirmed publish msgs/s | vs RabbitMQ | CPU us/msg | others | acked consume msgs/s | vs RabbitMQ | CPU us/msg | others |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.name} | ${fmt(r.publish.rate)} | ${ratio(r.publish.rate, base?.publish.rate)} | ${cpu(r.publish)} | ${fmt(r.publish.otherPct)}% | ${fmt(r.consume.rate)} | ${ratio(r.consume.rate, base?.consume.rate)} | ${cpu(r.consume)} | ${fmt(r.consume.otherPct)}% |`,
  );
}
for (const note of notes) console.log(`\n${note}`);
