// The same queue-feature sequences against this broker and a real RabbitMQ (3.10, Debian's
// rabbitmq-server, a private node with the management plugin: both speak the same HTTP API), and
// the differences: message TTL (expiry in the middle of a queue), dead-lettering with the exact
// x-death contents for a rejected and an expired message, and invalid arguments' reasons.
// Skips the RabbitMQ side with a message when rabbitmq-server is not installed.
//
//   node bench/compare-queue-features.mjs      (npm run compare:queue-features)
//
// Exit code 1 when a difference is found that docs/queue-features.md does not list as intended.

import { startBroker } from "./lib/broker.mjs";
import { sleep } from "./lib/common.mjs";
import { fetchJson } from "./lib/http.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "./lib/rabbitmq.mjs";

/** Calls to a management API under /api as guest: { status, body } whatever the status. */
const client = (base) => (method, path, body) => fetchJson(base, method, `/api${path}`, body);

const publish = (api, exchange, key, payload, properties = {}) =>
  api("POST", `/exchanges/%2F/${exchange || "amq.default"}/publish`, {
    routing_key: key,
    payload,
    payload_encoding: "string",
    properties,
  });

const get = async (api, queue, ackmode = "ack_requeue_true") =>
  (await api("POST", `/queues/%2F/${queue}/get`, { count: 10, ackmode, encoding: "auto" })).body;

/** Keys sorted at every level: RabbitMQ sorts x-death entries' fields, JSON order is no meaning. */
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical(value[key])]),
  );
}

/**
 * What a get shows, without what legitimately differs: x-death's clock time, and RabbitMQ's
 * empty properties, which its management API prints as [] (an empty Erlang list), not {}.
 */
function shown(messages) {
  return messages.map((m) => ({
    payload: m.payload,
    exchange: m.exchange,
    routing_key: m.routing_key,
    properties: canonical(
      JSON.parse(
        JSON.stringify(Array.isArray(m.properties) ? {} : (m.properties ?? {}), (key, value) =>
          key === "time" ? "<time>" : value,
        ),
      ),
    ),
  }));
}

async function sequences(api) {
  const out = {};
  // Message TTL, and expiry behind a message that does not expire.
  await api("PUT", "/queues/%2F/cmp.ttl", { arguments: { "x-message-ttl": 5000 } });
  await publish(api, "", "cmp.ttl", "queue-ttl");
  await publish(api, "", "cmp.ttl", "own-ttl", { expiration: "20" });
  await api("PUT", "/queues/%2F/cmp.middle", {});
  await publish(api, "", "cmp.middle", "head");
  await publish(api, "", "cmp.middle", "middle", { expiration: "20" });
  await publish(api, "", "cmp.middle", "tail");
  await sleep(50);
  out["ttl: get after 50 ms (own expiration 20 ms lower than x-message-ttl 5000)"] = shown(
    await get(api, "cmp.ttl"),
  );
  out["ttl: messages counted with one expired in the middle"] = (
    await api("GET", "/queues/%2F/cmp.middle")
  ).body.messages;
  out["ttl: get with one expired in the middle"] = shown(await get(api, "cmp.middle"));
  // Dead-lettering.
  await api("PUT", "/exchanges/%2F/cmp.dlx", { type: "fanout" });
  await api("PUT", "/queues/%2F/cmp.dead", {});
  await api("POST", "/bindings/%2F/e/cmp.dlx/q/cmp.dead", { routing_key: "" });
  await api("PUT", "/queues/%2F/cmp.work", { arguments: { "x-dead-letter-exchange": "cmp.dlx" } });
  await api("PUT", "/queues/%2F/cmp.expiring", {
    arguments: { "x-dead-letter-exchange": "cmp.dlx", "x-message-ttl": 30 },
  });
  await publish(api, "", "cmp.work", "rejected", { headers: { a: 1 }, message_id: "m1" });
  await get(api, "cmp.work", "reject_requeue_false");
  await sleep(200);
  await publish(api, "", "cmp.expiring", "expired", { expiration: "20" });
  await sleep(300);
  await api("GET", "/queues/%2F/cmp.expiring"); // RabbitMQ expires at the head when asked too
  await sleep(100);
  out["dead-lettered: rejected, then expired (x-death time masked)"] = shown(
    await get(api, "cmp.dead"),
  );
  // Invalid arguments.
  const bad = [
    { "x-message-ttl": -1 },
    { "x-message-ttl": "abc" },
    { "x-max-length": 1.5 },
    { "x-overflow": "nope" },
    { "x-expires": 0 },
    { "x-max-priority": 256 },
    { "x-dead-letter-exchange": 5 },
    { "x-dead-letter-routing-key": "k" },
  ];
  for (const [i, args] of bad.entries()) {
    const answer = await api("PUT", `/queues/%2F/cmp.bad${i}`, { arguments: args });
    out[`invalid ${JSON.stringify(args)}`] = [answer.status, answer.body?.reason];
  }
  return out;
}

/** Differences docs/queue-features.md lists as intended (this broker expires mid-queue). */
const INTENDED = new Set(["ttl: messages counted with one expired in the middle"]);

const broker = await startBroker({ prefix: "broker-queue-features-" });
let ours;
try {
  ours = await sequences(client(broker.url));
} finally {
  await broker.stop();
}
const found = findRabbitMQ();
if (found.skip) {
  console.log(found.skip);
  console.log(JSON.stringify(ours, null, 2));
  process.exit(0);
}
const { node } = await startRabbitMQ(found, { management: true });
let theirs;
try {
  theirs = await sequences(client(`http://127.0.0.1:${node.httpPort}`));
} finally {
  await stopRabbitMQ();
}
let unexpected = 0;
for (const [name, value] of Object.entries(ours)) {
  const same = JSON.stringify(value) === JSON.stringify(theirs[name]);
  const mark = same ? "same" : INTENDED.has(name) ? "differs (intended)" : "DIFFERS";
  if (!same && !INTENDED.has(name)) unexpected++;
  console.log(`${mark.padEnd(18)} ${name}`);
  if (!same) {
    console.log(`  broker:   ${JSON.stringify(value)}`);
    console.log(`  RabbitMQ: ${JSON.stringify(theirs[name])}`);
  }
}
process.exit(unexpected > 0 ? 1 : 0);
