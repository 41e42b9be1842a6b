import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { bindQueue, call, declareExchange, declareQueue, drain, json } from "../support/api";
import { consumerBarrier, EVENTUALLY, producerBarrier } from "../support/barriers";
import { type Frame, isType, openConsumer, openSocket, type TestSocket } from "../support/socket";

interface QueueInfo {
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

const info = async (queue: string) =>
  json<QueueInfo>(await call("GET", `/api/queues/%2F/${queue}`));

const queueStub = (name: string) => env.QUEUES.getByName(JSON.stringify(["/", name]));

async function fill(queue: string, payloads: string[]): Promise<void> {
  const response = await call("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
    body: {
      messages: payloads.map((payload) => ({
        routing_key: queue,
        payload,
        payload_encoding: "string",
        properties: {},
      })),
    },
  });
  expect(response.status).toBe(200);
}

/** Every delivery the socket got, batched or not, in arrival order. */
async function received(socket: TestSocket, count: number): Promise<Frame[]> {
  const out: Frame[] = [];
  while (out.length < count) {
    const frame = await socket.next(isType("deliver"));
    const list = frame.deliveries as Frame[] | undefined;
    if (list) out.push(...list.map((d) => ({ ...d, tag: frame.tag })));
    else out.push(frame);
  }
  return out;
}

/** Per-seq verdicts from confirm/nack frames (and those frames); fails on a seq answered twice. */
async function verdicts(
  socket: TestSocket,
  seqs: number[],
): Promise<{ answers: Map<number, string>; frames: Frame[] }> {
  const out = new Map<number, string>();
  const frames: Frame[] = [];
  const outstanding = new Set(seqs);
  while (outstanding.size > 0) {
    const f = await socket.next((x) => x.type === "confirm" || x.type === "nack");
    frames.push(f);
    const seq = f.seq as number;
    const covered =
      f.type === "confirm" && f.multiple ? [...outstanding].filter((s) => s <= seq) : [seq];
    for (const s of covered) {
      expect(out.has(s), `seq ${s} answered twice`).toBe(false);
      out.set(s, f.type === "nack" ? `nack:${f.code}` : f.routed ? "routed" : "unroutable");
      outstanding.delete(s);
    }
  }
  return { answers: out, frames };
}

