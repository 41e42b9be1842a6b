// RabbitMQ as a messaging-suite adapter (bench/messaging/suite.mjs), over amqplib: one
// connection per producer and per consumer, as our broker has one WebSocket for each. `n` is a
// node started by bench/lib/rabbitmq.mjs.

import fs from "node:fs";
import { withTimeout } from "../lib/common.mjs";
import { isAlive, pidsCpu, treePids } from "../lib/processes.mjs";

export function rabbitAdapter(n) {
  const { amqp } = n;
  let admin = null; // connection + channel for declarations and queue depths

  const connect = async (what, onFailure) => {
    const conn = await withTimeout(amqp.connect(n.url), 15_000, `AMQP connect (${what})`);
    let closing = false;
    conn.on("error", (e) => onFailure?.(`${what}: connection error: ${e.message}`));
    conn.on("close", () => {
      if (!closing) onFailure?.(`${what}: connection closed by the broker`);
    });
    return {
      conn,
      async close() {
        closing = true;
        await withTimeout(conn.close(), 10_000, `closing ${what}`).catch(() => {});
      },
    };
  };

  return {
    short: "RabbitMQ",
    name: `RabbitMQ ${n.version} over AMQP 0-9-1 (amqplib)`,
    queue: "bench.ws",
    latencyQueue: "bench.ws.latency",
    directExchange: "bench.ws.direct",
    directKey: "ws",
    server: {
      sample: () => pidsCpu(treePids(n.pid)),
      roleOf: (pid) => {
        try {
          const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
          return comm === "beam.smp" ? "beam.smp (RabbitMQ)" : "other RabbitMQ processes";
        } catch {
          return "other RabbitMQ processes";
        }
      },
    },
    serverChanged: () => (isAlive(n.pid, n.started) ? null : "the RabbitMQ node exited"),

    async setup() {
      admin = await connect("admin");
      admin.ch = await admin.conn.createChannel();
      for (const q of ["bench.ws", "bench.ws.latency"])
        await admin.ch.assertQueue(q, { durable: true });
      await admin.ch.assertExchange("bench.ws.direct", "direct", { durable: true });
      await admin.ch.bindQueue("bench.ws", "bench.ws.direct", "ws");
    },

    async depth(queue) {
      return (await admin.ch.checkQueue(queue)).messageCount;
    },

    async openProducer({ onConfirm, onNack, onFailure }) {
      const c = await connect("producer", onFailure);
      const ch = await c.conn.createConfirmChannel();
      ch.on("error", (e) => onFailure(`producer channel error: ${e.message}`));
      const returned = new Set();
      ch.on("return", (msg) => {
        // Unroutable (mandatory): basic.return comes before the message's confirm.
        try {
          returned.add(JSON.parse(msg.content.toString()).id);
        } catch {}
      });
      return {
        publish(exchange, routingKey, id, payload) {
          ch.publish(
            exchange,
            routingKey,
            Buffer.from(payload),
            { deliveryMode: 2, mandatory: true },
            (err) =>
              err ? onNack(id, String(err.message ?? err)) : onConfirm(id, !returned.delete(id)),
          );
        },
        async close() {
          await withTimeout(ch.close(), 10_000, "closing producer channel").catch(() => {});
          await c.close();
        },
      };
    },

    async consume(queue, { prefetch, onDelivery, onFailure }) {
      const c = await connect(`consumer ${queue}`, onFailure);
      const ch = await c.conn.createChannel();
      ch.on("error", (e) => onFailure(`consumer channel error: ${e.message}`));
      await ch.prefetch(prefetch); // per consumer (basic.qos global=false)
      const consumerTag = `bench-${queue}`;
      const handle = {
        ack: (deliveryTag, multiple) => ch.ack({ fields: { deliveryTag } }, multiple),
        cancel: () => ch.cancel(consumerTag),
        async close() {
          await withTimeout(ch.close(), 10_000, "closing consumer channel").catch(() => {});
          await c.close();
        },
      };
      await ch.consume(
        queue,
        (msg) => {
          if (msg === null) return onFailure(`consumer ${queue} cancelled by the broker`);
          onDelivery(
            {
              tag: msg.fields.deliveryTag,
              payload: msg.content.toString(),
              redelivered: msg.fields.redelivered,
            },
            handle,
          );
        },
        { noAck: false, consumerTag },
      );
      return handle;
    },

    async close() {
      if (admin) await admin.close();
      admin = null;
    },
  };
}
