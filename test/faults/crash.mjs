// Fault test (`npm run test:faults`): kill -9 of the whole broker under load, again and again.
//
// The broker runs as `npm start` runs it (bench/lib/broker.mjs, mode "npm-start": package.json's
// start script itself, in its own process group), on a state directory
// of its own. Three producers publish with confirms: HTTP publish, HTTP publish-batch and a
// WebSocket producer, each into its own queue, where a WebSocket consumer acks most deliveries
// and holds some unacked. At a random moment the whole process group is killed with SIGKILL,
// then started again on the same state; clients reconnect. After the last restart publishing
// stops and the consumers drain the queues. Then, for every message:
// - confirmed => delivered at least once (else: lost);
// - a second delivery is flagged redelivered (else: duplicated);
// - a delivery held unacked when its connection died came back, flagged redelivered.
// Figures are printed in the last lines; the exit code is 0 only when all of this holds.
// Loopback only; bounded in time; ends only the process groups it started.
//
// Environment: FAULT_CRASHES (default 6, at least 5), FAULT_SEED (default: from the clock).

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startBroker } from "../../bench/lib/broker.mjs";

const CRASHES = Math.max(5, Number(process.env.FAULT_CRASHES ?? 6));
const SEED = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const DEADLINE_MS = 280_000;
const AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
const QUEUES = { http: "faults.http", batch: "faults.batch", ws: "faults.ws" };
const PREFETCH = 200;
/** Deliveries a consumer holds unacked at most (every HOLD_EVERY-th first delivery). */
const MAX_HELD = 40;
const HOLD_EVERY = 5;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** mulberry32: the crash moments follow from the seed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "broker-faults-"));
const stateDir = path.join(dir, "state");
const logPath = path.join(dir, "broker.log");
const rand = random(SEED);

/** The broker currently up: null while it is down. Clients wait for it. */
let broker = null;
let publishing = true;
let finished = false;

const confirmed = new Set();
const published = { http: 0, batch: 0, ws: 0 };
/** id -> deliveries, each { redelivered } in arrival order. */
const deliveries = new Map();
/** Ids held unacked on a connection that then died: each must come back redelivered. */
const heldAtDeath = new Set();

async function whenUp() {
  while (!broker) {
    if (finished) throw new Error("finished");
    await sleep(50);
  }
  return broker.url;
}

async function api(method, pathname, body) {
  const url = await whenUp();
  return fetch(`${url}${pathname}`, {
    method,
    headers: { Authorization: AUTH, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

async function httpPublisher(worker) {
  let n = 0;
  while (publishing) {
    const id = `h${worker}:${n++}`;
    published.http++;
    try {
      const response = await api("POST", "/api/exchanges/%2F/amq.default/publish", {
        properties: { delivery_mode: 2 },
        routing_key: QUEUES.http,
        payload: id,
        payload_encoding: "string",
      });
      if (response.status === 200 && (await response.json()).routed === true) confirmed.add(id);
      else await response.body?.cancel();
    } catch {
      await sleep(50); // the broker went down mid-request: not confirmed
    }
  }
}

async function batchPublisher() {
  let n = 0;
  while (publishing) {
    const ids = Array.from({ length: 25 }, () => `b:${n++}`);
    published.batch += ids.length;
    try {
      const response = await api("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
        messages: ids.map((id) => ({
          properties: { delivery_mode: 2 },
          routing_key: QUEUES.batch,
          payload: id,
          payload_encoding: "string",
        })),
      });
      if (response.status === 200) {
        const { results } = await response.json();
        results.forEach((r, i) => {
          if (r.routed) confirmed.add(ids[i]);
        });
      } else await response.body?.cancel();
    } catch {
      await sleep(50);
    }
  }
}

function openSocket(url, pathname) {
  const ws = new WebSocket(`${url.replace("http", "ws")}${pathname}`, {
    headers: { Authorization: AUTH },
  });
  const closed = new Promise((resolve) => {
    ws.addEventListener("close", resolve);
    ws.addEventListener("error", resolve);
  });
  const opened = new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve);
    ws.addEventListener("error", () => reject(new Error("socket failed")));
  });
  return { ws, opened, closed };
}

/** A WebSocket producer: pipelines up to 100 frames, counts each confirm. */
async function wsProducer() {
  let n = 0;
  while (publishing) {
    let socket;
    try {
      socket = openSocket(await whenUp(), "/api/publish/%2F");
      await socket.opened;
    } catch {
      await sleep(100);
      continue;
    }
    const pending = new Map();
    let seq = 0;
    let open = true;
    socket.closed.then(() => {
      open = false;
    });
    socket.ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type !== "confirm" && frame.type !== "nack") return;
      for (const [s, id] of pending) {
        if (s > frame.seq || (s < frame.seq && !frame.multiple)) continue;
        if (frame.type === "confirm" && frame.routed) confirmed.add(id);
        pending.delete(s);
      }
    });
    while (publishing && open) {
      if (pending.size >= 100) {
        await sleep(5);
        continue;
      }
      const id = `w:${n++}`;
      seq++;
      pending.set(seq, id);
      published.ws++;
      try {
        socket.ws.send(
          JSON.stringify({
            type: "publish",
            seq,
            exchange: "",
            routing_key: QUEUES.ws,
            payload: id,
          }),
        );
      } catch {
        break;
      }
      if (seq % 10 === 0) await sleep(40); // leaves the HTTP publishers room
    }
    // Let the last confirms arrive before leaving a live connection.
    for (let i = 0; i < 100 && open && pending.size > 0; i++) await sleep(20);
    if (open) socket.ws.close(1000, "done");
  }
}

