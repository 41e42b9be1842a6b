/**
 * Priority queues (x-max-priority): higher priority first, in publish order within a priority,
 * a message's priority capped at the queue's maximum, no priority counting as 0; a returned
 * message goes back to its place. A queue without x-max-priority ignores the property.
 */
import { describe, expect, it } from "vitest";
import { call, declareQueue, drain, json, publish } from "../support/api";
import { type Frame, openConsumer } from "../support/socket";

const publishWith = (queue: string, payload: string, priority?: number) =>
  publish("", queue, payload, { properties: priority === undefined ? {} : { priority } });

describe("priority queues", () => {
  it("hands out higher priorities first and keeps publish order within one", async () => {
    await declareQueue("prio.order", { arguments: { "x-max-priority": 10 } });
    const sent: [string, number | undefined][] = [
      ["low-1", 1],
      ["mid-1", 5],
      ["none-1", undefined],
      ["mid-2", 5],
      ["top-1", 10],
      ["capped", 200],
      ["low-2", 1],
      ["zero", 0],
    ];
    for (const [payload, priority] of sent) await publishWith("prio.order", payload, priority);
    expect(await drain("prio.order")).toEqual([
      "top-1",
      "capped",
      "mid-1",
      "mid-2",
      "low-1",
      "low-2",
      "none-1",
      "zero",
    ]);
  });

  it("delivers to a consumer by priority, and a returned message goes back to its place", async () => {
    await declareQueue("prio.consumed", { arguments: { "x-max-priority": 5 } });
    for (const [payload, priority] of [
      ["a", 1],
      ["b", 3],
      ["c", 3],
    ] as const) {
      await publishWith("prio.consumed", payload, priority);
    }
    const consumer = await openConsumer("prio.consumed");
    consumer.send({ type: "consume", tag: "c", prefetch: 1 });
    const first = await consumer.next((f: Frame) => f.type === "deliver");
    expect(first.payload).toBe("b");
    // Returned: "b" is first again, ahead of "c" (same priority, published earlier).
    consumer.send({ type: "nack", delivery_tag: first.delivery_tag, requeue: true });
    const again = await consumer.next((f: Frame) => f.type === "deliver");
    expect([again.payload, again.redelivered]).toEqual(["b", true]);
    consumer.send({ type: "ack", delivery_tag: again.delivery_tag });
    const next = await consumer.next((f: Frame) => f.type === "deliver");
    expect(next.payload).toBe("c");
    consumer.send({ type: "ack", delivery_tag: next.delivery_tag });
    const last = await consumer.next((f: Frame) => f.type === "deliver");
    expect(last.payload).toBe("a");
    consumer.send({ type: "ack", delivery_tag: last.delivery_tag });
    consumer.close();
  });

  it("ignores the priority property on a queue without x-max-priority", async () => {
    await declareQueue("prio.plain");
    await publishWith("prio.plain", "first", 1);
    await publishWith("prio.plain", "second", 9);
    expect(await drain("prio.plain")).toEqual(["first", "second"]);
  });

  it("drops the next message to be delivered first at its length limit", async () => {
    await declareQueue("prio.limited", {
      arguments: { "x-max-priority": 5, "x-max-length": 2 },
    });
    await publishWith("prio.limited", "high", 5);
    await publishWith("prio.limited", "low", 1);
    await publishWith("prio.limited", "mid", 3);
    const queue = await json<{ messages: number }>(
      await call("GET", "/api/queues/%2F/prio.limited"),
    );
    expect(queue.messages).toBe(2);
    expect(await drain("prio.limited")).toEqual(["mid", "low"]);
  });
});
