// amqplib, unchanged, against the AMQP bridge in front of a broker started here: negotiation,
// topology, publishing with confirms and returns, consuming with prefetch, get, acks, recover,
// properties, and channel and connection errors with RabbitMQ's reply codes.
//
//   npm run test:bridge

import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import amqp from "amqplib";
import { ROOT } from "../../bench/lib/root.mjs";
import { createUser, eventually, sleep, startStack } from "./support.mjs";

let stack;
const open = new Set();

before(async () => {
  stack = await startStack({ prefix: "bridge-amqplib-" });
});

after(async () => {
  for (const conn of open) await conn.close().catch(() => {});
  await stack?.stop();
});

async function connect(url = stack.amqpUrl(), options) {
  const conn = await amqp.connect(url, options);
  conn.on("error", () => {});
  open.add(conn);
  conn.on("close", () => open.delete(conn));
  return conn;
}

/** A channel whose error event is recorded instead of thrown. */
async function channel(conn, confirm = false) {
  const ch = confirm ? await conn.createConfirmChannel() : await conn.createChannel();
  ch.errors = [];
  ch.on("error", (error) => ch.errors.push(error));
  ch.closed = new Promise((resolve) => ch.once("close", resolve));
  return ch;
}

/** Collects deliveries of a consumer into an array. */
async function collect(ch, queue, options = {}) {
  const got = [];
  const { consumerTag } = await ch.consume(queue, (msg) => got.push(msg), options);
  got.consumerTag = consumerTag;
  return got;
}

async function queueDepth(vhost, queue) {
  const { body } = await stack.admin(
    "GET",
    `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`,
  );
  return body.messages;
}

describe("connection negotiation", () => {
  test("logs in with PLAIN and with AMQPLAIN, both checked by the broker", async () => {
    const plain = await connect();
    assert.match(String(plain.connection.serverProperties.product), /workers-broker/);
    const amqplain = await connect(stack.amqpUrl(), {
      credentials: amqp.credentials.amqplain("guest", "guest"),
    });
    await (await amqplain.createChannel()).close();
  });

  test("refuses a wrong password at connection time with 403 ACCESS_REFUSED", async () => {
    await assert.rejects(
      connect(stack.amqpUrl("guest", "not-the-password")),
      /403 \(ACCESS-REFUSED\).*Login was refused/,
    );
    await assert.rejects(
      connect(stack.amqpUrl(), { credentials: amqp.credentials.amqplain("guest", "wrong") }),
      /ACCESS-REFUSED/,
    );
  });

  test("opens the vhost of connection.open and refuses one the user may not use", async () => {
    await createUser(stack, "neg-user", "neg-pass", "neg-vhost");
    const conn = await connect(stack.amqpUrl("neg-user", "neg-pass", "neg-vhost"));
    const ch = await channel(conn);
    await ch.assertQueue("neg-queue", { durable: true });
    assert.equal((await stack.admin("GET", "/api/queues/neg-vhost/neg-queue")).status, 200);
    assert.equal((await stack.admin("GET", "/api/queues/%2F/neg-queue")).status, 404);
    // amqplib reports a close during connection.open as an unexpected frame; pika (pika.test)
    // reads the reply code. The bridge's log names it.
    await assert.rejects(connect(stack.amqpUrl("neg-user", "neg-pass", "/")), /ConnectionClose/);
    assert.ok(
      stack.log.some((line) =>
        /530 NOT_ALLOWED - access to vhost '\/' refused for user 'neg-user'/.test(line),
      ),
    );
  });

  test("negotiates heartbeats, frame_max and channel_max", async () => {
    const conn = await connect(`${stack.amqpUrl()}?heartbeat=1&frameMax=4096&channelMax=3`);
    assert.equal(conn.connection.heartbeat, 1);
    assert.equal(conn.connection.frameMax, 4096);
    assert.equal(conn.connection.channelMax, 3);
    const ch = await channel(conn, true);
    await ch.assertQueue("neg-frames", { durable: false });
    // Larger than frame_max both ways: cut into body frames by amqplib and by the bridge.
    const big = Buffer.alloc(20_000, 7);
    ch.sendToQueue("neg-frames", big);
    await ch.waitForConfirms();
    // Idle for 3 heartbeat intervals: the bridge's heartbeats keep amqplib from timing out.
    await sleep(3_500);
    const msg = await ch.get("neg-frames", { noAck: true });
    assert.equal(msg.content.length, big.length);
    assert.ok(msg.content.equals(big));
    assert.ok(open.has(conn), "the connection survived the idle time");
  });
});

