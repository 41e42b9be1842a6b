/**
 * Dispatch inside a queue object, driven directly: a pass sends at most LIMITS.maxDeliverBytes
 * of messages (at least one) and asks to be resumed, and it delivers nothing to a connection
 * whose access is not current.
 */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import type { DeliverBatchFrame, DeliverFrame } from "../../src/protocol/frames";
import type { PublishedMessage } from "../../src/protocol/message";
import { QueueEngine } from "../../src/queue/queue-engine";

const policy = () => ({
  singleActiveConsumer: false,
  deliveryLimit: undefined,
  messageTtl: undefined,
  deadLetter: undefined,
  maxLength: undefined,
  maxLengthBytes: undefined,
});

function messages(n: number, bytes: number): PublishedMessage[] {
  return Array.from({ length: n }, () => ({
    exchange: "",
    routingKey: "k",
    properties: {},
    body: new Uint8Array(bytes),
  }));
}

const consumer = {
  tag: "c",
  prefetch: 0,
  autoAck: false,
  exclusive: false,
  ackTimeoutMs: 60_000,
  batch: false,
};

describe("a dispatch pass", () => {
  it("sends at most its byte budget, asks to resume, and the next pass sends the rest", async () => {
    const stub = env.QUEUES.getByName("dispatch-budget-1");
    await runInDurableObject(stub, (_instance, state) => {
      const sent: (DeliverFrame | DeliverBatchFrame)[] = [];
      let resumes = 0;
      const engine = new QueueEngine(state.storage.sql, policy, (_c, frame) => sent.push(frame), {
        mayDeliver: () => true,
        resumeLater: () => resumes++,
      });
      const size = 256 * 1024;
      const total = Math.ceil((LIMITS.maxDeliverBytes * 2.5) / size);
      engine.consume("conn", consumer, Date.now(), "q");
      engine.enqueue(messages(total, size), Date.now());
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.length * size).toBeLessThanOrEqual(LIMITS.maxDeliverBytes);
      expect(resumes).toBe(1);
      let passes = 1;
      while (sent.length < total && passes < 10) {
        engine.dispatch(Date.now());
        passes++;
      }
      expect(sent.length).toBe(total);
      expect(passes).toBeGreaterThanOrEqual(3);
      expect(engine.stats()).toMatchObject({ messages_ready: 0, messages_unacknowledged: total });
    });
  });

  it("always sends one message, however large", async () => {
    const stub = env.QUEUES.getByName("dispatch-budget-2");
    await runInDurableObject(stub, (_instance, state) => {
      const sent: (DeliverFrame | DeliverBatchFrame)[] = [];
      const engine = new QueueEngine(state.storage.sql, policy, (_c, frame) => sent.push(frame), {
        mayDeliver: () => true,
        resumeLater: () => undefined,
      });
      engine.consume("conn", consumer, Date.now(), "q");
      engine.enqueue(messages(2, LIMITS.maxDeliverBytes + 1), Date.now());
      expect(sent).toHaveLength(1);
    });
  });

  it("delivers nothing to a connection whose access is not current, and the rest once it is", async () => {
    const stub = env.QUEUES.getByName("dispatch-budget-3");
    await runInDurableObject(stub, (_instance, state) => {
      const sent: string[] = [];
      const current = new Set(["checked"]);
      const engine = new QueueEngine(state.storage.sql, policy, (c) => sent.push(c), {
        mayDeliver: (connection) => current.has(connection),
        resumeLater: () => undefined,
      });
      engine.consume("checked", { ...consumer, prefetch: 2 }, Date.now(), "q");
      engine.consume("stale", { ...consumer, prefetch: 2 }, Date.now(), "q");
      engine.enqueue(messages(6, 10), Date.now());
      expect(sent).toEqual(["checked", "checked"]);
      current.add("stale");
      engine.dispatch(Date.now());
      expect(sent).toEqual(["checked", "checked", "stale", "stale"]);
      expect(engine.stats().messages_ready).toBe(2);
    });
  });

  it("cuts a batched consumer's frames at the frame limit and the pass at its budget", async () => {
    const stub = env.QUEUES.getByName("dispatch-budget-4");
    await runInDurableObject(stub, (_instance, state) => {
      const frames: DeliverBatchFrame[] = [];
      let resumes = 0;
      const engine = new QueueEngine(
        state.storage.sql,
        policy,
        (_c, frame) => frames.push(frame as DeliverBatchFrame),
        { mayDeliver: () => true, resumeLater: () => resumes++ },
      );
      const size = 64 * 1024;
      const total = Math.ceil((LIMITS.maxDeliverBytes * 1.5) / size);
      engine.consume("conn", { ...consumer, batch: true }, Date.now(), "q");
      engine.enqueue(messages(total, size), Date.now());
      const counts = frames.map((f) => f.deliveries.length);
      const delivered = counts.reduce((a, b) => a + b, 0);
      expect(delivered * size).toBeLessThanOrEqual(LIMITS.maxDeliverBytes);
      for (const n of counts) expect(n * size).toBeLessThanOrEqual(LIMITS.maxDeliverFrameBytes);
      expect(frames.length).toBeGreaterThan(1);
      expect(resumes).toBe(1);
      const tags = frames.flatMap((f) => f.deliveries.map((d) => d.delivery_tag));
      expect(tags).toEqual(Array.from({ length: delivered }, (_, i) => i + 1));
    });
  });
});