/** A consumer on one queue: acks most first deliveries, holds some, acks every redelivery. */
async function consumer(queue, state) {
  while (!state.stop) {
    let socket;
    try {
      socket = openSocket(await whenUp(), `/api/queues/%2F/${queue}/consume`);
      await socket.opened;
    } catch {
      if (finished) return;
      await sleep(100);
      continue;
    }
    const held = new Set();
    state.close = () => socket.ws.close(1000, "drain");
    socket.ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type !== "deliver") return;
      // A deliver frame carries one message, or several under `messages`.
      for (const m of Array.isArray(frame.messages) ? frame.messages : [frame]) {
        const id = m.payload;
        const list = deliveries.get(id) ?? [];
        list.push({ redelivered: m.redelivered === true });
        deliveries.set(id, list);
        const hold =
          !state.draining &&
          !m.redelivered &&
          held.size < MAX_HELD &&
          list.length === 1 &&
          Number(id.split(":")[1]) % HOLD_EVERY === 0;
        if (hold) held.add(id);
        else
          socket.ws.send(
            JSON.stringify({ type: "ack", delivery_tag: m.delivery_tag ?? frame.delivery_tag }),
          );
      }
    });
    socket.ws.send(JSON.stringify({ type: "consume", tag: `faults-${queue}`, prefetch: PREFETCH }));
    await socket.closed;
    for (const id of held) heldAtDeath.add(id);
  }
}

async function run() {
  const timer = setTimeout(() => {
    console.error(`fault test: over ${DEADLINE_MS / 1000} s, giving up`);
    process.exit(2);
  }, DEADLINE_MS);
  const started = Date.now();
  console.log(`fault test: seed ${SEED}, ${CRASHES} crashes, state in ${stateDir}`);
  broker = await startBroker({
    mode: "npm-start",
    stateDir,
    logPath,
    prefix: "broker-faults-run-",
  });
  for (const queue of Object.values(QUEUES)) {
    const response = await api("PUT", `/api/queues/%2F/${queue}`, { durable: true });
    if (response.status >= 300) throw new Error(`declare ${queue}: ${response.status}`);
  }
  const consumers = Object.values(QUEUES).map((queue) => ({ queue, stop: false, draining: false }));
  const running = [
    httpPublisher(1),
    httpPublisher(2),
    httpPublisher(3),
    httpPublisher(4),
    batchPublisher(),
    wsProducer(),
    ...consumers.map((state) => consumer(state.queue, state)),
  ];

  let crashes = 0;
  while (crashes < CRASHES) {
    await sleep(1500 + rand() * 3500);
    const victim = broker;
    broker = null;
    await victim.kill();
    crashes++;
    console.log(
      `crash ${crashes}: kill -9 of process group ${victim.pid}; confirmed so far ${confirmed.size}`,
    );
    broker = await startBroker({
      mode: "npm-start",
      stateDir,
      logPath,
      prefix: "broker-faults-run-",
    });
  }

  // Drain: no more publishing; consumers stop holding and take everything, held ones included.
  await sleep(1000);
  publishing = false;
  await Promise.all(running.slice(0, 6));
  for (const state of consumers) {
    state.draining = true;
    state.close?.(); // what this connection held goes back, flagged redelivered
  }
  const drainStarted = Date.now();
  let remaining = Number.POSITIVE_INFINITY;
  while (Date.now() - drainStarted < 60_000) {
    remaining = 0;
    for (const queue of Object.values(QUEUES)) {
      const info = await (await api("GET", `/api/queues/%2F/${queue}`)).json();
      remaining += info.messages;
    }
    const undelivered = [...confirmed].filter((id) => !deliveries.has(id)).length;
    if (remaining === 0 && undelivered === 0) break;
    await sleep(250);
  }
  for (const state of consumers) {
    state.stop = true;
    state.close?.();
  }
  finished = true;
  await broker.stop();
  clearTimeout(timer);

  let lost = 0;
  let duplicated = 0;
  let redelivered = 0;
  let total = 0;
  for (const id of confirmed) if (!deliveries.has(id)) lost++;
  for (const list of deliveries.values()) {
    total += list.length;
    list.forEach((d, i) => {
      if (d.redelivered) redelivered++;
      else if (i > 0) duplicated++;
    });
  }
  let heldBack = 0;
  for (const id of heldAtDeath) {
    if ((deliveries.get(id) ?? []).slice(1).some((d) => d.redelivered)) heldBack++;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const ok =
    crashes >= 5 &&
    lost === 0 &&
    duplicated === 0 &&
    heldBack === heldAtDeath.size &&
    remaining === 0 &&
    confirmed.size > 0;
  if (ok) fs.rmSync(dir, { recursive: true, force: true });
  else console.log(`broker log and state kept in ${dir}`);
  console.log(
    `published ${published.http} over HTTP, ${published.batch} in batches, ${published.ws} over WebSocket; ${total} deliveries; ${remaining} left in the queues`,
  );
  console.log(
    `unacked when their connection died: ${heldAtDeath.size}, came back redelivered: ${heldBack}`,
  );
  console.log(
    `crashes: ${crashes}, confirmed: ${confirmed.size}, lost: ${lost}, duplicated: ${duplicated}, redelivered: ${redelivered} (${seconds} s, seed ${SEED})`,
  );
  console.log(ok ? "fault test: passed" : "fault test: FAILED");
  process.exit(ok ? 0 : 1);
}

run().catch((error) => {
  console.error("fault test: error", error);
  if (broker) broker.kill().finally(() => process.exit(1));
  else process.exit(1);
});