describe("topology", () => {
  test("declares queues and exchanges, passively too, and answers counts", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertExchange("topo-orders", "topic", { durable: true });
    await ch.checkExchange("topo-orders");
    const declared = await ch.assertQueue("topo-inventory", { durable: true });
    assert.deepEqual(declared, { queue: "topo-inventory", messageCount: 0, consumerCount: 0 });
    await ch.bindQueue("topo-inventory", "topo-orders", "order.*");
    ch.publish("topo-orders", "order.created", Buffer.from("one"));
    ch.publish("topo-orders", "invoice.sent", Buffer.from("unrouted"));
    await eventually(
      async () => (await ch.checkQueue("topo-inventory")).messageCount === 1,
      10_000,
      "1 message",
    );
    await ch.unbindQueue("topo-inventory", "topo-orders", "order.*");
    ch.publish("topo-orders", "order.created", Buffer.from("two"));
    await sleep(300);
    assert.equal((await ch.checkQueue("topo-inventory")).messageCount, 1);
    assert.deepEqual(await ch.purgeQueue("topo-inventory"), { messageCount: 1 });
    assert.deepEqual(await ch.deleteQueue("topo-inventory"), { messageCount: 0 });
    await ch.deleteExchange("topo-orders");
    await assert.rejects(
      ch.checkExchange("topo-orders"),
      /404 \(NOT-FOUND\).*no exchange 'topo-orders'/,
    );
  });

  test("binds exchanges to exchanges", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertExchange("topo-e2e-src", "fanout", { durable: false });
    await ch.assertExchange("topo-e2e-dst", "direct", { durable: false });
    await ch.assertQueue("topo-e2e-q", { durable: false });
    await ch.bindExchange("topo-e2e-dst", "topo-e2e-src", "");
    await ch.bindQueue("topo-e2e-q", "topo-e2e-dst", "k");
    ch.publish("topo-e2e-src", "k", Buffer.from("through two exchanges"));
    await ch.waitForConfirms();
    assert.equal(
      (await ch.get("topo-e2e-q", { noAck: true })).content.toString(),
      "through two exchanges",
    );
    await ch.unbindExchange("topo-e2e-dst", "topo-e2e-src", "");
  });

  test("server-named exclusive queues live as long as their connection", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    const { queue } = await ch.assertQueue("", { exclusive: true, durable: false });
    assert.ok(queue.length > 0);
    assert.equal(
      (await stack.admin("GET", `/api/queues/%2F/${encodeURIComponent(queue)}`)).status,
      200,
    );
    const other = await channel(await connect());
    await assert.rejects(other.checkQueue(queue), /405 \(RESOURCE-LOCKED\)/);
    await conn.close();
    await eventually(
      async () =>
        (await stack.admin("GET", `/api/queues/%2F/${encodeURIComponent(queue)}`)).status === 404,
      10_000,
      "the exclusive queue deleted",
    );
  });
});

