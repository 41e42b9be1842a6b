/**
 * Dead-lettering: x-dead-letter-exchange / x-dead-letter-routing-key with the reasons rejected
 * (WebSocket nack/reject, get reject_requeue_false, pull nack), expired and delivery_limit, the
 * x-death header as RabbitMQ 3.10 builds it, and RabbitMQ's cycle rule.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { queueStub } from "../../src/gateway/stubs";
import { MessageStore } from "../../src/storage/message-store";
import {
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  drain,
  getMessages,
  json,
  publish,
} from "../support/api";
import { EVENTUALLY } from "../support/barriers";
import { deliveries, openConsumer } from "../support/socket";

const messagesIn = async (queue: string) =>
  (await json<{ messages: number }>(await call("GET", `/api/queues/%2F/${queue}`))).messages;

/** Waits until `queue` holds `n` messages (dead-lettering runs right after the reject answers). */
async function untilCount(queue: string, n: number): Promise<void> {
  await vi.waitFor(async () => expect(await messagesIn(queue)).toBe(n), EVENTUALLY);
}

/**
 * Messages `queue` has set aside for its dead-letter exchange and not yet handed over. A row
 * leaves only once publishing its copy answered, so none pending means every copy is stored.
 */
async function deadLettersPending(queue: string): Promise<number> {
  const stub = queueStub(env, "/", queue) as unknown as DurableObjectStub;
  return runInDurableObject(
    stub,
    (_instance, state) => new MessageStore(state.storage.sql).deadLetters(100).length,
  );
}

async function deadLetterSetup(prefix: string, args: Record<string, unknown> = {}) {
  await declareExchange(`${prefix}.dlx`, "fanout");
  await declareQueue(`${prefix}.dead`);
  await bindQueue(`${prefix}.dlx`, `${prefix}.dead`);
  await declareQueue(`${prefix}.work`, {
    arguments: { "x-dead-letter-exchange": `${prefix}.dlx`, ...args },
  });
}

interface Pulled {
  lease: string;
  payload: string;
  properties: { headers?: Record<string, unknown> };
}

async function pull(queue: string): Promise<Pulled[]> {
  const response = await call("POST", `/api/queues/%2F/${queue}/pull`, { body: { count: 10 } });
  return (await json<{ messages: Pulled[] }>(response)).messages;
}

async function nack(queue: string, leases: string[], requeue: boolean) {
  await call("POST", `/api/queues/%2F/${queue}/ack`, {
    body: { nacks: leases.map((lease) => ({ lease, requeue })) },
  });
}

const aboutNow = () =>
  expect.toSatisfy((t: unknown) => Math.abs(Number(t) - Date.now() / 1000) < 30);

