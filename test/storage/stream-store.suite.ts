/** A stream's log in SQLite (src/storage/stream-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PublishedMessage } from "../../src/protocol/message";
import { encodeChunk } from "../../src/protocol/stream";
import { StreamStore } from "../../src/storage/stream-store";
import { inObject } from "./support";

function inStream<T>(name: string, body: (store: StreamStore) => T): Promise<T> {
  return inObject(env.STREAMS, `stream:${name}`, (sql) => body(new StreamStore(sql)));
}

const text = new TextDecoder();
const message = (payload: string, bytes?: number): PublishedMessage => ({
  exchange: "",
  routingKey: "k",
  properties: {},
  body: bytes === undefined ? new TextEncoder().encode(payload) : new Uint8Array(bytes),
});

/** Appends one chunk of these payloads at `now`; answers its base offset. */
const append = (store: StreamStore, now: number, ...payloads: string[]) =>
  store.append(encodeChunk(payloads.map((p) => message(p))), payloads.length, now);

const payloads = (store: StreamStore, from: number, count = 100, maxBytes = 1 << 20) =>
  store.read(from, count, maxBytes).map((m) => text.decode(m.body));

describe("a stream store", () => {
  it("gives chunks dense offsets: each base is the last base plus its count", async () => {
    await inStream("offsets", (store) => {
      expect(store.nextOffset()).toBe(0);
      expect(append(store, 1, "a", "b", "c")).toBe(0);
      expect(append(store, 2, "d")).toBe(3);
      expect(append(store, 3, "e", "f")).toBe(4);
      expect(store.nextOffset()).toBe(6);
      expect(store.lastChunkBase()).toBe(4);
    });
  });

  it("reads from any offset, inside a chunk too, in order, with offsets and timestamps", async () => {
    await inStream("read", (store) => {
      append(store, 100, "a", "b", "c");
      append(store, 200, "d", "e");
      expect(payloads(store, 0)).toEqual(["a", "b", "c", "d", "e"]);
      expect(payloads(store, 2)).toEqual(["c", "d", "e"]);
      expect(payloads(store, 1, 2)).toEqual(["b", "c"]);
      expect(store.read(3, 1, 1 << 20)[0]).toMatchObject({ offset: 3, timestamp: 200 });
      expect(payloads(store, 5)).toEqual([]);
    });
  });

  it("stops a read at about maxBytes, and always answers at least one message", async () => {
    await inStream("bytes", (store) => {
      append(store, 1, "aaaa", "bbbb", "cccc");
      expect(payloads(store, 0, 100, 8)).toEqual(["aaaa", "bbbb"]);
      expect(payloads(store, 0, 100, 1)).toEqual(["aaaa"]);
    });
  });

  it("reads across more chunks than one query loads", async () => {
    await inStream("many-chunks", (store) => {
      for (let i = 0; i < 40; i++) append(store, i, `m${i}`);
      expect(payloads(store, 5, 30)).toEqual(Array.from({ length: 30 }, (_, i) => `m${i + 5}`));
    });
  });

  it("reports its bounds, empty or not", async () => {
    await inStream("bounds", (store) => {
      expect(store.bounds()).toEqual({
        first: 0,
        next: 0,
        bytes: 0,
        chunks: 0,
        firstTimestamp: null,
        lastTimestamp: null,
      });
      append(store, 10, "a", "b");
      append(store, 20, "c");
      expect(store.bounds()).toMatchObject({
        first: 0,
        next: 3,
        chunks: 2,
        firstTimestamp: 10,
        lastTimestamp: 20,
      });
      expect(store.bounds().bytes).toBeGreaterThan(0);
    });
  });

  it("finds the first offset of the first chunk at or after a timestamp", async () => {
    await inStream("time", (store) => {
      append(store, 100, "a", "b");
      append(store, 200, "c");
      expect(store.offsetAt(50)).toBe(0);
      expect(store.offsetAt(150)).toBe(2);
      expect(store.offsetAt(999)).toBe(3);
    });
  });

  it("deletes whole chunks older than maxAge, never the newest, and keeps offsets", async () => {
    await inStream("age", (store) => {
      append(store, 0, "old-1", "old-2");
      append(store, 0, "old-newest");
      expect(store.applyRetention(10_000, 1000, null)).toBe(1);
      expect(store.bounds()).toMatchObject({ first: 2, next: 3, chunks: 1 });
      expect(payloads(store, 0)).toEqual(["old-newest"]);
      expect(append(store, 10_000, "new")).toBe(3);
    });
  });

  it("deletes the oldest chunks while the log is over maxBytes, never the newest", async () => {
    await inStream("size", (store) => {
      for (const p of ["a", "b", "c", "d"]) {
        store.append(encodeChunk([message(p, 1000)]), 1, 1);
      }
      expect(store.applyRetention(2, null, 2500)).toBe(2);
      expect(store.bounds()).toMatchObject({ first: 2, chunks: 2 });
      expect(store.applyRetention(2, null, 0)).toBe(1);
      expect(store.bounds()).toMatchObject({ first: 3, next: 4, chunks: 1 });
    });
  });

  it("answers nothing to retain in an empty log", async () => {
    await inStream("empty-retention", (store) => {
      expect(store.applyRetention(1, 0, 0)).toBe(0);
    });
  });

  it("remembers each producer's last sequence and the chunk it made", async () => {
    await inStream("producers", (store) => {
      expect(store.producer("p1")).toBeUndefined();
      store.setProducer("p1", { sequence: 4, base: 0, count: 2 });
      store.setProducer("p1", { sequence: 5, base: 2, count: 1 });
      store.setProducer("p2", { sequence: 1, base: 3, count: 1 });
      expect(store.producer("p1")).toEqual({ sequence: 5, base: 2, count: 1 });
      expect(store.producer("p2")).toEqual({ sequence: 1, base: 3, count: 1 });
    });
  });

  it("clears chunks, producers and offsets", async () => {
    await inStream("clear", (store) => {
      append(store, 1, "a");
      store.setProducer("p", { sequence: 1, base: 0, count: 1 });
      store.clear();
      expect(store.bounds()).toMatchObject({ first: 0, next: 0, chunks: 0 });
      expect(store.producer("p")).toBeUndefined();
    });
  });
});