describe("publishing", () => {
  test("returns an unroutable mandatory message before its confirm", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    const events = [];
    ch.on("return", (msg) =>
      events.push(["return", msg.fields.replyCode, msg.fields.routingKey, msg.content.toString()]),
    );
    await new Promise((resolve, reject) =>
      ch.publish("", "pub-nowhere", Buffer.from("lost?"), { mandatory: true }, (error) => {
        if (error) return reject(error);
        events.push(["ack"]);
        resolve();
      }),
    );
    assert.deepEqual(events, [["return", 312, "pub-nowhere", "lost?"], ["ack"]]);
    // Not mandatory: no return, still confirmed.
    ch.publish("", "pub-nowhere", Buffer.from("dropped"));
    await ch.waitForConfirms();
    assert.equal(events.length, 2);
  });

  test("confirms a mandatory message a delayed exchange holds without returning it, and delivers it when due", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertExchange("pub-delayed", "x-delayed-message", {
      arguments: { "x-delayed-type": "direct" },
    });
    await ch.assertQueue("pub-delayed-q", { durable: true });
    await ch.bindQueue("pub-delayed-q", "pub-delayed", "k");
    const returned = [];
    ch.on("return", (msg) => returned.push(msg.content.toString()));
    ch.publish("pub-delayed", "k", Buffer.from("later"), {
      mandatory: true,
      headers: { "x-delay": 300 },
    });
    await ch.waitForConfirms();
    // Confirmed: stored in the exchange, not yet in the queue (due in 300 ms).
    assert.equal(await queueDepth("/", "pub-delayed-q"), 0);
    await eventually(
      async () => (await queueDepth("/", "pub-delayed-q")) === 1,
      10_000,
      "the delayed message in its queue",
    );
    const msg = await ch.get("pub-delayed-q", { noAck: true });
    assert.equal(msg.content.toString(), "later");
    assert.equal(msg.properties.headers["x-delay"], -300);
    assert.deepEqual(returned, []);
  });

  test("refuses a delayed exchange without x-delayed-type with the plugin's 406", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await assert.rejects(ch.assertExchange("pub-delayed-bad", "x-delayed-message"), (error) => {
      assert.equal(error.code, 406);
      assert.match(
        error.message,
        /PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type/,
      );
      assert.doesNotMatch(error.message, /406 PRECONDITION_FAILED/);
      return true;
    });
  });

  test("confirms every message under load, and only stored ones", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("pub-load", { durable: true });
    const count = 3000;
    let acked = 0;
    const confirms = [];
    for (let i = 0; i < count; i++) {
      confirms.push(
        new Promise((resolve, reject) => {
          ch.sendToQueue("pub-load", Buffer.from(`m${i}`), { persistent: true }, (error) => {
            if (error) return reject(error);
            acked += 1;
            resolve();
          });
        }),
      );
    }
    await Promise.all(confirms);
    assert.equal(acked, count);
    // Every confirmed message is stored.
    assert.equal(await queueDepth("/", "pub-load"), count);
  });

  test("messages published right before close are stored (close-ok waits for them)", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertQueue("pub-close", { durable: true });
    for (let i = 0; i < 20; i++) ch.sendToQueue("pub-close", Buffer.from(`m${i}`));
    // The article's sender: channel.close then connection.close, no confirms.
    await ch.close();
    await conn.close();
    assert.equal(await queueDepth("/", "pub-close"), 20);
  });

  test("carries every basic property and header table both ways", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("pub-props", { durable: false });
    const headers = {
      text: "x",
      int: 42,
      big: 5_000_000_000,
      negative: -7,
      float: 1.5,
      yes: true,
      nothing: null,
      list: [1, "two", false],
      nested: { deeper: { value: "ok" } },
      bytes: Buffer.from([0, 1, 254, 255]),
      when: { "!": "timestamp", value: 1_700_000_000 },
    };
    const properties = {
      contentType: "application/json",
      contentEncoding: "gzip",
      headers,
      deliveryMode: 2,
      priority: 5,
      correlationId: "corr-1",
      replyTo: "reply-queue",
      expiration: "60000",
      messageId: "msg-1",
      timestamp: 1_700_000_001,
      type: "order.created",
      userId: "guest",
      appId: "orders-service",
    };
    ch.sendToQueue("pub-props", Buffer.from([0xff, 0x00, 0x80]), properties);
    await ch.waitForConfirms();
    const msg = await ch.get("pub-props", { noAck: true });
    assert.deepEqual([...msg.content], [0xff, 0x00, 0x80]);
    const { headers: got, ...rest } = msg.properties;
    for (const [key, value] of Object.entries(properties)) {
      if (key !== "headers") assert.deepEqual(rest[key], value, key);
    }
    assert.equal(got.text, "x");
    assert.equal(got.int, 42);
    assert.equal(got.big, 5_000_000_000);
    assert.equal(got.negative, -7);
    assert.equal(got.float, 1.5);
    assert.equal(got.yes, true);
    assert.equal(got.nothing, null);
    assert.deepEqual(got.list, [1, "two", false]);
    assert.deepEqual(got.nested, { deeper: { value: "ok" } });
    assert.deepEqual([...got.bytes], [0, 1, 254, 255]);
    assert.deepEqual(got.when, { "!": "timestamp", value: 1_700_000_000 });
  });
});

