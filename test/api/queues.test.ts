import { describe, expect, it } from "vitest";
import {
  call,
  declareQueue,
  expectError,
  getMessages,
  json,
  publish,
  routed,
} from "../support/api";
import { flushReports } from "../support/reports";

interface QueueInfo {
  name: string;
  vhost: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Record<string, unknown>;
  type: string;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

async function info(name: string): Promise<QueueInfo> {
  return json<QueueInfo>(await call("GET", `/api/queues/%2F/${encodeURIComponent(name)}`));
}

describe("queue declaration", () => {
  it("creates a queue with 201 and reports the fields RabbitMQ reports", async () => {
    expect((await declareQueue("q.new", { arguments: { "x-message-ttl": 60000 } })).status).toBe(
      201,
    );
    expect(await info("q.new")).toMatchObject({
      name: "q.new",
      vhost: "/",
      durable: true,
      auto_delete: false,
      exclusive: false,
      arguments: { "x-message-ttl": 60000 },
      type: "classic",
      messages: 0,
      messages_ready: 0,
      messages_unacknowledged: 0,
      consumers: 0,
    });
  });

  it("answers 204 to an equivalent redeclaration and 400 to an inequivalent one", async () => {
    await declareQueue("q.eq", { arguments: { "x-max-length": 10 } });
    expect((await declareQueue("q.eq", { arguments: { "x-max-length": 10 } })).status).toBe(204);
    const durable = await expectError(await declareQueue("q.eq", { durable: false }), 400);
    expect(durable.reason).toBe(
      "inequivalent arg 'durable' for queue 'q.eq' in vhost '/': received 'false' but current is 'true'",
    );
    const args = await expectError(
      await declareQueue("q.eq", { arguments: { "x-max-length": 11 } }),
      400,
    );
    expect(args.reason).toContain("inequivalent arg 'x-max-length'");
  });

  it("refuses reserved names, over-long names and ill-typed arguments", async () => {
    await expectError(await declareQueue("amq.q"), 403, "access_refused");
    await expectError(await declareQueue("q".repeat(256)), 400, "bad_request");
    await expectError(await declareQueue("q.ttl", { arguments: { "x-message-ttl": -1 } }), 400);
    await expectError(await declareQueue("q.prio", { arguments: { "x-max-priority": 300 } }), 400);
    await expectError(await declareQueue("q.type", { arguments: { "x-queue-type": "lake" } }), 400);
    const bool = await expectError(await declareQueue("q.bool", { durable: "yes" }), 400);
    expect(bool.reason).toBe('[{not_boolean,durable,"yes"}]');
  });

  it("lists queues plainly and paginated", async () => {
    await declareQueue("list.q.1");
    await declareQueue("list.q.2");
    await publish("", "list.q.2", "one");
    await flushReports("/", "list.q.2");
    const plain = await json<QueueInfo[]>(await call("GET", "/api/queues/%2F?name=list.q"));
    expect(plain.map((q) => [q.name, q.messages])).toEqual([
      ["list.q.1", 0],
      ["list.q.2", 1],
    ]);
    const paged = await json<{ items: QueueInfo[]; total_count: number; page_count: number }>(
      await call(
        "GET",
        "/api/queues?page=1&page_size=1&name=list.q&sort=messages&sort_reverse=true",
      ),
    );
    expect(paged.items.map((q) => q.name)).toEqual(["list.q.2"]);
    expect(paged.page_count).toBe(2);
  });
});

describe("queue deletion and purge", () => {
  it("deletes a queue with its messages", async () => {
    await declareQueue("q.del");
    await publish("", "q.del", "m");
    expect((await call("DELETE", "/api/queues/%2F/q.del")).status).toBe(204);
    await expectError(await call("GET", "/api/queues/%2F/q.del"), 404, "Object Not Found");
    expect(await routed("", "q.del")).toBe(false);
    await declareQueue("q.del");
    expect((await info("q.del")).messages).toBe(0);
  });

  it("refuses if-empty deletion of a queue holding messages", async () => {
    await declareQueue("q.full");
    await publish("", "q.full", "m");
    const body = await expectError(
      await call("DELETE", "/api/queues/%2F/q.full?if-empty=true"),
      400,
    );
    expect(body.reason).toContain("not empty");
    expect((await info("q.full")).messages).toBe(1);
    await call("DELETE", "/api/queues/%2F/q.full/contents");
    expect((await call("DELETE", "/api/queues/%2F/q.full?if-empty=true")).status).toBe(204);
  });

  it("deletes an unused queue with if-unused", async () => {
    await declareQueue("q.unused");
    expect((await call("DELETE", "/api/queues/%2F/q.unused?if-unused=true")).status).toBe(204);
  });

  it("purges every ready message", async () => {
    await declareQueue("q.purge");
    for (const n of [1, 2, 3]) await publish("", "q.purge", `m${n}`);
    expect((await call("DELETE", "/api/queues/%2F/q.purge/contents")).status).toBe(204);
    expect((await info("q.purge")).messages).toBe(0);
    await expectError(await call("DELETE", "/api/queues/%2F/q.nothere/contents"), 404);
  });
});

describe("get", () => {
  it("takes messages in order with ack_requeue_false and counts what remains", async () => {
    await declareQueue("get.take");
    for (const n of [1, 2, 3]) await publish("", "get.take", `m${n}`);
    const first = await getMessages("get.take", 2, "ack_requeue_false");
    expect(first.map((m) => [m.payload, m.message_count])).toEqual([
      ["m1", 2],
      ["m2", 1],
    ]);
    const rest = await getMessages("get.take", 5, "ack_requeue_false");
    expect(rest.map((m) => m.payload)).toEqual(["m3"]);
    expect(await getMessages("get.take", 1)).toEqual([]);
  });

  it("puts messages back in place, flagged redelivered, with ack_requeue_true", async () => {
    await declareQueue("get.peek");
    await publish("", "get.peek", "a");
    await publish("", "get.peek", "b");
    const look = await getMessages("get.peek", 1, "ack_requeue_true");
    expect(look.map((m) => [m.payload, m.redelivered])).toEqual([["a", false]]);
    const again = await getMessages("get.peek", 2, "reject_requeue_true");
    expect(again.map((m) => [m.payload, m.redelivered])).toEqual([
      ["a", true],
      ["b", false],
    ]);
    expect((await info("get.peek")).messages).toBe(2);
  });

  it("removes messages with reject_requeue_false", async () => {
    await declareQueue("get.reject");
    await publish("", "get.reject", "x");
    expect((await getMessages("get.reject", 1, "reject_requeue_false")).length).toBe(1);
    expect((await info("get.reject")).messages).toBe(0);
  });

  it("round-trips every basic property unchanged, key order included", async () => {
    await declareQueue("get.props");
    const properties = {
      message_id: "m-1",
      content_type: "application/json",
      content_encoding: "utf-8",
      headers: { h: 1, nested: { list: [1, "two", true] }, s: "x" },
      delivery_mode: 2,
      priority: 5,
      correlation_id: "c-1",
      reply_to: "replies",
      expiration: "60000",
      timestamp: 1700000000,
      type: "order.created",
      user_id: "guest",
      app_id: "shop",
    };
    await publish("", "get.props", "{}", { properties });
    const [message] = await getMessages("get.props", 1);
    // Unchanged down to key order: what the producer sent is what the consumer reads.
    expect(JSON.stringify(message?.properties)).toBe(JSON.stringify(properties));
    expect(message).toMatchObject({ exchange: "", routing_key: "get.props", redelivered: false });
  });

  it("keeps binary payloads intact and answers them in base64", async () => {
    await declareQueue("get.binary");
    const bytes = new Uint8Array(256).map((_, i) => i);
    const base64 = btoa(String.fromCharCode(...bytes));
    await publish("", "get.binary", base64, { encoding: "base64" });
    await publish("", "get.binary", "text", { encoding: "string" });
    const [binary, text] = await getMessages("get.binary", 2, "ack_requeue_true", "auto");
    expect(binary).toMatchObject({
      payload: base64,
      payload_encoding: "base64",
      payload_bytes: 256,
    });
    expect(text).toMatchObject({ payload: "text", payload_encoding: "string" });
    const [forced] = await getMessages("get.binary", 1, "ack_requeue_true", "base64");
    expect(forced?.payload).toBe(base64);
  });

  it("truncates payloads to the requested size", async () => {
    await declareQueue("get.trunc");
    await publish("", "get.trunc", "abcdefgh");
    const response = await call("POST", "/api/queues/%2F/get.trunc/get", {
      body: { count: 1, ackmode: "ack_requeue_true", encoding: "auto", truncate: 3 },
    });
    expect(await json(response)).toMatchObject([{ payload: "abc", payload_bytes: 8 }]);
  });

  it("names each missing key and refuses bad values", async () => {
    await declareQueue("get.bad");
    const missing = await expectError(
      await call("POST", "/api/queues/%2F/get.bad/get", { body: { count: 1 } }),
      400,
    );
    expect(missing.reason).toBe("[{key_missing,ackmode},{key_missing,encoding}]");
    const bad = { count: 1, ackmode: "ack_requeue_maybe", encoding: "auto" };
    await expectError(await call("POST", "/api/queues/%2F/get.bad/get", { body: bad }), 400);
    const zero = { count: 0, ackmode: "ack_requeue_true", encoding: "auto" };
    await expectError(await call("POST", "/api/queues/%2F/get.bad/get", { body: zero }), 400);
    const body = { count: 1, ackmode: "ack_requeue_true", encoding: "auto" };
    await expectError(await call("POST", "/api/queues/%2F/get.none/get", { body }), 404);
  });
});
