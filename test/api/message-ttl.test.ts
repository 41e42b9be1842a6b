/**
 * Message TTL: the queue argument x-message-ttl and the per-message `expiration` property (the
 * lower wins). An expired message is never delivered nor returned by get, wherever it is in the
 * queue, and the queue's alarm deletes it without anyone asking.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { queueStub } from "../../src/gateway/stubs";
import { call, declareQueue, drain, expectError, getMessages, json, publish } from "../support/api";
import { deliveries, openConsumer, sleep } from "../support/socket";

const info = async (queue: string) =>
  json<{ messages: number; messages_ready: number; message_bytes: number }>(
    await call("GET", `/api/queues/%2F/${queue}`),
  );

const expiring = (ms: number) => ({ properties: { expiration: String(ms) } });

/** Rows left in the queue object's table, expired or not: proves deletion, not only hiding. */
async function storedRows(queue: string): Promise<number> {
  const stub = queueStub(env, "/", queue) as unknown as DurableObjectStub;
  return runInDurableObject(
    stub,
    (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
  );
}

describe("message TTL", () => {
  it("expires messages after the queue's x-message-ttl: not counted, not returned by get", async () => {
    await declareQueue("ttl.queue-arg", { arguments: { "x-message-ttl": 400 } });
    await publish("", "ttl.queue-arg", "old");
    expect(await info("ttl.queue-arg")).toMatchObject({ messages: 1, messages_ready: 1 });
    await sleep(450); // past the 400 ms TTL: a real deadline, nothing to round-trip
    await publish("", "ttl.queue-arg", "new");
    expect(await info("ttl.queue-arg")).toMatchObject({ messages: 1, message_bytes: 3 });
    expect(await drain("ttl.queue-arg")).toEqual(["new"]);
  });

  it("takes the lower of x-message-ttl and the expiration property", async () => {
    await declareQueue("ttl.lower", { arguments: { "x-message-ttl": 400 } });
    await publish("", "ttl.lower", "own-shorter", expiring(10));
    await publish("", "ttl.lower", "queue-shorter", expiring(60_000));
    await publish("", "ttl.lower", "no-expiration");
    await sleep(40); // past the 10 ms expiration, not the 400 ms TTL
    expect((await getMessages("ttl.lower", 10, "ack_requeue_true")).map((m) => m.payload)).toEqual([
      "queue-shorter",
      "no-expiration",
    ]);
    await sleep(400); // past the 400 ms TTL of the others
    expect(await drain("ttl.lower")).toEqual([]);
  });

  it("expires a message in the middle of the queue, not only at its head", async () => {
    await declareQueue("ttl.middle");
    await publish("", "ttl.middle", "head");
    await publish("", "ttl.middle", "middle", expiring(20));
    await publish("", "ttl.middle", "tail");
    await sleep(60); // past the middle message's 20 ms expiration
    expect(await info("ttl.middle")).toMatchObject({ messages: 2 });
    expect(await storedRows("ttl.middle")).toBe(2);
    expect(await drain("ttl.middle")).toEqual(["head", "tail"]);
  });

  it("deletes expired messages by the queue's alarm, with nobody publishing or reading", async () => {
    await declareQueue("ttl.alarm", { arguments: { "x-message-ttl": 60_000 } });
    for (const p of ["a", "b", "c"]) await publish("", "ttl.alarm", p, expiring(800));
    await publish("", "ttl.alarm", "kept");
    expect(await storedRows("ttl.alarm")).toBe(4);
    await sleep(850); // past the 800 ms expirations, so the alarm has something to delete
    const stub = queueStub(env, "/", "ttl.alarm") as unknown as DurableObjectStub;
    await runDurableObjectAlarm(stub);
    expect(await storedRows("ttl.alarm")).toBe(1);
  });

  it("never delivers an expired message to a consumer", async () => {
    await declareQueue("ttl.consumer");
    await publish("", "ttl.consumer", "stale", expiring(10));
    await sleep(40); // past its 10 ms expiration before a consumer comes
    await publish("", "ttl.consumer", "fresh");
    const socket = await openConsumer("ttl.consumer");
    socket.send({ type: "consume", tag: "c", auto_ack: true });
    const [first] = await deliveries(socket, 1);
    expect(first?.payload).toBe("fresh");
    socket.close();
  });

  it("hands a message with TTL 0 to a consumer that can take it at once, and drops it otherwise", async () => {
    await declareQueue("ttl.zero", { arguments: { "x-message-ttl": 0 } });
    await publish("", "ttl.zero", "nobody-waiting");
    await sleep(5); // the clock moves past the publish: a TTL of 0 has passed
    expect(await getMessages("ttl.zero")).toEqual([]);
    const socket = await openConsumer("ttl.zero");
    socket.send({ type: "consume", tag: "c", auto_ack: true });
    await socket.next();
    await publish("", "ttl.zero", "taken");
    const [got] = await deliveries(socket, 1);
    expect(got?.payload).toBe("taken");
    socket.close();
  });

  it("keeps a delivered message past its TTL, and expires it when it is returned", async () => {
    await declareQueue("ttl.held", { arguments: { "x-message-ttl": 300 } });
    await publish("", "ttl.held", "held");
    const pulled = await call("POST", "/api/queues/%2F/ttl.held/pull", { body: { count: 1 } });
    const [lease] = (await json<{ messages: { lease: string; payload: string }[] }>(pulled))
      .messages;
    expect(lease?.payload).toBe("held");
    await sleep(350); // past the 300 ms TTL while the message is held
    expect(await info("ttl.held")).toMatchObject({ messages: 1 });
    await call("POST", "/api/queues/%2F/ttl.held/ack", {
      body: { nacks: [{ lease: lease?.lease, requeue: true }] },
    });
    expect(await info("ttl.held")).toMatchObject({ messages: 0 });
    expect(await storedRows("ttl.held")).toBe(0);
  });

  it("refuses a publish whose expiration is not a string of milliseconds", async () => {
    await declareQueue("ttl.bad-expiration");
    await expectError(await publish("", "ttl.bad-expiration", "x", expiring(-5)), 400);
  });

  it("refuses a bad x-message-ttl with RabbitMQ's reasons", async () => {
    const cases: [unknown, string][] = [
      [-1, "{value_negative,-1}"],
      ["abc", '"expected integer, got longstr"'],
      [1.5, '"expected integer, got double"'],
      [true, '"expected integer, got bool"'],
    ];
    for (const [value, detail] of cases) {
      const error = await expectError(
        await declareQueue("ttl.bad-arg", { arguments: { "x-message-ttl": value } }),
        400,
        "bad_request",
      );
      expect(error.reason).toBe(
        `invalid arg 'x-message-ttl' for queue 'ttl.bad-arg' in vhost '/': ${detail}`,
      );
    }
  });
});
