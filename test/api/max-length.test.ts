/**
 * x-max-length and x-max-length-bytes with x-overflow drop-head (the default): the oldest ready
 * messages go, dead-lettered with reason maxlen when the queue has a dead-letter exchange.
 */
import { describe, expect, it, vi } from "vitest";
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

const info = async (queue: string) =>
  json<{ messages: number; messages_ready: number; messages_unacknowledged: number }>(
    await call("GET", `/api/queues/%2F/${queue}`),
  );

describe("queue length limits, drop-head", () => {
  it("keeps the newest x-max-length messages", async () => {
    await declareQueue("len.count", { arguments: { "x-max-length": 2 } });
    for (const p of ["1", "2", "3", "4"]) await publish("", "len.count", p);
    expect(await info("len.count")).toMatchObject({ messages: 2 });
    expect(await drain("len.count")).toEqual(["3", "4"]);
  });

  it("keeps the ready messages within x-max-length-bytes", async () => {
    await declareQueue("len.bytes", { arguments: { "x-max-length-bytes": 5 } });
    for (const p of ["aaa", "bbb", "cc"]) await publish("", "len.bytes", p);
    expect(await drain("len.bytes")).toEqual(["bbb", "cc"]);
  });

  it("counts ready messages only: a delivered one does not make room for less", async () => {
    await declareQueue("len.unacked", { arguments: { "x-max-length": 1 } });
    await publish("", "len.unacked", "held");
    await call("POST", "/api/queues/%2F/len.unacked/pull", { body: { count: 1 } });
    await publish("", "len.unacked", "ready");
    expect(await info("len.unacked")).toMatchObject({
      messages_ready: 1,
      messages_unacknowledged: 1,
    });
  });

  it("applies the limit again when a delivered message is returned", async () => {
    await declareQueue("len.requeue", { arguments: { "x-max-length": 1 } });
    await publish("", "len.requeue", "returned");
    const pulled = await call("POST", "/api/queues/%2F/len.requeue/pull", { body: { count: 1 } });
    const [lease] = (await json<{ messages: { lease: string }[] }>(pulled)).messages;
    await publish("", "len.requeue", "newer");
    await call("POST", "/api/queues/%2F/len.requeue/ack", {
      body: { nacks: [{ lease: lease?.lease, requeue: true }] },
    });
    // The returned message goes back to its place, the head, and the head is what goes.
    expect(await drain("len.requeue")).toEqual(["newer"]);
  });

  it("drops everything with x-max-length 0", async () => {
    await declareQueue("len.zero", { arguments: { "x-max-length": 0 } });
    await publish("", "len.zero", "gone");
    expect(await drain("len.zero")).toEqual([]);
  });

  it("dead-letters the dropped head with reason maxlen", async () => {
    await declareExchange("len.dlx", "fanout");
    await declareQueue("len.dead");
    await bindQueue("len.dlx", "len.dead");
    await declareQueue("len.dl", {
      arguments: { "x-max-length": 1, "x-dead-letter-exchange": "len.dlx" },
    });
    await publish("", "len.dl", "first");
    await publish("", "len.dl", "second");
    await vi.waitFor(async () => expect((await info("len.dead")).messages).toBe(1), EVENTUALLY);
    const [dead] = await getMessages("len.dead");
    expect(dead?.payload).toBe("first");
    expect(dead?.properties.headers).toMatchObject({
      "x-death": [expect.objectContaining({ count: 1, reason: "maxlen", queue: "len.dl" })],
      "x-first-death-reason": "maxlen",
    });
    expect(await drain("len.dl")).toEqual(["second"]);
  });
});
