import { describe, expect, it } from "vitest";
import { call, declareQueue, expectError, json, publish } from "../support/api";
import { untilQueuePolls } from "../support/long-polls";
import { sleep } from "../support/socket";

interface Pulled {
  lease: string;
  payload: string;
  redelivered: boolean;
  delivery_count: number;
  routing_key: string;
}

async function pull(queue: string, body: Record<string, unknown> = {}): Promise<Pulled[]> {
  const response = await call("POST", `/api/queues/%2F/${queue}/pull`, { body });
  expect(response.status).toBe(200);
  return (await json<{ messages: Pulled[] }>(response)).messages;
}

async function settle(queue: string, body: Record<string, unknown>) {
  const response = await call("POST", `/api/queues/%2F/${queue}/ack`, { body });
  expect(response.status).toBe(200);
  return (await json<{ results: { lease: string; ok: boolean; reason?: string }[] }>(response))
    .results;
}

const stats = async (queue: string) =>
  json<{ messages: number; messages_ready: number; messages_unacknowledged: number }>(
    await call("GET", `/api/queues/%2F/${queue}`),
  );

describe("pull consumers", () => {
  it("leases messages in order and removes them when acked", async () => {
    await declareQueue("pull.basic");
    for (const p of ["1", "2", "3"]) await publish("", "pull.basic", p);
    const leased = await pull("pull.basic", { count: 2 });
    expect(leased.map((m) => [m.payload, m.redelivered, m.delivery_count])).toEqual([
      ["1", false, 1],
      ["2", false, 1],
    ]);
    expect(await stats("pull.basic")).toMatchObject({
      messages_ready: 1,
      messages_unacknowledged: 2,
    });
    const results = await settle("pull.basic", { acks: leased.map((m) => m.lease) });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(await stats("pull.basic")).toMatchObject({ messages: 1, messages_unacknowledged: 0 });
  });

  it("requeues a nacked lease in place, or after a delay, and drops one nacked without requeue", async () => {
    await declareQueue("pull.nack");
    for (const p of ["a", "b", "c"]) await publish("", "pull.nack", p);
    const [a, b, c] = await pull("pull.nack", { count: 3 });
    await settle("pull.nack", {
      nacks: [
        { lease: a?.lease, requeue: true },
        { lease: b?.lease, requeue: true, delay_ms: 60_000 },
        { lease: c?.lease, requeue: false },
      ],
    });
    const again = await pull("pull.nack", { count: 3 });
    expect(again.map((m) => [m.payload, m.redelivered])).toEqual([["a", true]]);
    expect((await stats("pull.nack")).messages).toBe(2);
  });

  it("redelivers a message whose lease expired", async () => {
    await declareQueue("pull.expire");
    await publish("", "pull.expire", "late");
    const [first] = await pull("pull.expire", { visibility_timeout_ms: 1000 });
    await sleep(1500); // past the 1 s visibility timeout: a real deadline
    const [again] = await pull("pull.expire", { wait_ms: 2000 });
    expect(again).toMatchObject({ payload: "late", redelivered: true, delivery_count: 2 });
    const [late] = await settle("pull.expire", { acks: [first?.lease] });
    expect(late).toMatchObject({ ok: false, reason: "unknown or expired lease" });
  });

  it("answers a long poll as soon as a message is published", async () => {
    await declareQueue("pull.long");
    const started = Date.now();
    const waiting = pull("pull.long", { wait_ms: 10_000 });
    await untilQueuePolls("pull.long");
    await publish("", "pull.long", "woke");
    const messages = await waiting;
    expect(messages.map((m) => m.payload)).toEqual(["woke"]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("answers an empty list when the wait ends without messages", async () => {
    await declareQueue("pull.empty");
    expect(await pull("pull.empty", { wait_ms: 300 })).toEqual([]);
    expect(await pull("pull.empty")).toEqual([]);
  });

  it("refuses bad pull and ack bodies and unknown queues", async () => {
    await declareQueue("pull.bad");
    const path = "/api/queues/%2F/pull.bad";
    await expectError(await call("POST", `${path}/pull`, { body: { count: 0 } }), 400);
    await expectError(await call("POST", `${path}/pull`, { body: { wait_ms: 20_001 } }), 400);
    await expectError(
      await call("POST", `${path}/pull`, { body: { visibility_timeout_ms: 10 } }),
      400,
    );
    await expectError(await call("POST", `${path}/ack`, { body: {} }), 400);
    await expectError(await call("POST", `${path}/ack`, { body: { acks: [5] } }), 400);
    await expectError(await call("POST", "/api/queues/%2F/pull.none/pull", { body: {} }), 404);
    await expectError(
      await call("POST", "/api/queues/%2F/pull.none/ack", { body: { acks: ["x"] } }),
      404,
    );
    const [unknown] = await settle("pull.bad", { acks: ["no-such-lease"] });
    expect(unknown?.ok).toBe(false);
  });
});