describe("dead-lettering", () => {
  it("dead-letters a message nacked without requeue over WebSocket, with RabbitMQ's x-death", async () => {
    await deadLetterSetup("dl.ws");
    await publish("", "dl.ws.work", "r", { properties: { headers: { a: 1 }, message_id: "m1" } });
    const socket = await openConsumer("dl.ws.work");
    socket.send({ type: "consume", tag: "c" });
    const [delivery] = await deliveries(socket, 1);
    socket.send({ type: "nack", delivery_tag: delivery?.delivery_tag, requeue: false });
    await untilCount("dl.ws.dead", 1);
    await untilCount("dl.ws.work", 0);
    const [dead] = await getMessages("dl.ws.dead");
    expect(dead).toMatchObject({ payload: "r", exchange: "dl.ws.dlx", routing_key: "dl.ws.work" });
    expect(dead?.properties).toEqual({
      message_id: "m1",
      headers: {
        a: 1,
        "x-death": [
          {
            count: 1,
            reason: "rejected",
            queue: "dl.ws.work",
            time: aboutNow(),
            exchange: "",
            "routing-keys": ["dl.ws.work"],
          },
        ],
        "x-first-death-exchange": "",
        "x-first-death-queue": "dl.ws.work",
        "x-first-death-reason": "rejected",
      },
    });
    socket.close();
  });

  it("dead-letters a get with reject_requeue_false, and a pull nacked without requeue", async () => {
    await deadLetterSetup("dl.get");
    await publish("", "dl.get.work", "by-get");
    await publish("", "dl.get.work", "by-pull");
    await getMessages("dl.get.work", 1, "reject_requeue_false");
    await untilCount("dl.get.dead", 1);
    const [leased] = await pull("dl.get.work");
    expect(leased?.payload).toBe("by-pull");
    await nack("dl.get.work", [leased?.lease ?? ""], false);
    await untilCount("dl.get.dead", 2);
    const dead = await getMessages("dl.get.dead", 10, "ack_requeue_true");
    expect(dead.map((m) => [m.payload, m.properties.headers])).toEqual([
      ["by-get", expect.objectContaining({ "x-first-death-reason": "rejected" })],
      ["by-pull", expect.objectContaining({ "x-first-death-reason": "rejected" })],
    ]);
    // ack_requeue_false takes without dead-lettering, as in RabbitMQ. The barrier: a rejected
    // message after it, whose copy follows any copy of "taken" (dead letters leave in order).
    await publish("", "dl.get.work", "taken");
    await getMessages("dl.get.work", 1, "ack_requeue_false");
    await publish("", "dl.get.work", "marker");
    await getMessages("dl.get.work", 1, "reject_requeue_false");
    await untilCount("dl.get.dead", 3);
    const after = await getMessages("dl.get.dead", 10, "ack_requeue_true");
    expect(after.map((m) => m.payload)).toEqual(["by-get", "by-pull", "marker"]);
    await untilCount("dl.get.work", 0);
  });

  it("dead-letters an expired message with original-expiration and the dead-letter routing key", async () => {
    await declareExchange("dl.exp.dlx", "direct");
    await declareQueue("dl.exp.dead");
    await bindQueue("dl.exp.dlx", "dl.exp.dead", "expired-here");
    await declareQueue("dl.exp.work", {
      arguments: {
        "x-dead-letter-exchange": "dl.exp.dlx",
        "x-dead-letter-routing-key": "expired-here",
      },
    });
    await publish("", "dl.exp.work", "e", { properties: { expiration: "20" } });
    await untilCount("dl.exp.dead", 1);
    const [dead] = await getMessages("dl.exp.dead");
    expect(dead).toMatchObject({ exchange: "dl.exp.dlx", routing_key: "expired-here" });
    expect(dead?.properties).toEqual({
      headers: {
        "x-death": [
          {
            count: 1,
            reason: "expired",
            queue: "dl.exp.work",
            time: aboutNow(),
            exchange: "",
            "routing-keys": ["dl.exp.work"],
            "original-expiration": "20",
          },
        ],
        "x-first-death-exchange": "",
        "x-first-death-queue": "dl.exp.work",
        "x-first-death-reason": "expired",
      },
    });
  });

  it("dead-letters with reason delivery_limit past x-delivery-limit", async () => {
    await deadLetterSetup("dl.limit", { "x-delivery-limit": 1 });
    await publish("", "dl.limit.work", "poison");
    for (let round = 0; round < 2; round++) {
      const [leased] = await pull("dl.limit.work");
      await nack("dl.limit.work", [leased?.lease ?? ""], true);
    }
    await untilCount("dl.limit.dead", 1);
    const [dead] = await getMessages("dl.limit.dead");
    expect(dead?.properties.headers).toMatchObject({
      "x-death": [expect.objectContaining({ reason: "delivery_limit", queue: "dl.limit.work" })],
      "x-first-death-reason": "delivery_limit",
    });
  });

  it("runs a retry loop (work -> DLX -> wait queue with TTL -> back) for 3 rounds, counting in x-death", async () => {
    await declareQueue("dl.loop.work", {
      arguments: { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dl.loop.wait" },
    });
    await declareQueue("dl.loop.wait", {
      arguments: {
        "x-message-ttl": 30,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dl.loop.work",
      },
    });
    await publish("", "dl.loop.work", "job");
    const seen: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      await untilCount("dl.loop.work", 1);
      const [leased] = await pull("dl.loop.work");
      seen.push(leased?.properties.headers?.["x-death"]);
      await nack("dl.loop.work", [leased?.lease ?? ""], false);
    }
    const entry = (queue: string, reason: string, count: number) =>
      expect.objectContaining({ queue, reason, count });
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toEqual([
      entry("dl.loop.wait", "expired", 1),
      entry("dl.loop.work", "rejected", 1),
    ]);
    expect(seen[2]).toEqual([
      entry("dl.loop.wait", "expired", 2),
      entry("dl.loop.work", "rejected", 2),
    ]);
  });

  it("stops a dead-letter cycle without a rejection, as RabbitMQ does", async () => {
    await declareQueue("dl.cycle", {
      arguments: {
        "x-message-ttl": 20,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "dl.cycle",
      },
    });
    await publish("", "dl.cycle", "round-and-round");
    // Gone from the queue (its TTL passed), then no copy on its way back (read in this order: a
    // copy is stored before its row leaves), so the drain below would see a copy that came back.
    await vi.waitFor(async () => {
      expect(await messagesIn("dl.cycle")).toBe(0);
      expect(await deadLettersPending("dl.cycle")).toBe(0);
    }, EVENTUALLY);
    expect(await drain("dl.cycle")).toEqual([]);
  });

  it("drops dead letters whose exchange does not exist, and discards without a DLX", async () => {
    await declareQueue("dl.missing", { arguments: { "x-dead-letter-exchange": "dl.nowhere" } });
    await publish("", "dl.missing", "x");
    await getMessages("dl.missing", 1, "reject_requeue_false");
    await untilCount("dl.missing", 0);
    await declareQueue("dl.none");
    await publish("", "dl.none", "x");
    await getMessages("dl.none", 1, "reject_requeue_false");
    await untilCount("dl.none", 0);
  });
});
