import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  BrokerApiError,
  BrokerClient,
  type Delivery,
  parseConnectionUrl,
} from "../../client/index";
import { GUEST } from "../support/api";
import { EVENTUALLY, HANG_GUARD_MS } from "../support/barriers";
import { PoolSockets } from "../support/pool-websocket";
import { sleep } from "../support/socket";

function client() {
  const sockets = new PoolSockets(GUEST);
  const broker = new BrokerClient("http://guest:guest@broker.test/%2F", {
    fetch: (request) => exports.default.fetch(request),
    WebSocket: sockets.constructorFn,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
  });
  return { broker, sockets };
}

async function until(condition: () => boolean, timeoutMs = HANG_GUARD_MS): Promise<void> {
  await vi.waitFor(() => expect(condition()).toBe(true), { timeout: timeoutMs, interval: 5 });
}

/**
 * Waits until the broker has handled the client's acks: the client sends them a tick after the
 * handler, so their effect is awaited, not slept for.
 */
async function untilSettled(broker: BrokerClient, queue: string, expected: object): Promise<void> {
  await vi.waitFor(
    async () => expect(await broker.queueInfo(queue)).toMatchObject(expected),
    EVENTUALLY,
  );
}

describe("connection URLs", () => {
  it("takes credentials and the vhost from the URL, the default vhost when the path is empty", () => {
    const info = parseConnectionUrl("https://user1:p%40ss@broker.example/new-virtual-host");
    expect(info).toMatchObject({
      origin: "https://broker.example",
      vhost: "new-virtual-host",
      user: "user1",
    });
    expect(info.authorization).toBe(`Basic ${btoa("user1:p@ss")}`);
    expect(parseConnectionUrl("http://guest:guest@localhost:8787").vhost).toBe("/");
    expect(parseConnectionUrl("http://guest:guest@localhost:8787/%2F").vhost).toBe("/");
    expect(() => parseConnectionUrl("amqp://guest:guest@localhost")).toThrow(TypeError);
    expect(() => parseConnectionUrl("http://localhost")).toThrow(TypeError);
  });
});

