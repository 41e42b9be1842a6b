import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createUser, grant } from "../support/access";
import { bindQueue, call, declareExchange, expectError, json, routed } from "../support/api";
import { untilStreamPolls } from "../support/long-polls";
import { appendBatch, declareStream, fetchOk, fetchStream, payloads } from "./support";

const streamObject = (name: string) => env.STREAMS.getByName(JSON.stringify(["/", name]));

describe("stream queues", () => {
  it("declares a stream with x-queue-type and lists it as a stream queue", async () => {
    await declareStream("sq-declare", { "x-max-age": "7D" });
    const queue = await json<Record<string, unknown>>(
      await call("GET", "/api/queues/%2F/sq-declare"),
    );
    expect(queue.type).toBe("stream");
    expect(queue.messages).toBe(0);
  });

  it("gives dense, ordered offsets across batches and reads without removing", async () => {
    await declareStream("sq-dense");
    await appendBatch("sq-dense", ["a", "b", "c"]);
    await appendBatch("sq-dense", ["d"]);
    await appendBatch("sq-dense", ["e", "f"]);
    const first = await fetchOk("sq-dense", { offset: "first" });
    expect(first.messages.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(payloads(first)).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(first.next_offset).toBe(6);
    // Reading again answers the same: nothing was removed.
    expect(payloads(await fetchOk("sq-dense", { offset: "first" }))).toEqual(payloads(first));
    expect(first.messages.every((m) => m.timestamp > 0)).toBe(true);
  });

  it("stores one row per produce batch", async () => {
    await declareStream("sq-chunks");
    await appendBatch(
      "sq-chunks",
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
    await appendBatch("sq-chunks", ["x"]);
    await runInDurableObject(streamObject("sq-chunks"), (_instance, state) => {
      const rows = state.storage.sql
        .exec<{ base: number; count: number }>("SELECT base, count FROM chunks ORDER BY base")
        .toArray();
      expect(rows).toEqual([
        { base: 0, count: 50 },
        { base: 50, count: 1 },
      ]);
    });
  });

  it("is appended to by exchange fan-out like any bound queue", async () => {
    await declareExchange("sq-fanout-x", "fanout");
    await declareStream("sq-fanout-a");
    await declareStream("sq-fanout-b");
    await bindQueue("sq-fanout-x", "sq-fanout-a");
    await bindQueue("sq-fanout-x", "sq-fanout-b");
    expect(await routed("sq-fanout-x", "k", "one")).toBe(true);
    expect(await routed("sq-fanout-x", "k", "two")).toBe(true);
    expect(payloads(await fetchOk("sq-fanout-a", { offset: "first" }))).toEqual(["one", "two"]);
    expect(payloads(await fetchOk("sq-fanout-b", { offset: "first" }))).toEqual(["one", "two"]);
  });

  it("reads from every offset spec: first, last, next, an offset, a timestamp", async () => {
    await declareStream("sq-specs");
    await appendBatch("sq-specs", ["a", "b"]);
    await runInDurableObject(streamObject("sq-specs"), (_instance, state) => {
      state.storage.sql.exec("UPDATE chunks SET first_ts = 1000, last_ts = 1000");
    });
    const before = Date.now();
    await appendBatch("sq-specs", ["c", "d", "e"]);
    expect(payloads(await fetchOk("sq-specs", { offset: "first" }))).toEqual([
      "a",
      "b",
      "c",
      "d",
      "e",
    ]);
    // last: the newest chunk, as RabbitMQ's "last" attaches to the last chunk.
    expect(payloads(await fetchOk("sq-specs", { offset: "last" }))).toEqual(["c", "d", "e"]);
    expect(payloads(await fetchOk("sq-specs", { offset: 3 }))).toEqual(["d", "e"]);
    expect(payloads(await fetchOk("sq-specs", { offset: { timestamp: before } }))).toEqual([
      "c",
      "d",
      "e",
    ]);
    const next = await fetchOk("sq-specs", { offset: "next" });
    expect(next.messages).toEqual([]);
    expect(next.next_offset).toBe(5);
    expect(payloads(await fetchOk("sq-specs", { offset: 0, count: 2 }))).toEqual(["a", "b"]);
  });

  it("bounds a fetch by max_bytes but always answers at least one message", async () => {
    await declareStream("sq-bytes");
    await appendBatch("sq-bytes", ["aaaa", "bbbb", "cccc"]);
    expect(payloads(await fetchOk("sq-bytes", { offset: "first", max_bytes: 8 }))).toEqual([
      "aaaa",
      "bbbb",
    ]);
    expect(payloads(await fetchOk("sq-bytes", { offset: "first", max_bytes: 1 }))).toEqual([
      "aaaa",
    ]);
  });

  it("long-polls a fetch at the end until a message is appended", async () => {
    await declareStream("sq-wait");
    const pending = fetchOk("sq-wait", { offset: "next", wait_ms: 5000 });
    await untilStreamPolls("sq-wait");
    await appendBatch("sq-wait", ["late"]);
    expect(payloads(await pending)).toEqual(["late"]);
  });

  it("does not answer a long poll that waited across a revocation of read permission", async () => {
    await declareStream("sq-revoked");
    const auth = await createUser("sq-revoked-user", "pw");
    await grant("/", "sq-revoked-user", ".*", ".*", ".*");
    const pending = fetchStream("sq-revoked", { offset: "next", wait_ms: 5000 }, { auth });
    await untilStreamPolls("sq-revoked");
    await grant("/", "sq-revoked-user", ".*", ".*", "^other$");
    await appendBatch("sq-revoked", ["secret"]);
    await expectError(await pending, 403, "access_refused");
  });

  it("deletes chunks older than x-max-age by alarm, never the newest", async () => {
    await declareStream("sq-age", { "x-max-age": "1h" });
    await appendBatch("sq-age", ["old-1", "old-2"]);
    await appendBatch("sq-age", ["older-but-newest"]);
    const stub = streamObject("sq-age");
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE chunks SET first_ts = 0, last_ts = 0");
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const answer = await fetchOk("sq-age", { offset: "first" });
    expect(payloads(answer)).toEqual(["older-but-newest"]);
    expect(answer.first_offset).toBe(2);
  });

  it("deletes the oldest whole chunks over x-max-length-bytes, never the newest", async () => {
    await declareStream("sq-size", { "x-max-length-bytes": 100 });
    for (let i = 0; i < 5; i++) await appendBatch("sq-size", [`c${i}-${"x".repeat(60)}`]);
    const stub = streamObject("sq-size");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const answer = await fetchOk("sq-size", { offset: "first" });
    expect(answer.messages.map((m) => m.offset)).toEqual([4]);
    // Offsets go on from where they were: the log is not renumbered.
    await appendBatch("sq-size", ["after"]);
    expect((await fetchOk("sq-size", { offset: "last" })).messages[0]?.offset).toBe(5);
  });

  it("refuses bad input with clear 4xx answers", async () => {
    await declareStream("sq-bad");
    await expectError(await fetchStream("sq-bad", { offset: -1 }), 400, "bad_request");
    await expectError(await fetchStream("sq-bad", { offset: 7 }), 400, "bad_request");
    await expectError(await fetchStream("sq-bad", { offset: "middle" }), 400, "bad_request");
    await expectError(await fetchStream("sq-none", { offset: "first" }), 404);
    const badAge = await call("PUT", "/api/queues/%2F/sq-bad-age", {
      body: { arguments: { "x-queue-type": "stream", "x-max-age": "7 days" } },
    });
    await expectError(badAge, 400, "bad_request");
    const transient = await call("PUT", "/api/queues/%2F/sq-bad-transient", {
      body: { durable: false, arguments: { "x-queue-type": "stream" } },
    });
    await expectError(transient, 400, "bad_request");
  });

  it("answers get and purge on a stream with 400 and what to use instead", async () => {
    await declareStream("sq-no-get");
    const get = await call("POST", "/api/queues/%2F/sq-no-get/get", {
      body: { count: 1, ackmode: "ack_requeue_false", encoding: "auto" },
    });
    expect((await expectError(get, 400, "bad_request")).reason).toMatch(/stream/);
    await expectError(
      await call("DELETE", "/api/queues/%2F/sq-no-get/contents"),
      400,
      "bad_request",
    );
  });

  it("is declared by a definitions import and fetched only with read permission", async () => {
    const definitions = {
      queues: [
        {
          name: "sq-imported",
          vhost: "/",
          durable: true,
          auto_delete: false,
          arguments: { "x-queue-type": "stream", "x-max-age": "1D" },
        },
      ],
    };
    expect((await call("POST", "/api/definitions", { body: definitions })).status).toBe(204);
    await appendBatch("sq-imported", ["a"]);
    expect(payloads(await fetchOk("sq-imported", { offset: "first" }))).toEqual(["a"]);
    const auth = await createUser("sq-no-read", "pw");
    await grant("/", "sq-no-read", ".*", ".*", "^other$");
    await expectError(await fetchStream("sq-imported", { offset: "first" }, { auth }), 403);
  });

  it("deletes a stream and its log with the queue", async () => {
    await declareStream("sq-delete");
    await appendBatch("sq-delete", ["a"]);
    expect((await call("DELETE", "/api/queues/%2F/sq-delete")).status).toBe(204);
    await expectError(await fetchStream("sq-delete", { offset: "first" }), 404);
  });
});
