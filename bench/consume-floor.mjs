#!/usr/bin/env node
// Where the time of consuming at prefetch 1 goes (issue 9): over one consumer socket of the
// broker run as `npm start` (or `wrangler dev`) runs it, each a strict round trip, one at a time:
//
//   ping      the keep-alive frame, answered by the runtime without waking the queue object:
//             the socket path (client, Worker, object's socket) and nothing of ours
//   barrier   a cancel of an unknown consumer tag: the object wakes, parses a frame, answers;
//             no storage (the platform's floor for a frame our code handles)
//   raw       consume at prefetch 1 with bare frames (no client library): deliver -> ack
//   client    the same through client/ (BrokerClient, one `delivery.ack()` per delivery)
//
// with the broker's and this process's CPU per round trip. Not part of `npm run bench`'s report;
// a tool for looking at one path.
//
//   node bench/consume-floor.mjs                    # npm start, 3 s per phase
//   BROKER_RUNNER=dev BENCH_SECONDS=5 node bench/consume-floor.mjs
//   FLOOR_PHASES=raw,client node bench/consume-floor.mjs
//
// Wrap it in `flock /tmp/broker-bench.lock` like every benchmark. Traffic to 127.0.0.1 only,
// every phase bounded in time and count.

import { BrokerClient } from "../client/index.ts";
import { startBroker } from "./lib/broker.mjs";
import { AUTH, fmt, HOST, numberEnv, withTimeout } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { startCpuMeter, waitForQuiet } from "./lib/machine.mjs";

const SECONDS = numberEnv("BENCH_SECONDS", 3, 0.5, 60);
const PHASES = (process.env.FLOOR_PHASES || "ping,barrier,raw,client").split(",");
const MAX_ROUND_TRIPS = 200_000;
const QUEUE = "bench.floor";
const V = "%2F";
const ROLES = { worker: "workerd", proxy: "workerd (proxy)", host: "node (host)" };

const broker = await startBroker({ mode: process.env.BROKER_RUNNER || "start", prefix: "floor-" });
const server = broker.server(ROLES);
const origin = `http://${HOST}:${broker.port}`;
const api = (method, path, body, expect) =>
  callApi(origin, method, path, body, { expect, authorization: AUTH, timeoutMs: 60_000 });

function openSocket() {
  const ws = new WebSocket(`ws://${HOST}:${broker.port}/api/queues/${V}/${QUEUE}/consume`, {
    headers: { Authorization: AUTH },
  });
  return withTimeout(
    new Promise((resolve, reject) => {
      ws.addEventListener("open", () => resolve(ws));
      ws.addEventListener("error", () => reject(new Error("socket did not open")));
    }),
    15_000,
    "consumer socket",
  );
}

async function fill(count) {
  const payload = "x".repeat(256);
  for (let left = count; left > 0; left -= 1000) {
    const n = Math.min(1000, left);
    await api(
      "POST",
      `/api/exchanges/${V}/amq.default/publish-batch`,
      {
        messages: Array.from({ length: n }, () => ({
          properties: { delivery_mode: 2 },
          routing_key: QUEUE,
          payload,
          payload_encoding: "string",
        })),
      },
      [200],
    );
  }
}

/** Runs `step(done)` round trips for SECONDS; answers the rate and CPU per round trip. */
async function phase(name, start) {
  await waitForQuiet({ server });
  const meter = startCpuMeter(server);
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  let n = 0;
  await new Promise((resolve, reject) => {
    const next = () => {
      n++;
      return n < MAX_ROUND_TRIPS && performance.now() < deadline;
    };
    start(next, resolve, reject);
  });
  const cpu = meter.stop();
  const elapsed = (performance.now() - t0) / 1000;
  const us = (s) => (s === null ? "–" : fmt((s * 1e6) / n));
  console.log(
    `${name.padEnd(8)} ${fmt(n / elapsed).padStart(7)} round trips/s, ${fmt((elapsed * 1e6) / n).padStart(5)} µs each; ` +
      `CPU per round trip: broker ${us(cpu.serverSeconds)} µs ` +
      `(${Object.entries(cpu.serverSecondsByRole)
        .map(([k, v]) => `${k} ${us(v)}`)
        .join(", ")}), this process ${us(cpu.clientSeconds)} µs; other load ${fmt(cpu.otherPct)}%`,
  );
}

try {
  await api("PUT", `/api/queues/${V}/${QUEUE}`, { durable: true }, [201, 204]);
  console.log(`broker (${broker.mode}) on ${broker.port}, ${SECONDS} s per phase`);

  if (PHASES.includes("ping")) {
    const ws = await openSocket();
    await phase("ping", (next, done) => {
      ws.addEventListener("message", () => (next() ? ws.send('{"type":"ping"}') : done()));
      ws.send('{"type":"ping"}');
    });
    ws.close();
  }
  if (PHASES.includes("barrier")) {
    const ws = await openSocket();
    const frame = JSON.stringify({ type: "cancel", tag: "nobody" });
    await phase("barrier", (next, done) => {
      ws.addEventListener("message", () => (next() ? ws.send(frame) : done()));
      ws.send(frame);
    });
    ws.close();
  }
  const expected = Math.ceil(SECONDS * 12_000);
  if (PHASES.includes("raw")) {
    await fill(expected);
    const ws = await openSocket();
    let stop = null;
    await phase("raw", (next, done) => {
      ws.addEventListener("message", (event) => {
        const f = JSON.parse(event.data);
        if (f.type !== "deliver") return;
        const tags = "deliveries" in f ? f.deliveries.map((d) => d.delivery_tag) : [f.delivery_tag];
        ws.send(JSON.stringify({ type: "ack", delivery_tags: tags }));
        if (!next() && !stop) {
          stop = true;
          done();
        }
      });
      ws.send(JSON.stringify({ type: "consume", tag: "raw", prefetch: 1, batch: true }));
    });
    ws.close();
  }
  if (PHASES.includes("client")) {
    await fill(expected);
    const url = `http://guest:guest@${HOST}:${broker.port}/${V}`;
    let consumer = null;
    let stopped = false;
    await phase("client", (next, done) => {
      consumer = new BrokerClient(url, { reconnect: { maxRetries: 0 } }).consume(
        QUEUE,
        (delivery) => {
          delivery.ack();
          if (!next() && !stopped) {
            stopped = true;
            done();
          }
        },
        { prefetch: 1, tag: "client" },
      );
    });
    consumer?.close();
  }
} finally {
  await broker.stop();
}