describe("the client", () => {
  it("publishes with confirms and consumes with acks", async () => {
    const { broker } = client();
    await broker.declareQueue("cl.flow");
    const publisher = broker.publisher();
    const results = await Promise.all(
      ["a", "b", "c"].map((p) => publisher.publish("", "cl.flow", p)),
    );
    expect(results).toEqual([{ routed: true }, { routed: true }, { routed: true }]);
    expect(await publisher.publish("", "cl.nowhere", "x")).toEqual({ routed: false });
    const got: string[] = [];
    const consumer = broker.consume("cl.flow", (d) => {
      got.push(d.payload);
      d.ack();
    });
    await consumer.ready;
    await until(() => got.length === 3);
    expect(got).toEqual(["a", "b", "c"]);
    await untilSettled(broker, "cl.flow", { messages: 0 });
    publisher.close();
    consumer.close();
  });

  it("answers broker errors as BrokerApiError with the status and reason", async () => {
    const { broker } = client();
    const error = await broker.declareExchange("amq.mine", "direct").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerApiError);
    expect(error).toMatchObject({ status: 403, error: "access_refused" });
  });

  it("reconnects after a dropped connection, subscribes again and gets the unacked message back", async () => {
    const { broker, sockets } = client();
    await broker.declareQueue("cl.reconnect");
    await broker.publish("", "cl.reconnect", "job");
    const seen: Delivery[] = [];
    const consumer = broker.consume("cl.reconnect", (d) => {
      seen.push(d);
      if (seen.length > 1) d.ack();
    });
    await until(() => seen.length === 1);
    sockets.opened[0]?.drop();
    await until(() => seen.length === 2);
    expect(seen.map((d) => [d.payload, d.redelivered])).toEqual([
      ["job", false],
      ["job", true],
    ]);
    seen[0]?.ack(); // from the dead connection: must not reach the new one
    await untilSettled(broker, "cl.reconnect", { messages: 0, consumers: 1 });
    consumer.close();
  });

  it("resends unconfirmed publishes after a reconnect", async () => {
    const { broker, sockets } = client();
    await broker.declareQueue("cl.resend");
    const publisher = broker.publisher();
    await publisher.publish("", "cl.resend", "before");
    const pending = publisher.publish("", "cl.resend", "during");
    sockets.opened[0]?.drop();
    expect(await pending).toEqual({ routed: true });
    const payloads = (await broker.get("cl.resend", 10)).map((m) => m.payload);
    expect(payloads[0]).toBe("before");
    expect(payloads.slice(1).every((p) => p === "during")).toBe(true);
    expect(payloads.length).toBeGreaterThanOrEqual(2);
    publisher.close();
  });

  it("nacks a delivery whose handler throws, so it comes again", async () => {
    const { broker } = client();
    await broker.declareQueue("cl.throws");
    await broker.publish("", "cl.throws", "flaky");
    let attempts = 0;
    const consumer = broker.consume("cl.throws", (d) => {
      attempts++;
      if (attempts === 1) throw new Error("not today");
      d.ack();
    });
    await until(() => attempts === 2);
    await untilSettled(broker, "cl.throws", { messages: 0 });
    consumer.close();
  });

  it("sends a tick's publishes as one frame, each with its own confirm, and acks in one frame", async () => {
    const { broker, sockets } = client();
    await broker.declareQueue("cl.batch");
    const publisher = broker.publisher();
    await broker.declareQueue("cl.batch.warm");
    await publisher.publish("", "cl.batch.warm", "open"); // the socket is open from here on
    const before = sockets.opened[0]?.sent.length ?? 0;
    const payloads = Array.from({ length: 300 }, (_, i) => `m${i}`);
    const confirms = await Promise.all(payloads.map((p) => publisher.publish("", "cl.batch", p)));
    expect(confirms).toHaveLength(300);
    expect(confirms.every((c) => c.routed)).toBe(true);
    const publishFrames = (sockets.opened[0]?.sent ?? []).slice(before);
    expect(publishFrames).toHaveLength(1);
    expect(
      (JSON.parse(publishFrames[0] as string) as { messages: unknown[] }).messages,
    ).toHaveLength(300);
    const seen: string[] = [];
    const consumer = broker.consume(
      "cl.batch",
      (d) => {
        seen.push(d.payload);
        d.ack();
      },
      { prefetch: 1000 },
    );
    await until(() => seen.length === 300);
    expect(seen).toEqual(payloads);
    await untilSettled(broker, "cl.batch", { messages: 0 });
    const consumerFrames = (sockets.opened[1]?.sent ?? []).map(
      (f) => JSON.parse(f) as { type: string },
    );
    const ackFrames = consumerFrames.filter((f) => f.type === "ack");
    expect(ackFrames.length).toBeLessThan(30);
    publisher.close();
    consumer.close();
  });

  it("bounds a frame in bytes and waits for the linger before sending", async () => {
    const { broker, sockets } = client();
    await broker.declareQueue("cl.linger");
    const publisher = broker.publisher({ lingerMs: 30, maxFrameBytes: 2000 });
    await publisher.publish("", "cl.linger", "open"); // the socket is open from here on
    const before = sockets.opened[0]?.sent.length ?? 0;
    const first = publisher.publish("", "cl.linger", "a".repeat(500));
    await sleep(5); // inside the 30 ms linger: what this test is about is time
    const rest = Array.from({ length: 9 }, () =>
      publisher.publish("", "cl.linger", "b".repeat(500)),
    );
    await Promise.all([first, ...rest]);
    const frames = (sockets.opened[0]?.sent ?? [])
      .slice(before)
      .map((f) => JSON.parse(f) as { messages: unknown[] });
    expect(frames.map((f) => f.messages.length)).toEqual([3, 3, 3, 1]);
    expect((await broker.get("cl.linger", 20)).length).toBe(11);
    publisher.close();
  });

  it("resends a whole unconfirmed batch after a reconnect, each publish keeping its confirm", async () => {
    const { broker, sockets } = client();
    await broker.declareQueue("cl.batch.resend");
    const publisher = broker.publisher();
    await publisher.publish("", "cl.batch.resend", "first");
    const payloads = Array.from({ length: 50 }, (_, i) => `b${i}`);
    const pending = payloads.map((p) => publisher.publish("", "cl.batch.resend", p));
    sockets.opened[0]?.drop();
    const confirms = await Promise.all(pending);
    expect(confirms.every((c) => c.routed)).toBe(true);
    const got = (await broker.get("cl.batch.resend", 200)).map((m) => m.payload);
    expect(got[0]).toBe("first");
    for (const p of payloads) expect(got).toContain(p);
    // At least once: a copy stored before the drop may come twice, in order of first sending.
    const firstSeen = payloads.map((p) => got.indexOf(p));
    expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
    publisher.close();
  });
});
