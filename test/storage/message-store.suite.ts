/** A queue's messages in SQLite (src/storage/message-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PublishedMessage } from "../../src/protocol/message";
import { MessageStore, toStored } from "../../src/storage/message-store";
import { inObject } from "./support";

function inQueue<T>(name: string, body: (store: MessageStore) => T): Promise<T> {
  return inObject(env.QUEUES, `messages:${name}`, (sql) => body(new MessageStore(sql)));
}

const message = (payload: string, properties: Record<string, unknown> = {}): PublishedMessage => ({
  exchange: "ex",
  routingKey: "rk",
  properties,
  body: new TextEncoder().encode(payload),
});

const never = () => null;
const text = (body: ArrayBuffer) => new TextDecoder().decode(body);
const readyPayloads = (store: MessageStore, now = 0) =>
  store.ready(1000, now).map((row) => text(row.body));

describe("a message store", () => {
  it("appends messages in order across many multi-row inserts, answering their bytes", async () => {
    await inQueue("insert", (store) => {
      const payloads = Array.from({ length: 45 }, (_, i) => `m${i}`);
      const bytes = store.insert(
        payloads.map((p) => message(p)),
        never,
      );
      expect(bytes).toBe(payloads.join("").length);
      expect(readyPayloads(store)).toEqual(payloads);
      expect(store.counts()).toEqual({ ready: 45, readyBytes: bytes, unacked: 0, unackedBytes: 0 });
    });
  });

  it("keeps exchange, routing key, properties and body as stored", async () => {
    await inQueue("stored", (store) => {
      store.insert([message("x", { message_id: "id-1", headers: { a: [1, { b: null }] } })], never);
      const [row] = store.ready(1, 0);
      expect(toStored(row as NonNullable<typeof row>)).toMatchObject({
        exchange: "ex",
        routingKey: "rk",
        properties: { message_id: "id-1", headers: { a: [1, { b: null }] } },
        redelivered: false,
        deliveryCount: 0,
      });
    });
  });

  it("hands out ready messages only, never an expired or delayed one", async () => {
    await inQueue("ready", (store) => {
      store.insert([message("expires"), message("lives"), message("delayed")], (m) =>
        text(m.body.buffer as ArrayBuffer) === "expires" ? 100 : null,
      );
      const [, , delayed] = store.ready(3, 0);
      store.assign(delayed?.seq as number, "l:lease", null, null, 10);
      store.releaseMany([delayed?.seq as number], 500);
      expect(readyPayloads(store, 99)).toEqual(["expires", "lives"]);
      expect(readyPayloads(store, 100)).toEqual(["lives"]);
      expect(readyPayloads(store, 500)).toEqual(["lives", "delayed"]);
    });
  });

  it("delivers a round to one owner in one statement, each with its tag, counting deliveries", async () => {
    await inQueue("assign", (store) => {
      store.insert(
        ["a", "b", "c"].map((p) => message(p)),
        never,
      );
      const [a, b] = store.ready(2, 0);
      store.assignMany("c:conn", "tag", 1000, [
        [a?.seq as number, 1],
        [b?.seq as number, 2],
      ]);
      expect(readyPayloads(store)).toEqual(["c"]);
      expect(store.owned("c:conn").map((row) => [row.delivery_tag, row.delivery_count])).toEqual([
        [1, 1],
        [2, 1],
      ]);
      expect(store.counts()).toMatchObject({ ready: 1, unacked: 2, unackedBytes: 2 });
      expect(store.ownedCounts()).toEqual([{ owner: "c:conn", consumer_tag: "tag", n: 2 }]);
      expect(store.owners()).toEqual(["c:conn"]);
    });
  });

  it("finds an owner's deliveries by tag, up to a tag, or by a list of tags", async () => {
    await inQueue("owned", (store) => {
      store.insert(
        ["a", "b", "c", "d"].map((p) => message(p)),
        never,
      );
      store.assignMany(
        "c:conn",
        "t",
        1000,
        store.ready(4, 0).map((row, i) => [row.seq, i + 1] as const),
      );
      const tags = (rows: { delivery_tag: number | null }[]) => rows.map((r) => r.delivery_tag);
      expect(tags(store.owned("c:conn", 2))).toEqual([2]);
      expect(tags(store.owned("c:conn", 3, true))).toEqual([1, 2, 3]);
      expect(tags(store.ownedTags("c:conn", [4, 1, 9]))).toEqual([1, 4]);
      expect(store.owned("c:other")).toEqual([]);
    });
  });

  it("puts released messages back in their places, flagged redelivered", async () => {
    await inQueue("release", (store) => {
      store.insert(
        ["a", "b", "c"].map((p) => message(p)),
        never,
      );
      const [a] = store.ready(1, 0);
      store.assign(a?.seq as number, "c:conn", "t", 1, 1000);
      store.releaseMany([a?.seq as number]);
      const rows = store.ready(3, 0);
      expect(rows.map((r) => [text(r.body), r.redelivered, r.delivery_count])).toEqual([
        ["a", 1, 1],
        ["b", 0, 0],
        ["c", 0, 0],
      ]);
    });
  });

  it("answers the earliest deadline or delay, and the deliveries whose deadline passed", async () => {
    await inQueue("deadlines", (store) => {
      expect(store.nextWakeup(0)).toBeNull();
      store.insert(
        ["a", "b", "c"].map((p) => message(p)),
        never,
      );
      const [a, b, c] = store.ready(3, 0);
      store.assign(a?.seq as number, "c:conn", "t", 1, 300);
      store.assign(b?.seq as number, "l:lease", null, null, 200);
      store.assign(c?.seq as number, "l:other", null, null, 900);
      store.releaseMany([c?.seq as number], 150);
      expect(store.nextWakeup(0)).toBe(150);
      expect(store.nextWakeup(150)).toBe(200);
      store.extend(b?.seq as number, 1000);
      expect(store.expired(400).map((r) => r.owner)).toEqual(["c:conn"]);
    });
  });

  it("deletes expired ready messages wherever they are, or sets them aside for dead-lettering", async () => {
    await inQueue("expiry", (store) => {
      const expiry = (m: PublishedMessage) =>
        text(m.body.buffer as ArrayBuffer).startsWith("short") ? 50 : null;
      store.insert(
        ["keep", "short-1", "keep-2", "short-2"].map((p) => message(p)),
        expiry,
      );
      expect(store.nextExpiry()).toBe(50);
      expect(store.deleteExpired(49, 10)).toEqual([]);
      expect(store.deleteExpired(50, 1)).toEqual([7]);
      expect(store.markExpired(50, 10)).toEqual([7]);
      expect(store.nextExpiry()).toBeNull();
      expect(readyPayloads(store)).toEqual(["keep", "keep-2"]);
      expect(store.deadLetters(10).map((r) => [text(r.body), r.owner])).toEqual([
        ["short-2", "x:expired"],
      ]);
    });
  });

  it("sets messages aside for dead-lettering with a reason, out of every count", async () => {
    await inQueue("dead-letters", (store) => {
      store.insert(
        ["a", "b", "c"].map((p) => message(p)),
        never,
      );
      const [a, b] = store.ready(2, 0);
      store.assign(b?.seq as number, "c:conn", "t", 1, 1000);
      store.markDeadLetter([a?.seq as number, b?.seq as number], "rejected");
      expect(store.counts()).toEqual({ ready: 1, readyBytes: 1, unacked: 0, unackedBytes: 0 });
      expect(store.deadLetters(1).map((r) => r.owner)).toEqual(["x:rejected"]);
      expect(store.deadLetters(10)).toHaveLength(2);
      expect(store.owned("c:conn")).toEqual([]);
      store.removeMany([a?.seq as number, b?.seq as number]);
      expect(store.deadLetters(10)).toEqual([]);
    });
  });

  it("answers the ready head in queue order with sizes, for drop-head", async () => {
    await inQueue("head", (store) => {
      store.insert(
        ["a", "bb", "ccc"].map((p) => message(p)),
        never,
      );
      const [first] = store.ready(1, 0);
      store.assign(first?.seq as number, "c:conn", "t", 1, 1000);
      expect(store.head(10).map((r) => r.bytes)).toEqual([2, 3]);
    });
  });

  it("marks a looked-at message redelivered in place", async () => {
    await inQueue("look", (store) => {
      store.insert([message("a")], never);
      const [row] = store.ready(1, 0);
      store.markRedelivered(row?.seq as number);
      expect(store.ready(1, 0)[0]).toMatchObject({ redelivered: 1, delivery_count: 1 });
    });
  });

  it("purges ready messages only, and clears everything", async () => {
    await inQueue("purge", (store) => {
      store.insert(
        ["held", "a", "b"].map((p) => message(p)),
        never,
      );
      const [held] = store.ready(1, 0);
      store.assign(held?.seq as number, "c:conn", "t", 1, 1000);
      store.purgeReady();
      expect(store.counts()).toMatchObject({ ready: 0, unacked: 1 });
      store.clear();
      expect(store.counts()).toEqual({ ready: 0, readyBytes: 0, unacked: 0, unackedBytes: 0 });
    });
  });
  it("keeps the priority index only in a priority queue, built on its first read", async () => {
    const indexes = (sql: SqlStorage) =>
      sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'",
        )
        .toArray()
        .map((row) => row.name);
    await inObject(env.QUEUES, "messages:plain-index", (sql) => {
      const store = new MessageStore(sql, () => false);
      store.insert([message("a")], never);
      store.ready(10, 0);
      expect(indexes(sql)).not.toContain("messages_ready_priority");
    });
    await inObject(env.QUEUES, "messages:priority-index", (sql) => {
      const store = new MessageStore(sql, () => true);
      store.insert([message("low"), message("high")], never, (m) =>
        text(m.body.buffer as ArrayBuffer) === "high" ? 5 : 1,
      );
      expect(indexes(sql)).not.toContain("messages_ready_priority");
      expect(readyPayloads(store)).toEqual(["high", "low"]);
      expect(indexes(sql)).toContain("messages_ready_priority");
    });
  });
});
