import { describe, expect, it } from "vitest";
import { QueueFeeder } from "../../src/objects/queue-feeder";
import type { PublishedMessage } from "../../src/protocol/message";

const message = (payload: string): PublishedMessage => ({
  exchange: "x",
  routingKey: "k",
  properties: {},
  body: new TextEncoder().encode(payload),
});

const text = (messages: PublishedMessage[]) =>
  messages.map((m) => new TextDecoder().decode(m.body));

/** A send function whose calls stay open until the test releases them. */
function controlledSend() {
  const calls: {
    queue: string;
    payloads: string[];
    release: (stored: boolean) => void;
    fail: (e: Error) => void;
  }[] = [];
  const send = (queue: string, messages: PublishedMessage[]) =>
    new Promise<boolean>((resolve, reject) => {
      calls.push({ queue, payloads: text(messages), release: resolve, fail: reject });
    });
  return { calls, send };
}

describe("QueueFeeder", () => {
  it("sends at once when nothing is in flight", async () => {
    const { calls, send } = controlledSend();
    const feeder = new QueueFeeder(send);
    const done = feeder.enqueue("q", [message("a")]);
    expect(calls.map((c) => c.payloads)).toEqual([["a"]]);
    calls[0]?.release(true);
    expect(await done).toBe(true);
  });

  it("coalesces messages that arrive while a call is in flight into one ordered batch", async () => {
    const { calls, send } = controlledSend();
    const feeder = new QueueFeeder(send);
    const first = feeder.enqueue("q", [message("1")]);
    const second = feeder.enqueue("q", [message("2"), message("3")]);
    const third = feeder.enqueue("q", [message("4")]);
    expect(calls).toHaveLength(1);
    calls[0]?.release(true);
    expect(await first).toBe(true);
    await Promise.resolve();
    expect(calls.map((c) => c.payloads)).toEqual([["1"], ["2", "3", "4"]]);
    calls[1]?.release(true);
    expect(await Promise.all([second, third])).toEqual([true, true]);
  });

  it("keeps separate queues independent", async () => {
    const { calls, send } = controlledSend();
    const feeder = new QueueFeeder(send);
    void feeder.enqueue("a", [message("1")]);
    void feeder.enqueue("b", [message("2")]);
    expect(calls.map((c) => [c.queue, c.payloads])).toEqual([
      ["a", ["1"]],
      ["b", ["2"]],
    ]);
  });

  it("rejects every caller of a failed batch and carries on with the next", async () => {
    const { calls, send } = controlledSend();
    const feeder = new QueueFeeder(send);
    const first = feeder.enqueue("q", [message("1")]);
    const second = feeder.enqueue("q", [message("2")]);
    calls[0]?.fail(new Error("queue overloaded"));
    await expect(first).rejects.toThrow("queue overloaded");
    await Promise.resolve();
    calls[1]?.release(false);
    expect(await second).toBe(false);
  });
});
