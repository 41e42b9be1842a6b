/**
 * x-overflow reject-publish and reject-publish-dlx: a full queue refuses new messages (the
 * publisher is nacked; HTTP answers RabbitMQ's 400 or a per-message refusal in a batch), and
 * reject-publish-dlx also dead-letters what it refuses with reason maxlen, as RabbitMQ 3.10 does.
 */
import { describe, expect, it } from "vitest";
import {
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  drain,
  expectError,
  getMessages,
  json,
  publish,
  routed,
} from "../support/api";
import { type Frame, openConsumer, openSocket, sleep } from "../support/socket";

const info = async (queue: string) =>
  json<{ messages: number; messages_ready: number }>(await call("GET", `/api/queues/%2F/${queue}`));

const publishBatch = async (exchange: string, messages: { key: string; payload: string }[]) =>
  json<{ results: Record<string, unknown>[] }>(
    await call("POST", `/api/exchanges/%2F/${exchange || "amq.default"}/publish-batch`, {
      body: {
        messages: messages.map((m) => ({
          routing_key: m.key,
          payload: m.payload,
          payload_encoding: "string",
          properties: {},
        })),
      },
    }),
  );

describe("x-overflow reject-publish", () => {
  it("refuses a single publish to a full queue with RabbitMQ's 400 and keeps the old messages", async () => {
    await declareQueue("rp.single", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    expect(await routed("", "rp.single", "first")).toBe(true);
    const refused = await publish("", "rp.single", "second");
    const body = await expectError(refused, 400, "bad_request");
    expect(body.reason).toBe("rejected Unable to publish message. Check queue limits.");
    expect(await drain("rp.single")).toEqual(["first"]);
  });

  it("refuses only the concurrent single publishes over the limit, each answered for itself", async () => {
    // Concurrent single publishes to one queue share one call to it (a request coalescer in
    // the Worker): each request still gets its own message's verdict.
    await declareQueue("rp.concurrent", {
      arguments: { "x-max-length": 3, "x-overflow": "reject-publish" },
    });
    const payloads = Array.from({ length: 8 }, (_, i) => `m${i}`);
    const answers = await Promise.all(payloads.map((p) => publish("", "rp.concurrent", p)));
    const stored = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 400);
    expect(stored).toHaveLength(3);
    expect(refused).toHaveLength(5);
    for (const answer of stored) expect(await answer.json()).toEqual({ routed: true });
    for (const answer of refused) {
      expect((await expectError(answer, 400, "bad_request")).reason).toBe(
        "rejected Unable to publish message. Check queue limits.",
      );
    }
    const kept = await drain("rp.concurrent");
    expect(kept).toHaveLength(3);
    // The stored ones are the requests answered 200 (which three depends on arrival order).
    expect(new Set(kept).size).toBe(3);
  });

  it("answers a batch per message: the ones within the limit stored, the rest refused with a reason", async () => {
    await declareQueue("rp.batch", {
      arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
    });
    const { results } = await publishBatch(
      "",
      ["a", "b", "c", "d"].map((payload) => ({ key: "rp.batch", payload })),
    );
    expect(results.slice(0, 2)).toEqual([{ routed: true }, { routed: true }]);
    expect(results[2]).toEqual({
      routed: false,
      refused: true,
      reason: expect.stringContaining("queue 'rp.batch' in vhost '/' refused the message"),
    });
    expect(results[3]).toMatchObject({ routed: false, refused: true });
    expect(await drain("rp.batch")).toEqual(["a", "b"]);
  });

  it("counts payload bytes against x-max-length-bytes", async () => {
    await declareQueue("rp.bytes", {
      arguments: { "x-max-length-bytes": 5, "x-overflow": "reject-publish" },
    });
    const { results } = await publishBatch("", [
      { key: "rp.bytes", payload: "aaa" },
      { key: "rp.bytes", payload: "bbb" },
      { key: "rp.bytes", payload: "cc" },
    ]);
    expect(results.map((r) => r.routed)).toEqual([true, false, true]);
    expect(await drain("rp.bytes")).toEqual(["aaa", "cc"]);
  });

  it("takes messages again once the queue has room", async () => {
    await declareQueue("rp.room", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    expect(await routed("", "rp.room", "one")).toBe(true);
    expect((await publish("", "rp.room", "refused")).status).toBe(400);
    expect(await drain("rp.room")).toEqual(["one"]);
    expect(await routed("", "rp.room", "two")).toBe(true);
    expect(await drain("rp.room")).toEqual(["two"]);
  });

  it("nacks a producer socket's publish with code rejected, and confirms the others", async () => {
    await declareQueue("rp.socket", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    const socket = await openSocket("/api/publish/%2F");
    const frame = (seq: number, payload: string) => ({
      type: "publish",
      seq,
      exchange: "",
      routing_key: "rp.socket",
      payload,
    });
    socket.send(frame(1, "kept"));
    expect(await socket.next()).toMatchObject({ type: "confirm", seq: 1, routed: true });
    socket.send(frame(2, "refused"));
    const nack = await socket.next();
    expect(nack).toMatchObject({ type: "nack", seq: 2, code: "rejected" });
    expect(String(nack.reason)).toContain("rp.socket");
    socket.close();
    expect(await drain("rp.socket")).toEqual(["kept"]);
  });

  it("nacks a message refused by one of its queues although another stored it", async () => {
    await declareExchange("rp.fan", "fanout");
    await declareQueue("rp.full", {
      arguments: { "x-max-length": 0, "x-overflow": "reject-publish" },
    });
    await declareQueue("rp.open");
    await bindQueue("rp.fan", "rp.full");
    await bindQueue("rp.fan", "rp.open");
    expect((await publish("rp.fan", "", "both")).status).toBe(400);
    expect(await drain("rp.open")).toEqual(["both"]);
    expect(await drain("rp.full")).toEqual([]);
  });

  it("lets a waiting consumer take what arrives: only ready messages count", async () => {
    await declareQueue("rp.consumed", {
      arguments: { "x-max-length": 1, "x-overflow": "reject-publish" },
    });
    const consumer = await openConsumer("rp.consumed");
    consumer.send({ type: "consume", tag: "c", prefetch: 10, auto_ack: false });
    await consumer.next((f: Frame) => f.type === "consume_ok");
    const { results } = await publishBatch(
      "",
      ["1", "2", "3"].map((payload) => ({ key: "rp.consumed", payload })),
    );
    expect(results.map((r) => r.routed)).toEqual([true, true, true]);
    consumer.close();
  });

  it("does not drop the head as drop-head would", async () => {
    await declareQueue("rp.head", {
      arguments: { "x-max-length": 2, "x-overflow": "reject-publish" },
    });
    for (const p of ["1", "2", "3"]) await publish("", "rp.head", p);
    expect(await info("rp.head")).toMatchObject({ messages: 2 });
    expect(await drain("rp.head")).toEqual(["1", "2"]);
  });
});

describe("x-overflow reject-publish-dlx", () => {
  it("refuses the publish and dead-letters the refused message with reason maxlen", async () => {
    await declareExchange("rpd.dlx", "fanout");
    await declareQueue("rpd.dead");
    await bindQueue("rpd.dlx", "rpd.dead");
    await declareQueue("rpd.q", {
      arguments: {
        "x-max-length": 1,
        "x-overflow": "reject-publish-dlx",
        "x-dead-letter-exchange": "rpd.dlx",
      },
    });
    expect(await routed("", "rpd.q", "kept")).toBe(true);
    const refused = await publish("", "rpd.q", "refused", {
      properties: { expiration: "60000" },
    });
    await expectError(refused, 400, "bad_request");
    for (let i = 0; i < 100 && (await info("rpd.dead")).messages < 1; i++) await sleep(20);
    const [dead] = await getMessages("rpd.dead");
    expect(dead?.payload).toBe("refused");
    expect(dead?.exchange).toBe("rpd.dlx");
    expect(dead?.routing_key).toBe("rpd.q");
    // RabbitMQ 3.10's entry, compared by npm run compare:queue-features.
    expect(dead?.properties).toEqual({
      headers: {
        "x-death": [
          {
            count: 1,
            reason: "maxlen",
            queue: "rpd.q",
            time: expect.any(Number),
            exchange: "",
            "routing-keys": ["rpd.q"],
            "original-expiration": "60000",
          },
        ],
        "x-first-death-reason": "maxlen",
        "x-first-death-queue": "rpd.q",
        "x-first-death-exchange": "",
      },
    });
    expect(await drain("rpd.q")).toEqual(["kept"]);
  });

  it("refuses without dead-lettering when the queue has no dead-letter exchange", async () => {
    await declareQueue("rpd.nodlx", {
      arguments: { "x-max-length": 0, "x-overflow": "reject-publish-dlx" },
    });
    expect((await publish("", "rpd.nodlx", "refused")).status).toBe(400);
    expect(await info("rpd.nodlx")).toMatchObject({ messages: 0 });
  });
});
