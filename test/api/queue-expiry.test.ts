/**
 * x-expires: a queue unused for that long (no consumer, no get or pull, no redeclaration) is
 * deleted with its bindings, by its own alarm. Publishing does not count as use (RabbitMQ).
 */
import { describe, expect, it } from "vitest";
import {
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  getMessages,
  json,
  publish,
} from "../support/api";
import { type Frame, openConsumer, sleep } from "../support/socket";

const exists = async (queue: string) => (await call("GET", `/api/queues/%2F/${queue}`)).status;

/** Waits until the queue is gone (404), at most `ms`; answers the last status seen. */
async function goneWithin(queue: string, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let status = await exists(queue);
  while (status !== 404 && Date.now() < until) {
    await sleep(25);
    status = await exists(queue);
  }
  return status;
}

describe("queue expiry (x-expires)", () => {
  it("deletes a queue unused for x-expires, and its bindings with it", async () => {
    await declareExchange("exp.x", "direct");
    await declareQueue("exp.unused", { arguments: { "x-expires": 200 } });
    await bindQueue("exp.x", "exp.unused", "k");
    expect(await exists("exp.unused")).toBe(200);
    expect(await goneWithin("exp.unused", 5000)).toBe(404);
    const bindings = await json<{ destination: string }[]>(
      await call("GET", "/api/exchanges/%2F/exp.x/bindings/source"),
    );
    expect(bindings.map((b) => b.destination)).not.toContain("exp.unused");
  });

  it("is not kept alive by publishing", async () => {
    await declareQueue("exp.published", { arguments: { "x-expires": 300 } });
    const until = Date.now() + 5000;
    let status = 200;
    while (status !== 404 && Date.now() < until) {
      await publish("", "exp.published", "m");
      await sleep(50);
      status = await exists("exp.published");
    }
    expect(status).toBe(404);
  });

  it("is kept while a consumer is attached, and expires once the last one has gone", async () => {
    await declareQueue("exp.consumed", { arguments: { "x-expires": 200 } });
    const consumer = await openConsumer("exp.consumed");
    consumer.send({ type: "consume", tag: "c", prefetch: 1, auto_ack: true });
    await consumer.next((f: Frame) => f.type === "consume_ok");
    await sleep(600);
    expect(await exists("exp.consumed")).toBe(200);
    consumer.send({ type: "cancel", tag: "c" });
    await consumer.next((f: Frame) => f.type === "cancel_ok");
    expect(await goneWithin("exp.consumed", 5000)).toBe(404);
    consumer.close();
  });

  it("starts its time again at each get", async () => {
    await declareQueue("exp.got", { arguments: { "x-expires": 600 } });
    const started = Date.now();
    // Gets every 150 ms keep it for well over its 600 ms.
    while (Date.now() - started < 1500) {
      await getMessages("exp.got", 1);
      await sleep(150);
    }
    expect(await exists("exp.got")).toBe(200);
    expect(await goneWithin("exp.got", 5000)).toBe(404);
  });

  it("starts its time again at each redeclaration", async () => {
    await declareQueue("exp.redeclared", { arguments: { "x-expires": 600 } });
    const started = Date.now();
    while (Date.now() - started < 1500) {
      await declareQueue("exp.redeclared", { arguments: { "x-expires": 600 } });
      await sleep(150);
    }
    expect(await exists("exp.redeclared")).toBe(200);
    expect(await goneWithin("exp.redeclared", 5000)).toBe(404);
  });

  it("can be declared again after it expired, as a new empty queue", async () => {
    await declareQueue("exp.again", { arguments: { "x-expires": 150 } });
    await publish("", "exp.again", "lost with the queue");
    expect(await goneWithin("exp.again", 5000)).toBe(404);
    await declareQueue("exp.again", { arguments: { "x-expires": 60000 } });
    expect(await getMessages("exp.again")).toEqual([]);
  });
});