describe("consuming", () => {
  test("prefetch per consumer: no more than basic.qos unacked deliveries", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-prefetch", { durable: false });
    for (let i = 0; i < 10; i++) ch.sendToQueue("con-prefetch", Buffer.from(`m${i}`));
    await ch.waitForConfirms();
    await ch.prefetch(3);
    const got = await collect(ch, "con-prefetch", { consumerTag: "con-prefetch-tag" });
    assert.equal(got.consumerTag, "con-prefetch-tag");
    await eventually(() => got.length === 3, 10_000, "3 deliveries");
    await sleep(500);
    assert.equal(got.length, 3);
    assert.deepEqual(
      got.map((m) => [m.content.toString(), m.fields.consumerTag, m.fields.redelivered]),
      [
        ["m0", "con-prefetch-tag", false],
        ["m1", "con-prefetch-tag", false],
        ["m2", "con-prefetch-tag", false],
      ],
    );
    ch.ack(got[0]);
    await eventually(() => got.length === 4, 10_000, "a 4th delivery after an ack");
    ch.ack(got[3], true); // multiple: m1..m3 too
    await eventually(() => got.length === 7, 10_000, "3 more after ack multiple");
  });

  test("prefetch per channel (global) spans the channel's consumers", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    for (const q of ["con-global-a", "con-global-b"]) {
      await ch.assertQueue(q, { durable: false });
      for (let i = 0; i < 5; i++) ch.sendToQueue(q, Buffer.from(`${q}-${i}`));
    }
    await ch.waitForConfirms();
    await ch.prefetch(4, true);
    const a = await collect(ch, "con-global-a");
    const b = await collect(ch, "con-global-b");
    await eventually(() => a.length + b.length === 4, 10_000, "4 deliveries on the channel");
    await sleep(500);
    assert.equal(a.length + b.length, 4);
    ch.ackAll();
    await eventually(() => a.length + b.length === 8, 10_000, "4 more after ackAll");
  });

  test("reads ahead of the client's prefetch, holds the rest, and gives it back on cancel", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-ahead", { durable: false });
    for (let i = 0; i < 50; i++) ch.sendToQueue("con-ahead", Buffer.from(`a${i}`));
    await ch.waitForConfirms();
    await ch.prefetch(3);
    const got = await collect(ch, "con-ahead");
    // The broker hands the bridge 3 x 10 (the default lookahead); the client holds 3.
    const counts = async () => {
      const { body } = await stack.admin("GET", "/api/queues/%2F/con-ahead");
      return [body.messages_ready, body.messages_unacknowledged];
    };
    await eventually(async () => (await counts())[1] === 30, 10_000, "30 unacked at the broker");
    await sleep(300);
    assert.equal(got.length, 3);
    assert.deepEqual(await counts(), [20, 30]);
    ch.ack(got[1]);
    await eventually(() => got.length === 4, 10_000, "a 4th delivery after an ack");
    await sleep(300);
    assert.equal(got.length, 4, "still no more than 3 unacked at the client");
    assert.deepEqual(
      got.map((m) => m.content.toString()),
      ["a0", "a1", "a2", "a3"],
      "held deliveries keep the queue's order",
    );
    await ch.cancel(got.consumerTag);
    // What the bridge held never reached the client: back in the queue at once, while the
    // client's own 3 stay with it until it settles them.
    await eventually(
      async () => JSON.stringify(await counts()) === JSON.stringify([46, 3]),
      10_000,
      "the read-ahead requeued",
    );
    ch.ackAll();
    await eventually(async () => (await queueDepth("/", "con-ahead")) === 46, 10_000, "3 acked");
    const again = await collect(ch, "con-ahead");
    await eventually(() => again.length === 3, 10_000, "the next consumer gets a4 first");
    assert.equal(again[0].content.toString(), "a4");
    await ch.cancel(again.consumerTag);
  });

  test("prefetch 1 takes exactly one delivery from the broker (fair dispatch)", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-one", { durable: false });
    for (let i = 0; i < 5; i++) ch.sendToQueue("con-one", Buffer.from(`o${i}`));
    await ch.waitForConfirms();
    await ch.prefetch(1);
    const got = await collect(ch, "con-one");
    await eventually(() => got.length === 1, 10_000, "1 delivery");
    await sleep(300);
    const { body } = await stack.admin("GET", "/api/queues/%2F/con-one");
    assert.deepEqual([body.messages_ready, body.messages_unacknowledged], [4, 1]);
    await ch.cancel(got.consumerTag);
    ch.ack(got[0]);
  });

  test("no-ack consumers, cancel, and acks after cancel", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-noack", { durable: false });
    await ch.assertQueue("con-cancel", { durable: false });
    for (let i = 0; i < 3; i++) {
      ch.sendToQueue("con-noack", Buffer.from(`n${i}`));
      ch.sendToQueue("con-cancel", Buffer.from(`c${i}`));
    }
    await ch.waitForConfirms();
    const noAck = await collect(ch, "con-noack", { noAck: true });
    await eventually(() => noAck.length === 3, 10_000, "3 no-ack deliveries");
    assert.equal(await queueDepth("/", "con-noack"), 0);

    await ch.prefetch(1);
    const manual = await collect(ch, "con-cancel");
    await eventually(() => manual.length === 1, 10_000, "1 delivery");
    await ch.cancel(manual.consumerTag);
    ch.ack(manual[0]); // still ackable after basic.cancel
    await sleep(500);
    assert.equal(manual.length, 1, "nothing after cancel");
    await eventually(
      async () => (await queueDepth("/", "con-cancel")) === 2,
      10_000,
      "c0 acked, 2 left",
    );
  });

  test("an exclusive consumer keeps others out with 403 ACCESS_REFUSED", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertQueue("con-exclusive", { durable: false });
    await ch.consume("con-exclusive", () => {}, { exclusive: true });
    const other = await channel(conn);
    await assert.rejects(
      other.consume("con-exclusive", () => {}),
      /403 \(ACCESS-REFUSED\).*exclusive use/,
    );
  });

  test("tells the consumer when its queue is deleted (basic.cancel)", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertQueue("con-deleted", { durable: false });
    const got = await collect(ch, "con-deleted");
    await stack.admin("DELETE", "/api/queues/%2F/con-deleted");
    await eventually(() => got.includes(null), 10_000, "a cancel (null message)");
  });

  test("basic.get with acks, without, and on an empty queue", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-get", { durable: false });
    assert.equal(await ch.get("con-get"), false);
    for (let i = 0; i < 3; i++) ch.sendToQueue("con-get", Buffer.from(`g${i}`));
    await ch.waitForConfirms();
    const first = await ch.get("con-get");
    assert.equal(first.content.toString(), "g0");
    assert.equal(first.fields.messageCount, 2);
    const second = await ch.get("con-get", { noAck: true });
    assert.equal(second.content.toString(), "g1");
    ch.nack(first, false, true); // back to the queue
    const again = await eventually(() => ch.get("con-get"), 10_000, "g0 again");
    assert.equal(again.content.toString(), "g0");
    assert.equal(again.fields.redelivered, true);
    ch.ack(again);
  });

  test("nack, reject and recover requeue or drop as asked", async () => {
    const conn = await connect();
    const ch = await channel(conn, true);
    await ch.assertQueue("con-settle", { durable: false });
    for (let i = 0; i < 4; i++) ch.sendToQueue("con-settle", Buffer.from(`s${i}`));
    await ch.waitForConfirms();
    const got = await collect(ch, "con-settle");
    await eventually(() => got.length === 4, 10_000, "4 deliveries");
    ch.reject(got[0], false); // dropped
    ch.nack(got[2], true, true); // s1 and s2 back, redelivered
    await eventually(() => got.length === 6, 10_000, "2 redeliveries");
    assert.deepEqual(
      got.slice(4).map((m) => [m.content.toString(), m.fields.redelivered]),
      [
        ["s1", true],
        ["s2", true],
      ],
    );
    await ch.recover(); // s3, s1, s2 unacked: all back
    await eventually(() => got.length === 9, 10_000, "3 recovered");
    assert.ok(got.slice(6).every((m) => m.fields.redelivered));
    ch.ackAll();
    await eventually(
      async () => (await queueDepth("/", "con-settle")) === 0,
      10_000,
      "all settled",
    );
  });
});

