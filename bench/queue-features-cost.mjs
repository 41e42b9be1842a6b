// What the queue features cost: publish and consume rates on a plain queue against a queue with
// x-message-ttl + x-dead-letter-exchange + x-max-length set (limits high enough that nothing
// expires, drops or dead-letters: the cost of carrying the features, not of using them), and a
// priority queue (x-max-priority 10, random priorities). Each kind is measured ROUNDS times,
// interleaved, against one `npm start`; the median is printed.
//
// Publish: batches of 100 through POST .../publish-batch for PUBLISH_MS. Consume: one WebSocket
// consumer (prefetch 500, batched deliver frames, one ack per frame with `multiple`) takes every
// message published, timed from consume to the last delivery.
//
//   node bench/queue-features-cost.mjs      (npm run bench:queue-features)
//   BENCH_FEATURES_MS=2000 BENCH_FEATURES_ROUNDS=1   a shorter run

import { startBroker } from "./lib/broker.mjs";

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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const broker = await startBroker({ prefix: "broker-queue-features-cost-" });
const results = Object.fromEntries(Object.keys(KINDS).map((k) => [k, { pub: [], con: [] }]));
try {
  await api(broker.url, "PUT", "/exchanges/%2F/cost.dlx", { type: "fanout" });
  for (let round = 0; round < ROUNDS; round++) {
    for (const [kind, args] of Object.entries(KINDS)) {
      const queue = `cost.${round}.${Object.keys(KINDS).indexOf(kind)}`;
      await api(broker.url, "PUT", `/queues/%2F/${queue}`, { arguments: args() });
      const { sent, rate } = await publishFor(broker.url, queue, kind);
      const consumed = await consumeAll(broker, queue, sent);
      results[kind].pub.push(rate);
      results[kind].con.push(consumed);
      await api(broker.url, "DELETE", `/queues/%2F/${queue}`);
      console.log(
        `round ${round + 1} ${kind}: publish ${Math.round(rate)} msg/s, consume ${Math.round(consumed)} msg/s (${sent} messages)`,
      );
    }
  }
} finally {
  await broker.stop();
}
console.log(`\nmedian of ${ROUNDS} (batches of ${BATCH} over HTTP; one WebSocket consumer):`);
console.log("| queue | publish msg/s | consume msg/s |");
console.log("| --- | --- | --- |");
for (const [kind, { pub, con }] of Object.entries(results)) {
  console.log(`| ${kind} | ${Math.round(median(pub))} | ${Math.round(median(con))} |`);
}
