import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
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

const message = (routing_key: string, payload: string) => ({
  properties: {},
  routing_key,
  payload,
  payload_encoding: "string",
});

describe("publish", () => {
  it("answers routed true once the copy is stored, and routed false when no queue matches", async () => {
    await declareExchange("pub.orders", "topic");
    await declareQueue("pub.inventory");
    await bindQueue("pub.orders", "pub.inventory", "order.*");
    expect(await routed("pub.orders", "order.created", "o1")).toBe(true);
    expect(await routed("pub.orders", "invoice.created", "i1")).toBe(false);
    expect(await drain("pub.inventory")).toEqual(["o1"]);
  });

  it("answers concurrent single publishes each for its own message: stored, unroutable, missing exchange", async () => {
    await declareExchange("pub.conc", "direct");
    await declareQueue("pub.conc.q");
    await bindQueue("pub.conc", "pub.conc.q", "hit");
    const [hits, misses, toDefault, unknownQueue, missing] = await Promise.all([
      Promise.all(Array.from({ length: 6 }, (_, i) => routed("pub.conc", "hit", `h${i}`))),
      Promise.all(Array.from({ length: 4 }, (_, i) => routed("pub.conc", "miss", `x${i}`))),
      Promise.all(Array.from({ length: 4 }, (_, i) => routed("", "pub.conc.q", `d${i}`))),
      Promise.all(Array.from({ length: 3 }, (_, i) => routed("", "pub.conc.none", `n${i}`))),
      Promise.all(Array.from({ length: 3 }, () => publish("pub.conc.gone", "k", "lost"))),
    ]);
    expect(hits).toEqual(Array(6).fill(true));
    expect(misses).toEqual(Array(4).fill(false));
    expect(toDefault).toEqual(Array(4).fill(true));
    expect(unknownQueue).toEqual(Array(3).fill(false));
    for (const answer of missing) {
      expect((await expectError(answer, 400, "bad_request")).reason).toBe(
        "404 NOT_FOUND - no exchange 'pub.conc.gone' in vhost '/'",
      );
    }
    expect((await drain("pub.conc.q")).sort()).toEqual(
      [
        ...Array.from({ length: 6 }, (_, i) => `h${i}`),
        ...Array.from({ length: 4 }, (_, i) => `d${i}`),
      ].sort(),
    );
  });

  it("keeps a confirmed message when the queue object is evicted from memory", async () => {
    await declareQueue("pub.durable");
    expect(await routed("", "pub.durable", "kept")).toBe(true);
    await evictDurableObject(env.QUEUES.getByName(JSON.stringify(["/", "pub.durable"])));
    expect(await drain("pub.durable")).toEqual(["kept"]);
  });

  it("answers RabbitMQ's 400 for an unknown exchange and 404 for an unknown vhost", async () => {
    const missing = await expectError(await publish("pub.nowhere", "k", "m"), 400, "bad_request");
    expect(missing.reason).toBe("404 NOT_FOUND - no exchange 'pub.nowhere' in vhost '/'");
    await expectError(await publish("amq.direct", "k", "m", { vhost: "no-such-vhost" }), 404);
    await expectError(await publish("", "k", "m", { vhost: "no-such-vhost" }), 404);
  });

  it("refuses a message above the configured size limit with 413", async () => {
    await declareQueue("pub.big");
    const limit = 65536; // MAX_MESSAGE_BYTES in vitest.config.ts
    const body = await expectError(await publish("", "pub.big", "x".repeat(limit + 1)), 413);
    expect(body.reason).toBe(
      `message size ${limit + 1} is larger than configured max size ${limit}`,
    );
    expect(await routed("", "pub.big", "x".repeat(limit))).toBe(true);
  });

  it("names the missing keys of a publish body", async () => {
    const body = await expectError(
      await call("POST", "/api/exchanges/%2F/amq.direct/publish", {
        body: { routing_key: "k", payload: "p" },
      }),
      400,
      "bad_request",
    );
    expect(body.reason).toBe("[{key_missing,properties},{key_missing,payload_encoding}]");
  });

  it("refuses malformed JSON, wrong types, bad encodings and bad properties", async () => {
    const path = "/api/exchanges/%2F/amq.direct/publish";
    await expectError(await call("POST", path, { raw: "{not json" }), 400, "bad_request");
    await expectError(await call("POST", path, { raw: "[1,2]" }), 400);
    const bad = (patch: Record<string, unknown>) =>
      call("POST", path, { body: { ...message("k", "p"), ...patch } });
    await expectError(await bad({ routing_key: 5 }), 400);
    await expectError(await bad({ payload_encoding: "utf-16" }), 400);
    await expectError(await bad({ payload: "not base64!", payload_encoding: "base64" }), 400);
    await expectError(await bad({ properties: { delivery_mode: 3 } }), 400);
    await expectError(await bad({ properties: { priority: "high" } }), 400);
    await expectError(await bad({ properties: { headers: [1] } }), 400);
    await expectError(await bad({ properties: { no_such_property: 1 } }), 400);
    await expectError(await bad({ properties: { expiration: 1000 } }), 400);
    await expectError(await bad({ routing_key: "k".repeat(256) }), 400);
  });
});

describe("publish-batch", () => {
  it("stores a batch in order and answers routed per message", async () => {
    await declareExchange("batch.x", "direct");
    await declareQueue("batch.q");
    await bindQueue("batch.x", "batch.q", "yes");
    const messages = Array.from({ length: 50 }, (_, i) =>
      message(i % 5 === 4 ? "no" : "yes", `b${i}`),
    );
    const response = await call("POST", "/api/exchanges/%2F/batch.x/publish-batch", {
      body: { messages },
    });
    expect(response.status).toBe(200);
    const { results } = await json<{ results: { routed: boolean }[] }>(response);
    expect(results.map((r) => r.routed)).toEqual(messages.map((m) => m.routing_key === "yes"));
    const expected = messages.filter((m) => m.routing_key === "yes").map((m) => m.payload);
    expect(await drain("batch.q")).toEqual(expected);
  });

  it("routes a batch through the default exchange to several queues", async () => {
    await declareQueue("batch.d1");
    await declareQueue("batch.d2");
    const messages = [
      message("batch.d1", "a"),
      message("batch.d2", "b"),
      message("batch.none", "c"),
      message("batch.d1", "d"),
    ];
    const response = await call("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
      body: { messages },
    });
    const { results } = await json<{ results: { routed: boolean }[] }>(response);
    expect(results.map((r) => r.routed)).toEqual([true, true, false, true]);
    expect(await drain("batch.d1")).toEqual(["a", "d"]);
    expect(await drain("batch.d2")).toEqual(["b"]);
  });

  it("refuses the whole batch when one message is invalid, storing nothing", async () => {
    await declareQueue("batch.atomic");
    const messages = [
      message("batch.atomic", "ok"),
      { ...message("batch.atomic", "x"), payload: 1 },
    ];
    const body = await expectError(
      await call("POST", "/api/exchanges/%2F/amq.default/publish-batch", { body: { messages } }),
      400,
    );
    expect(body.reason).toContain("messages.1");
    expect(await getMessages("batch.atomic")).toEqual([]);
  });

  it("refuses an empty batch, a batch over 1000 messages and a missing list", async () => {
    const path = "/api/exchanges/%2F/amq.default/publish-batch";
    await expectError(await call("POST", path, { body: { messages: [] } }), 400);
    const many = Array.from({ length: 1001 }, () => message("k", "p"));
    await expectError(await call("POST", path, { body: { messages: many } }), 400);
    await expectError(await call("POST", path, { body: {} }), 400);
  });
});
