/**
 * A WebSocket consumer's nack (or reject) with requeue and `delay_ms`: the message is held back
 * that long, then delivered again (retries with backoff), while the messages behind it go on.
 */
import { describe, expect, it } from "vitest";
import { declareQueue, publish } from "../support/api";
import { type Frame, openConsumer } from "../support/socket";

const isDeliver = (f: Frame) => f.type === "deliver";

describe("nack with a delay on a WebSocket consumer", () => {
  it("holds a nacked message back for delay_ms while later messages are delivered", async () => {
    await declareQueue("nackdelay.q");
    await publish("", "nackdelay.q", "retried");
    await publish("", "nackdelay.q", "next");
    const consumer = await openConsumer("nackdelay.q");
    consumer.send({ type: "consume", tag: "c", prefetch: 10 });
    const first = await consumer.next(isDeliver);
    expect(first.payload).toBe("retried");
    const second = await consumer.next(isDeliver);
    expect(second.payload).toBe("next");
    const nackedAt = Date.now();
    consumer.send({ type: "nack", delivery_tag: first.delivery_tag, requeue: true, delay_ms: 400 });
    consumer.send({ type: "ack", delivery_tag: second.delivery_tag });
    const again = await consumer.next(isDeliver, 5000);
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(400);
    expect([again.payload, again.redelivered]).toEqual(["retried", true]);
    consumer.close();
  });

  it("refuses a delay beyond the limit with a bad_frame error", async () => {
    await declareQueue("nackdelay.bad");
    const consumer = await openConsumer("nackdelay.bad");
    consumer.send({ type: "nack", delivery_tag: 1, delay_ms: -1 });
    const error = await consumer.next((f: Frame) => f.type === "error");
    expect(error.code).toBe("bad_frame");
    consumer.close();
  });
});