describe("publish frames carrying many messages", () => {
  it("stores each frame's messages in order per queue and confirms every seq exactly once", async () => {
    await declareQueue("bf.left");
    await declareQueue("bf.right");
    const socket = await openSocket("/api/publish/%2F");
    const seqs: number[] = [];
    let seq = 0;
    for (let frame = 0; frame < 4; frame++) {
      const messages = [];
      for (let i = 0; i < 50; i++) {
        seq++;
        seqs.push(seq);
        const queue = i % 2 === 0 ? "bf.left" : "bf.right";
        messages.push({ seq, exchange: "", routing_key: queue, payload: `${queue}-${seq}` });
      }
      socket.send({ type: "publish", messages });
    }
    // One bad message inside a list is refused alone; an old single frame still works.
    socket.send({
      type: "publish",
      messages: [
        { seq: 201, exchange: "", routing_key: "bf.left", payload: "x", payload_encoding: "nope" },
        { seq: 202, exchange: "", routing_key: "bf.left", payload: "bf.left-202" },
      ],
    });
    socket.send({
      type: "publish",
      seq: 203,
      exchange: "",
      routing_key: "bf.right",
      payload: "bf.right-203",
    });
    const { answers, frames } = await verdicts(socket, [...seqs, 201, 202, 203]);
    expect(answers.get(201)).toMatch(/^nack:/);
    expect([...answers].filter(([s]) => s !== 201).every(([, v]) => v === "routed")).toBe(true);
    // No seq is answered again later: every answer the broker sends for seqs up to 203 comes
    // before the barrier's (seq 204), and none arrived beyond those verdicts() took.
    await producerBarrier(socket, 204);
    const answerFrames = socket.all("confirm").length + socket.all("nack").length;
    expect(answerFrames).toBe(frames.length);
    expect(answerFrames).toBeLessThan(seqs.length);
    const left = await drain("bf.left");
    const right = await drain("bf.right");
    const expected = (queue: string, parity: number) =>
      seqs.filter((s) => s % 2 === parity).map((s) => `${queue}-${s}`);
    expect(left).toEqual([...expected("bf.left", 1), "bf.left-202"]);
    expect(right).toEqual([...expected("bf.right", 0), "bf.right-203"]);
  });

  it("sends a frame's messages for several exchanges to each, in order", async () => {
    await declareQueue("bf.multi.direct");
    await declareQueue("bf.multi.default");
    expect((await declareExchange("bf.multi.x", "direct")).status).toBe(201);
    expect((await bindQueue("bf.multi.x", "bf.multi.direct", "k")).status).toBe(201);
    const socket = await openSocket("/api/publish/%2F");
    const messages = Array.from({ length: 6 }, (_, i) =>
      i % 2 === 0
        ? { seq: i + 1, exchange: "bf.multi.x", routing_key: "k", payload: `direct-${i + 1}` }
        : {
            seq: i + 1,
            exchange: "",
            routing_key: "bf.multi.default",
            payload: `default-${i + 1}`,
          },
    );
    socket.send({ type: "publish", messages });
    const { answers } = await verdicts(socket, [1, 2, 3, 4, 5, 6]);
    expect([...answers]).toEqual([1, 2, 3, 4, 5, 6].map((s) => [s, "routed"]));
    expect(await drain("bf.multi.direct")).toEqual(["direct-1", "direct-3", "direct-5"]);
    expect(await drain("bf.multi.default")).toEqual(["default-2", "default-4", "default-6"]);
  });

  it("refuses a list whose seqs do not grow, message by message", async () => {
    await declareQueue("bf.seq");
    const socket = await openSocket("/api/publish/%2F");
    socket.send({
      type: "publish",
      messages: [
        { seq: 5, exchange: "", routing_key: "bf.seq", payload: "a" },
        { seq: 5, exchange: "", routing_key: "bf.seq", payload: "b" },
        { seq: 6, exchange: "", routing_key: "bf.seq", payload: "c" },
      ],
    });
    expect(await socket.next(isType("error"))).toMatchObject({ code: "bad_seq" });
    await verdicts(socket, [5, 6]);
    expect(await drain("bf.seq")).toEqual(["a", "c"]);
  });
});