describe("errors", () => {
  test("404 NOT_FOUND: a missing queue, a missing exchange", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await assert.rejects(
      ch.checkQueue("err-missing"),
      /404 \(NOT-FOUND\).*no queue 'err-missing' in vhost '\/'/,
    );
    const ch2 = await channel(conn);
    await assert.rejects(
      ch2.consume("err-missing", () => {}),
      /404 \(NOT-FOUND\)/,
    );
    const ch3 = await channel(conn, true);
    ch3.publish("err-no-exchange", "k", Buffer.from("x"));
    await ch3.closed;
    assert.match(ch3.errors[0].message, /404 \(NOT-FOUND\).*no exchange 'err-no-exchange'/);
  });

  test("406 PRECONDITION_FAILED: inequivalent redeclaration, unknown delivery tag", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await ch.assertQueue("err-durable", { durable: true });
    await assert.rejects(
      ch.assertQueue("err-durable", { durable: false }),
      /406 \(PRECONDITION-FAILED\).*durable/,
    );
    const ch2 = await channel(conn);
    ch2.ack({ fields: { deliveryTag: 99 } });
    await ch2.closed;
    assert.match(ch2.errors[0].message, /406 \(PRECONDITION-FAILED\).*unknown delivery tag 99/);
  });

  test("403 ACCESS_REFUSED: reserved names and missing permissions", async () => {
    const conn = await connect();
    const ch = await channel(conn);
    await assert.rejects(ch.assertQueue("amq.mine"), /403 \(ACCESS-REFUSED\)/);
    await createUser(stack, "err-reader", "pw", "/", { configure: "^$", write: "^$" });
    const limited = await connect(stack.amqpUrl("err-reader", "pw"));
    const lch = await channel(limited);
    await assert.rejects(lch.assertQueue("err-not-mine"), /403 \(ACCESS-REFUSED\)/);
    await (await channel(conn)).assertQueue("err-unreadable", { durable: false });
    await createUser(stack, "err-writer", "pw", "/", { read: "^$" });
    const writer = await connect(stack.amqpUrl("err-writer", "pw"));
    const wch = await channel(writer);
    await assert.rejects(
      wch.consume("err-unreadable", () => {}),
      /403 \(ACCESS-REFUSED\)/,
    );
  });

  test("405 RESOURCE_LOCKED: another connection's exclusive queue", async () => {
    const owner = await connect();
    const och = await channel(owner);
    await och.assertQueue("err-locked", { exclusive: true, durable: false });
    const other = await channel(await connect());
    await assert.rejects(
      other.consume("err-locked", () => {}),
      /405 \(RESOURCE-LOCKED\)/,
    );
  });

  test("a channel error leaves the connection and its other channels working", async () => {
    const conn = await connect();
    const good = await channel(conn);
    const bad = await channel(conn);
    await assert.rejects(bad.checkQueue("err-absent"), /404/);
    await good.assertQueue("err-still-fine", { durable: false });
  });
});

