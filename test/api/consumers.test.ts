import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { call, declareQueue, json, publish } from "../support/api";
import { closeConsumer, consumerBarrier, EVENTUALLY } from "../support/barriers";
import { deliveries, isType, openConsumer, openSocket } from "../support/socket";

interface QueueInfo {
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

const info = async (queue: string) =>
  json<QueueInfo>(await call("GET", `/api/queues/%2F/${queue}`));
const consume = (tag: string, extra: Record<string, unknown> = {}) => ({
  type: "consume",
  tag,
  ...extra,
});

async function publishAll(queue: string, payloads: string[]): Promise<void> {
  for (const payload of payloads) await publish("", queue, payload);
}

describe("WebSocket consumers", () => {
  it("delivers in queue order after consume_ok, with exchange, routing key and properties", async () => {
    await declareQueue("ws.fifo");
    await publish("", "ws.fifo", "m1", { properties: { message_id: "id-1" } });
    const socket = await openConsumer("ws.fifo");
    socket.send(consume("c1"));
    expect(await socket.next()).toEqual({ type: "consume_ok", tag: "c1" });
    await publishAll("ws.fifo", ["m2", "m3"]);
    const got = await deliveries(socket, 3);
    expect(got.map((f) => f.payload)).toEqual(["m1", "m2", "m3"]);
    expect(got[0]).toMatchObject({
      tag: "c1",
      delivery_tag: 1,
      redelivered: false,
      delivery_count: 1,
      exchange: "",
      routing_key: "ws.fifo",
      properties: { message_id: "id-1" },
      payload_encoding: "string",
    });
    expect(got.map((f) => f.delivery_tag)).toEqual([1, 2, 3]);
    socket.close();
  });

  it("splits messages round-robin between two consumers of one queue", async () => {
    await declareQueue("ws.rr");
    const a = await openConsumer("ws.rr");
    const b = await openConsumer("ws.rr");
    a.send(consume("a", { ack: "auto" }));
    await a.next(isType("consume_ok"));
    b.send(consume("b", { ack: "auto" }));
    await b.next(isType("consume_ok"));
    await publishAll("ws.rr", ["1", "2", "3", "4", "5", "6"]);
    const [fromA, fromB] = await Promise.all([deliveries(a, 3), deliveries(b, 3)]);
    expect(fromA.map((f) => f.payload)).toEqual(["1", "3", "5"]);
    expect(fromB.map((f) => f.payload)).toEqual(["2", "4", "6"]);
  });

  it("holds at most prefetch unacknowledged messages per consumer", async () => {
    await declareQueue("ws.prefetch");
    await publishAll("ws.prefetch", ["1", "2", "3", "4", "5"]);
    const socket = await openConsumer("ws.prefetch");
    socket.send(consume("c", { prefetch: 2 }));
    const first = await deliveries(socket, 2);
    await consumerBarrier(socket);
    expect(socket.all("deliver")).toHaveLength(2);
    expect(await info("ws.prefetch")).toMatchObject({
      messages_ready: 3,
      messages_unacknowledged: 2,
      consumers: 1,
    });
    socket.send({ type: "ack", delivery_tag: first[0]?.delivery_tag });
    const third = await socket.next(isType("deliver"));
    expect(third.payload).toBe("3");
    await consumerBarrier(socket);
    expect(socket.all("deliver")).toHaveLength(3);
  });

  it("puts a requeued message back in its place, flagged redelivered with x-delivery-count", async () => {
    await declareQueue("ws.requeue");
    await publishAll("ws.requeue", ["a", "b"]);
    const socket = await openConsumer("ws.requeue");
    socket.send(consume("c", { prefetch: 1 }));
    const [a] = await deliveries(socket, 1);
    socket.send({ type: "reject", delivery_tag: a?.delivery_tag, requeue: true });
    const again = await socket.next(isType("deliver"));
    expect(again).toMatchObject({ payload: "a", redelivered: true, delivery_count: 2 });
    expect(
      (again.properties as { headers: Record<string, unknown> }).headers["x-delivery-count"],
    ).toBe(1);
    socket.send({ type: "ack", delivery_tag: again.delivery_tag });
    expect((await socket.next(isType("deliver"))).payload).toBe("b");
  });

  it("redelivers a connection's unacknowledged messages when it closes", async () => {
    await declareQueue("ws.drop");
    await publishAll("ws.drop", ["x", "y"]);
    const first = await openConsumer("ws.drop");
    first.send(consume("c"));
    await deliveries(first, 2);
    first.close();
    const second = await openConsumer("ws.drop");
    second.send(consume("c2"));
    const again = await deliveries(second, 2);
    expect(again.map((f) => [f.payload, f.redelivered])).toEqual([
      ["x", true],
      ["y", true],
    ]);
  });

  it("acks and nacks several deliveries at once with multiple", async () => {
    await declareQueue("ws.multi");
    await publishAll("ws.multi", ["1", "2", "3", "4"]);
    const socket = await openConsumer("ws.multi");
    socket.send(consume("c"));
    const got = await deliveries(socket, 4);
    socket.send({ type: "ack", delivery_tag: got[1]?.delivery_tag, multiple: true });
    socket.send({
      type: "nack",
      delivery_tag: got[3]?.delivery_tag,
      multiple: true,
      requeue: false,
    });
    await consumerBarrier(socket);
    expect(await info("ws.multi")).toMatchObject({ messages: 0, messages_unacknowledged: 0 });
    expect(socket.all("error")).toEqual([]);
  });

  it("removes messages on delivery with auto ack", async () => {
    await declareQueue("ws.auto");
    await publishAll("ws.auto", ["1", "2"]);
    const socket = await openConsumer("ws.auto");
    socket.send(consume("c", { ack: "auto" }));
    await deliveries(socket, 2);
    expect(await info("ws.auto")).toMatchObject({ messages: 0, consumers: 1 });
    await closeConsumer(socket, "ws.auto");
    expect((await info("ws.auto")).messages).toBe(0);
  });

  it("delivers to one consumer at a time on a single-active-consumer queue and fails over", async () => {
    await declareQueue("ws.sac", { arguments: { "x-single-active-consumer": true } });
    const a = await openConsumer("ws.sac");
    const b = await openConsumer("ws.sac");
    a.send(consume("a"));
    await a.next(isType("consume_ok"));
    b.send(consume("b"));
    await b.next(isType("consume_ok"));
    await publishAll("ws.sac", ["1", "2", "3"]);
    await deliveries(a, 3);
    await consumerBarrier(b);
    expect(b.all("deliver")).toEqual([]);
    a.close();
    const failover = await deliveries(b, 3);
    expect(failover.map((f) => [f.payload, f.redelivered])).toEqual([
      ["1", true],
      ["2", true],
      ["3", true],
    ]);
  });

  it("refuses a second consumer beside an exclusive one, and an exclusive one beside others", async () => {
    await declareQueue("ws.excl");
    const a = await openConsumer("ws.excl");
    a.send(consume("a", { exclusive: true }));
    await a.next(isType("consume_ok"));
    const b = await openConsumer("ws.excl");
    b.send(consume("b"));
    expect(await b.next()).toMatchObject({ type: "error", code: "access_refused" });
    await closeConsumer(a, b);
    b.send(consume("b"));
    await b.next(isType("consume_ok"));
    const c = await openConsumer("ws.excl");
    c.send(consume("c", { exclusive: true }));
    expect(await c.next()).toMatchObject({ type: "error", code: "access_refused" });
  });

  it("reports consumers, ready and unacknowledged counts truthfully", async () => {
    await declareQueue("ws.counts");
    await publishAll("ws.counts", ["1", "2", "3"]);
    const socket = await openConsumer("ws.counts");
    socket.send(consume("c", { prefetch: 1 }));
    await deliveries(socket, 1);
    expect(await info("ws.counts")).toMatchObject({
      messages: 3,
      messages_ready: 2,
      messages_unacknowledged: 1,
      consumers: 1,
    });
    socket.send({ type: "cancel", tag: "c" });
    expect(await socket.next(isType("cancel_ok"))).toEqual({ type: "cancel_ok", tag: "c" });
    expect((await info("ws.counts")).consumers).toBe(0);
  });

  it("requeues a delivery whose ack deadline passes, unless extended", async () => {
    await declareQueue("ws.deadline");
    await publishAll("ws.deadline", ["slow", "extended"]);
    const socket = await openConsumer("ws.deadline");
    socket.send(consume("c", { ack_timeout_ms: 1000 }));
    const [slow, extended] = await deliveries(socket, 2);
    socket.send({ type: "extend", delivery_tag: extended?.delivery_tag, ack_timeout_ms: 60_000 });
    const again = await socket.next(isType("deliver"), 5000);
    expect(again).toMatchObject({ payload: "slow", redelivered: true });
    socket.send({ type: "ack", delivery_tag: slow?.delivery_tag });
    expect(await socket.next(isType("error"))).toMatchObject({ code: "unknown_delivery_tag" });
    socket.send({ type: "ack", delivery_tag: extended?.delivery_tag });
    socket.send({ type: "ack", delivery_tag: again.delivery_tag });
    await consumerBarrier(socket);
    expect(await info("ws.deadline")).toMatchObject({ messages: 0 });
  });

  it("drops a message returned more often than x-delivery-limit", async () => {
    await declareQueue("ws.limit", { arguments: { "x-delivery-limit": 1 } });
    await publishAll("ws.limit", ["poison"]);
    const socket = await openConsumer("ws.limit");
    socket.send(consume("c"));
    const first = await socket.next(isType("deliver"));
    socket.send({ type: "nack", delivery_tag: first.delivery_tag, requeue: true });
    const second = await socket.next(isType("deliver"));
    expect(second.delivery_count).toBe(2);
    socket.send({ type: "nack", delivery_tag: second.delivery_tag, requeue: true });
    await consumerBarrier(socket);
    expect(socket.all("deliver")).toHaveLength(2);
    expect((await info("ws.limit")).messages).toBe(0);
  });

  it("keeps consumers across eviction of the queue object (hibernation)", async () => {
    await declareQueue("ws.hibernate");
    const socket = await openConsumer("ws.hibernate");
    socket.send(consume("c"));
    await socket.next(isType("consume_ok"));
    await evictDurableObject(env.QUEUES.getByName(JSON.stringify(["/", "ws.hibernate"])));
    await publish("", "ws.hibernate", "after eviction");
    const frame = await socket.next(isType("deliver"));
    expect(frame.payload).toBe("after eviction");
    socket.send({ type: "ack", delivery_tag: frame.delivery_tag });
    await consumerBarrier(socket);
    expect(await info("ws.hibernate")).toMatchObject({ messages: 0, consumers: 1 });
  });

  it("cancels consumers and closes their sockets when the queue is deleted", async () => {
    await declareQueue("ws.deleted");
    const socket = await openConsumer("ws.deleted");
    socket.send(consume("c"));
    await socket.next(isType("consume_ok"));
    await call("DELETE", "/api/queues/%2F/ws.deleted");
    expect(await socket.next()).toEqual({ type: "cancel", tag: "c", reason: "queue deleted" });
  });

  it("refuses if-unused deletion while the queue has consumers", async () => {
    await declareQueue("ws.inuse");
    const socket = await openConsumer("ws.inuse");
    socket.send(consume("c"));
    await socket.next(isType("consume_ok"));
    const response = await call("DELETE", "/api/queues/%2F/ws.inuse?if-unused=true");
    expect(response.status).toBe(400);
  });
});

describe("bad input on a consumer socket", () => {
  it("answers an error frame and keeps the connection working", async () => {
    await declareQueue("ws.bad");
    await publishAll("ws.bad", ["ok"]);
    const socket = await openConsumer("ws.bad");
    socket.send("{not json");
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_frame" });
    socket.send({ type: "teleport" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "unknown_frame" });
    socket.send({ type: "consume", tag: "" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_frame" });
    socket.send({ type: "ack", delivery_tag: 99 });
    expect(await socket.next()).toMatchObject({ type: "error", code: "unknown_delivery_tag" });
    socket.send(JSON.stringify({ type: "cancel", tag: "x".repeat(70 * 1024) }));
    expect(await socket.next()).toMatchObject({ type: "error", code: "frame_too_large" });
    socket.send({ type: "cancel", tag: "nobody" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "unknown_consumer" });
    socket.send(consume("c"));
    await socket.next(isType("consume_ok"));
    const delivery = await socket.next(isType("deliver"));
    socket.send({ type: "ack", delivery_tag: delivery.delivery_tag });
    socket.send({ type: "ack", delivery_tag: delivery.delivery_tag });
    expect(await socket.next()).toMatchObject({ type: "error", code: "unknown_delivery_tag" });
    socket.send(consume("c"));
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_request" });
    expect(socket.closed).toBe(false);
  });

  it("refuses an unauthenticated upgrade with 401 before the socket opens", async () => {
    await declareQueue("ws.noauth");
    await expect(openSocket("/api/queues/%2F/ws.noauth/consume", null)).rejects.toThrow("401");
    await expect(
      openSocket("/api/queues/%2F/ws.noauth/consume", `Basic ${btoa("guest:nope")}`),
    ).rejects.toThrow("401");
  });

  it("refuses an upgrade to a missing queue with 404 and a plain GET with 400", async () => {
    await expect(openConsumer("ws.missing")).rejects.toThrow("404");
    const plain = await call("GET", "/api/queues/%2F/ws.missing/consume");
    expect(plain.status).toBe(400);
  });
});

describe("auto-delete queues", () => {
  it("deletes an auto-delete queue when its last consumer leaves, not before", async () => {
    await declareQueue("ws.autodel", { auto_delete: true });
    const a = await openConsumer("ws.autodel");
    const b = await openConsumer("ws.autodel");
    a.send(consume("a"));
    await a.next(isType("consume_ok"));
    b.send(consume("b"));
    await b.next(isType("consume_ok"));
    await closeConsumer(a, b);
    expect((await call("GET", "/api/queues/%2F/ws.autodel")).status).toBe(200);
    b.send({ type: "cancel", tag: "b" });
    await b.next(isType("cancel_ok"));
    // The queue asks its vhost to delete it after the cancel's answer: wait for that to happen.
    await vi.waitFor(
      async () => expect((await call("GET", "/api/queues/%2F/ws.autodel")).status).toBe(404),
      EVENTUALLY,
    );
  });
});