describe("batched deliveries and settling lists of tags", () => {
  it("sends a dispatch round's deliveries as one frame, in queue order, up to the prefetch", async () => {
    await declareQueue("bf.deliver");
    await fill(
      "bf.deliver",
      Array.from({ length: 30 }, (_, i) => `m${i}`),
    );
    const socket = await openConsumer("bf.deliver");
    socket.send({ type: "consume", tag: "c", prefetch: 20, batch: true });
    await socket.next(isType("consume_ok"));
    const first = await socket.next(isType("deliver"));
    const list = first.deliveries as Frame[];
    expect(list.map((d) => d.payload)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(list.map((d) => d.delivery_tag)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    socket.send({ type: "ack", delivery_tags: list.map((d) => d.delivery_tag as number) });
    const rest = await received(socket, 10);
    expect(rest.map((d) => d.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i + 20}`));
    socket.send({ type: "ack", delivery_tag: rest[9]?.delivery_tag as number, multiple: true });
    await consumerBarrier(socket);
    expect(await info("bf.deliver")).toMatchObject({ messages: 0 });
  });

  it("settles the known tags of a list and names the unknown ones", async () => {
    await declareQueue("bf.unknown");
    await fill("bf.unknown", ["a", "b", "c", "d"]);
    const socket = await openConsumer("bf.unknown");
    socket.send({ type: "consume", tag: "c", batch: true });
    await socket.next(isType("consume_ok"));
    await received(socket, 4);
    socket.send({ type: "ack", delivery_tags: [1, 99, 2, 77] });
    const error = await socket.next(isType("error"));
    expect(error).toMatchObject({
      code: "unknown_delivery_tag",
      frame: "ack",
      delivery_tags: [99, 77],
    });
    expect(error.reason).toContain("99");
    expect(error.reason).toContain("77");
    expect(await info("bf.unknown")).toMatchObject({ messages: 2, messages_unacknowledged: 2 });
    socket.send({ type: "nack", delivery_tags: [3], requeue: false });
    socket.send({ type: "reject", delivery_tags: [4], requeue: true });
    const again = await received(socket, 1);
    expect(again[0]).toMatchObject({ payload: "d", redelivered: true, delivery_tag: 5 });
    socket.send({ type: "ack", delivery_tags: [5, 5] });
    await consumerBarrier(socket);
    expect(await info("bf.unknown")).toMatchObject({ messages: 0 });
    socket.send({ type: "ack" });
    expect(await socket.next(isType("error"))).toMatchObject({ code: "bad_frame" });
  });
});

/** What the queue object's storage says about delivery state (not what it holds in memory). */
async function storedState(
  queue: string,
): Promise<{ owned: number; ready: number; marked: boolean }> {
  return runInDurableObject(queueStub(queue), (_instance, state) => {
    const sql = state.storage.sql;
    const count = (query: string) => Number(sql.exec<{ n: number }>(query).one().n);
    return {
      owned: count("SELECT COUNT(*) AS n FROM messages WHERE owner IS NOT NULL"),
      ready: count("SELECT COUNT(*) AS n FROM messages WHERE owner IS NULL"),
      marked: count("SELECT COUNT(*) AS n FROM meta WHERE key = 'delivered_through'") > 0,
    };
  });
}

/** The object dies (a crash, a reset): it restarts without its sockets. */
async function crash(queue: string): Promise<void> {
  await runInDurableObject(queueStub(queue), (_instance, state) => {
    state.abort("simulated crash");
  }).catch(() => undefined);
}

describe("delivery state across eviction and restart", () => {
  it("keeps unacked deliveries while the object is evicted and its sockets stay open", async () => {
    await declareQueue("bf.hibernate");
    await fill("bf.hibernate", ["a", "b", "c"]);
    const socket = await openConsumer("bf.hibernate");
    socket.send({ type: "consume", tag: "c", batch: true });
    await socket.next(isType("consume_ok"));
    const got = await received(socket, 3);
    // The deliveries are held in memory for a moment (src/queue/delivery-state.ts) with a flush
    // timer pending; the runtime hibernates (and this eviction evicts) only once no timer is.
    await evictDurableObject(queueStub("bf.hibernate"));
    expect(await storedState("bf.hibernate")).toEqual({ owned: 3, ready: 0, marked: false });
    expect(await info("bf.hibernate")).toMatchObject({ messages_unacknowledged: 3, consumers: 1 });
    socket.send({ type: "ack", delivery_tags: got.map((d) => d.delivery_tag as number) });
    await consumerBarrier(socket);
    expect(socket.all("error")).toEqual([]);
    expect(socket.all("deliver")).toHaveLength(1);
    expect(await info("bf.hibernate")).toMatchObject({ messages: 0, consumers: 1 });
  });

  it("holds the delivery state of a round trip in memory, then writes it within moments", async () => {
    await declareQueue("bf.held");
    await fill("bf.held", ["a", "b"]);
    const socket = await openConsumer("bf.held");
    socket.send({ type: "consume", tag: "c", prefetch: 1, batch: true });
    await socket.next(isType("consume_ok"));
    const [first] = await received(socket, 1);
    await vi.waitFor(async () => {
      expect(await storedState("bf.held")).toEqual({ owned: 1, ready: 1, marked: false });
    }, EVENTUALLY);
    // Inside the object, in one turn (no timer can run in between): the ack is settled and the
    // next delivery made, and storage shows neither yet; only the "delivered through" mark.
    const inTurn = await runInDurableObject(queueStub("bf.held"), async (instance, state) => {
      const [ws] = state.getWebSockets();
      await instance.webSocketMessage(
        ws as WebSocket,
        JSON.stringify({ type: "ack", delivery_tags: [first?.delivery_tag] }),
      );
      const sql = state.storage.sql;
      const owners = sql
        .exec<{ owner: string | null }>("SELECT owner FROM messages ORDER BY seq")
        .toArray()
        .map((row) => (row.owner === null ? "ready" : "owned"));
      const marked = sql.exec("SELECT value FROM meta WHERE key = 'delivered_through'").toArray();
      return { owners, marked: marked.length > 0 };
    });
    expect(inTurn).toEqual({ owners: ["owned", "ready"], marked: true });
    const [second] = await received(socket, 1);
    expect(second?.payload).toBe("b");
    await vi.waitFor(async () => {
      expect(await storedState("bf.held")).toEqual({ owned: 1, ready: 0, marked: false });
    }, EVENTUALLY);
  });

  it("after a restart without the sockets, redelivers every unacked message flagged redelivered", async () => {
    await declareQueue("bf.crash");
    const payloads = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    await fill("bf.crash", payloads);
    const socket = await openConsumer("bf.crash");
    socket.send({ type: "consume", tag: "c", prefetch: 30, batch: true });
    await socket.next(isType("consume_ok"));
    const got = await received(socket, 30);
    socket.send({
      type: "ack",
      delivery_tags: got.slice(0, 10).map((d) => d.delivery_tag as number),
    });
    await consumerBarrier(socket);
    // The acks and deliveries are written (the flush timer ran) before the process dies.
    await vi.waitFor(async () => {
      expect(await storedState("bf.crash")).toEqual({ owned: 30, ready: 10, marked: false });
    }, EVENTUALLY);
    await crash("bf.crash");
    expect(await info("bf.crash")).toMatchObject({
      messages: 40,
      messages_ready: 40,
      consumers: 0,
    });
    const after = await openConsumer("bf.crash");
    after.send({ type: "consume", tag: "c2", prefetch: 100, batch: true });
    await after.next(isType("consume_ok"));
    const again = await received(after, 40);
    expect(again.map((d) => d.payload)).toEqual(payloads.slice(10));
    // Acking ten made room for ten more: 30 were held when it died, the last 10 never left.
    expect(again.slice(0, 30).every((d) => d.redelivered === true)).toBe(true);
    expect(again.slice(30).every((d) => d.redelivered === false)).toBe(true);
  });

  it("after a crash before held acks and deliveries were written, loses none and flags every delivered message redelivered", async () => {
    await declareQueue("bf.crash-held");
    const payloads = Array.from({ length: 50 }, (_, i) => `job-${i}`);
    await fill("bf.crash-held", payloads);
    const socket = await openConsumer("bf.crash-held");
    socket.send({ type: "consume", tag: "c", prefetch: 30, batch: true });
    await socket.next(isType("consume_ok"));
    const got = await received(socket, 30);
    await vi.waitFor(async () => {
      expect(await storedState("bf.crash-held")).toMatchObject({ owned: 30, marked: false });
    }, EVENTUALLY);
    // In one turn of the object: ten acks settle in memory (and ten more deliveries leave),
    // then the process dies before its flush timer can write them.
    await runInDurableObject(queueStub("bf.crash-held"), async (instance, state) => {
      const [ws] = state.getWebSockets();
      await instance.webSocketMessage(
        ws as WebSocket,
        JSON.stringify({
          type: "ack",
          delivery_tags: got.slice(0, 10).map((d) => d.delivery_tag as number),
        }),
      );
      state.abort("simulated crash");
    }).catch(() => undefined);
    // The ten acks were lost with the process: their messages come again (at-least-once, as an
    // ack lost with a RabbitMQ channel), flagged redelivered like every message delivered before.
    expect(await info("bf.crash-held")).toMatchObject({
      messages: 50,
      messages_ready: 50,
      consumers: 0,
    });
    const after = await openConsumer("bf.crash-held");
    after.send({ type: "consume", tag: "c2", prefetch: 100, batch: true });
    await after.next(isType("consume_ok"));
    const again = await received(after, 50);
    expect(again.map((d) => d.payload)).toEqual(payloads);
    // Whatever reached the old socket says so (a delivery whose frame the output gate still
    // held when the process died never left, and may say either).
    const seen = new Set(
      socket
        .all("deliver")
        .flatMap((f) => (f.deliveries as Frame[] | undefined) ?? [f])
        .map((d) => d.payload),
    );
    expect(seen.size).toBeGreaterThanOrEqual(30);
    expect(again.filter((d) => seen.has(d.payload)).every((d) => d.redelivered === true)).toBe(
      true,
    );
  });
});