describe("redelivery", () => {
  test("deliveries unacked when an AMQP connection drops come back, flagged redelivered", async () => {
    const setup = await channel(await connect(), true);
    await setup.assertQueue("red-drop", { durable: true });
    for (let i = 0; i < 5; i++) setup.sendToQueue("red-drop", Buffer.from(`r${i}`));
    await setup.waitForConfirms();

    const doomed = await connect();
    const dch = await channel(doomed);
    const first = await collect(dch, "red-drop");
    await eventually(() => first.length === 5, 10_000, "5 deliveries");
    dch.ack(first[0]);
    await eventually(async () => (await queueDepth("/", "red-drop")) === 4, 10_000, "r0 acked");
    open.delete(doomed); // amqplib cannot close a connection whose socket is gone
    doomed.connection.stream.destroy(); // no connection.close: the TCP connection just drops
    doomed.connection.heartbeater?.clear(); // amqplib's timers would outlive the socket

    const survivor = await channel(await connect());
    const second = await collect(survivor, "red-drop");
    await eventually(() => second.length === 4, 15_000, "4 redeliveries");
    assert.deepEqual(second.map((m) => [m.content.toString(), m.fields.redelivered]).sort(), [
      ["r1", true],
      ["r2", true],
      ["r3", true],
      ["r4", true],
    ]);
    survivor.ackAll();
    await eventually(async () => (await queueDepth("/", "red-drop")) === 0, 10_000, "all acked");
  });
});

describe("the seed article's code", () => {
  test("examples/amqp: the article's receiver gets what its sender sent", {
    timeout: 60_000,
  }, async () => {
    const env = { ...process.env, AMQP_URL: stack.amqpUrl() };
    const node = process.execPath;
    const receiver = spawn(node, ["examples/amqp/receive.ts"], { cwd: ROOT, env });
    let output = "";
    receiver.stdout.on("data", (chunk) => {
      output += chunk;
    });
    try {
      await eventually(
        () => output.includes("Waiting for messages"),
        20_000,
        "the receiver to start",
      );
      const sent = await new Promise((resolve) =>
        execFile(
          node,
          ["examples/amqp/send.ts"],
          { cwd: ROOT, env, timeout: 30_000 },
          (error, stdout) => resolve({ error, stdout }),
        ),
      );
      assert.equal(sent.error, null);
      assert.match(sent.stdout, /\[x\] Sent/);
      await eventually(
        () => output.includes("[x] Received"),
        20_000,
        "the receiver to print the order",
      );
      assert.match(output, /item_id: 'macbook'/);
    } finally {
      receiver.kill("SIGINT");
    }
  });
});
