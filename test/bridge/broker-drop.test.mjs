// The bridge's sockets to the broker dropping (a TCP proxy between them is cut): publishes are
// resent and every one is confirmed and stored; consumers reconnect and what they held comes
// again flagged redelivered, and an ack for a delivery of the lost socket acks nothing else.
//
//   npm run test:bridge

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqp from "amqplib";
import { eventually, sleep, startStack } from "./support.mjs";

let stack;
let conn;

before(async () => {
  stack = await startStack({ proxy: true, prefix: "bridge-drop-" });
  conn = await amqp.connect(stack.amqpUrl());
  conn.on("error", () => {});
});

after(async () => {
  await conn?.close().catch(() => {});
  await stack?.stop();
});

async function depth(queue) {
  return (await stack.admin("GET", `/api/queues/%2F/${queue}`)).body.messages;
}

test("confirms every publish across a dropped producer socket, and stores each", async () => {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue("drop-publish", { durable: true });
  const count = 400;
  const confirms = [];
  for (let i = 0; i < count; i++) {
    confirms.push(
      new Promise((resolve, reject) =>
        ch.sendToQueue("drop-publish", Buffer.from(`p${i}`), { messageId: `p${i}` }, (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    );
    if (i === count / 2) stack.proxy.cut();
  }
  await Promise.all(confirms);
  // At least once: a message stored just before the drop may be stored twice, none is lost.
  const got = await ch.get("drop-publish", { noAck: true });
  assert.ok(got);
  const ids = new Set([got.properties.messageId]);
  for (;;) {
    const msg = await ch.get("drop-publish", { noAck: true });
    if (msg === false) break;
    ids.add(msg.properties.messageId);
  }
  for (let i = 0; i < count; i++) assert.ok(ids.has(`p${i}`), `p${i} stored`);
});

test("a dropped consumer socket gives its deliveries back, and stale acks ack nothing", async () => {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue("drop-consume", { durable: true });
  for (let i = 0; i < 3; i++) ch.sendToQueue("drop-consume", Buffer.from(`c${i}`));
  await ch.waitForConfirms();
  const got = [];
  await ch.consume("drop-consume", (msg) => got.push(msg));
  await eventually(() => got.length === 3, 10_000, "3 deliveries");
  stack.proxy.cut();
  await eventually(() => got.length === 6, 20_000, "3 redeliveries after the reconnect");
  assert.deepEqual(
    got.slice(3).map((m) => [m.content.toString(), m.fields.redelivered]),
    [
      ["c0", true],
      ["c1", true],
      ["c2", true],
    ],
  );
  // The first three were given back by the broker: acking them now must not ack the new ones.
  for (const msg of got.slice(0, 3)) ch.ack(msg);
  await sleep(500);
  assert.equal(await depth("drop-consume"), 3);
  for (const msg of got.slice(3)) ch.ack(msg);
  await eventually(async () => (await depth("drop-consume")) === 0, 10_000, "all acked");
});

test("a dropped consumer socket voids the deliveries the bridge read ahead", async () => {
  const ch = await conn.createConfirmChannel();
  await ch.assertQueue("drop-ahead", { durable: true });
  for (let i = 0; i < 6; i++) ch.sendToQueue("drop-ahead", Buffer.from(`h${i}`));
  await ch.waitForConfirms();
  await ch.prefetch(2);
  const got = [];
  await ch.consume("drop-ahead", (msg) => got.push(msg));
  await eventually(() => got.length === 2, 10_000, "2 deliveries (the bridge holds 4 more)");
  stack.proxy.cut();
  await sleep(500);
  for (const msg of got.slice(0, 2)) ch.ack(msg); // stale: makes room at the client only
  await eventually(() => got.length === 4, 20_000, "2 deliveries after the reconnect");
  // Not h2 and h3 from before the drop (their socket is gone): h0 and h1 again.
  assert.deepEqual(
    got.slice(2).map((m) => [m.content.toString(), m.fields.redelivered]),
    [
      ["h0", true],
      ["h1", true],
    ],
  );
  while (got.length < 8) {
    ch.ack(got.at(-1), true);
    const before = got.length;
    await eventually(() => got.length > before, 10_000, "the rest");
  }
  assert.deepEqual(
    got.slice(2).map((m) => m.content.toString()),
    ["h0", "h1", "h2", "h3", "h4", "h5"],
  );
  ch.ack(got.at(-1), true);
  await eventually(async () => (await depth("drop-ahead")) === 0, 10_000, "all acked");
});
