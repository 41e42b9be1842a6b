/**
 * ConsumerSet (src/queue/consumers.ts) driven directly over a real queue object's SQLite: who
 * consumes, whose turn it is, how much room each has, and delivery tags per connection.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type Consumer, ConsumerSet } from "../../src/queue/consumers";
import { ConsumerStore } from "../../src/storage/consumer-store";

type NewConsumer = Omit<Consumer, "registered" | "unacked">;

const consumer = (connection: string, tag: string, extra: Partial<NewConsumer> = {}) => ({
  connection,
  tag,
  prefetch: 0,
  autoAck: false,
  exclusive: false,
  ackTimeoutMs: 60_000,
  batch: false,
  ...extra,
});

let objects = 0;

/** Runs `body` with a consumer set over a fresh queue object's storage; `reload` reads it again. */
function withConsumers(body: (set: ConsumerSet, reload: () => ConsumerSet) => void): Promise<void> {
  const stub = env.QUEUES.getByName(`consumer-set-test-${++objects}`);
  return runInDurableObject(stub, (_instance, state) => {
    const open = () => new ConsumerSet(new ConsumerStore(state.storage.sql));
    body(open(), open);
  });
}

/** Who gets the next `n` deliveries, taking each one (as dispatch does). */
function turns(set: ConsumerSet, n: number, singleActive = false): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = set.next(singleActive);
    if (!next) break;
    next.unacked++;
    out.push(next.tag);
  }
  return out;
}

describe("a queue's consumers", () => {
  it("take turns round-robin, in the order they subscribed", async () => {
    await withConsumers((set) => {
      set.add(consumer("c1", "a"), 1);
      set.add(consumer("c2", "b"), 2);
      set.add(consumer("c1", "c"), 3);
      expect(turns(set, 7)).toEqual(["a", "b", "c", "a", "b", "c", "a"]);
    });
  });

  it("skip a consumer at its prefetch, and count prefetch 0 as unlimited room", async () => {
    await withConsumers((set) => {
      set.add(consumer("c1", "small", { prefetch: 1 }), 1);
      set.add(consumer("c2", "big", { prefetch: 0 }), 2);
      expect(set.capacity(false)).toBe(Number.POSITIVE_INFINITY);
      expect(turns(set, 4)).toEqual(["small", "big", "big", "big"]);
      const small = set.find("c1", "small") as Consumer;
      expect(small.unacked).toBe(1);
    });
  });

  it("answer the room left over all consumers, and nobody once all are full", async () => {
    await withConsumers((set) => {
      set.add(consumer("c1", "a", { prefetch: 2 }), 1);
      set.add(consumer("c2", "b", { prefetch: 3 }), 2);
      expect(set.capacity(false)).toBe(5);
      expect(turns(set, 10)).toHaveLength(5);
      expect(set.capacity(false)).toBe(0);
      expect(set.next(false)).toBeNull();
    });
  });

  it("give only the earliest consumer turns and room with a single active consumer", async () => {
    await withConsumers((set) => {
      set.add(consumer("c1", "first", { prefetch: 2 }), 1);
      set.add(consumer("c2", "second", { prefetch: 5 }), 1);
      expect(set.capacity(true)).toBe(2);
      expect(turns(set, 5, true)).toEqual(["first", "first"]);
      set.remove("c1", "first");
      expect(turns(set, 1, true)).toEqual(["second"]);
    });
  });

  it("pass over connections that may not receive now", async () => {
    await withConsumers((set) => {
      set.add(consumer("held", "a"), 1);
      set.add(consumer("open", "b", { prefetch: 3 }), 2);
      const eligible = (connection: string) => connection !== "held";
      expect(set.capacity(false, eligible)).toBe(3);
      expect(set.next(false, eligible)?.tag).toBe("b");
    });
  });

  it("register in a strictly increasing order even when added in the same millisecond", async () => {
    await withConsumers((set) => {
      const a = set.add(consumer("c1", "a"), 100);
      const b = set.add(consumer("c1", "b"), 100);
      const c = set.add(consumer("c1", "c"), 50);
      expect([a.registered, b.registered, c.registered]).toEqual([100, 101, 102]);
    });
  });

  it("number deliveries per connection from 1, and keep the count once persisted", async () => {
    await withConsumers((set, reload) => {
      set.add(consumer("c1", "a"), 1);
      expect([set.takeDeliveryTag("c1"), set.takeDeliveryTag("c1")]).toEqual([1, 2]);
      expect(set.takeDeliveryTag("c2")).toBe(1);
      set.persistTags();
      const again = reload();
      expect(again.takeDeliveryTag("c1")).toBe(3);
      expect(again.takeDeliveryTag("c2")).toBe(2);
    });
  });

  it("survive a reload with their settings, in subscription order", async () => {
    await withConsumers((set, reload) => {
      set.add(consumer("c2", "late", { prefetch: 7, autoAck: true, batch: true }), 20);
      set.add(consumer("c1", "early", { exclusive: true, ackTimeoutMs: 5000 }), 10);
      const reloaded = reload().all();
      // Subscription order, whatever clock each was added with.
      expect(reloaded.map((c) => c.tag)).toEqual(["late", "early"]);
      expect(reloaded.find((c) => c.tag === "late")).toMatchObject({
        connection: "c2",
        prefetch: 7,
        autoAck: true,
        batch: true,
        exclusive: false,
        unacked: 0,
      });
      expect(reloaded.find((c) => c.tag === "early")).toMatchObject({
        exclusive: true,
        ackTimeoutMs: 5000,
      });
    });
  });

  it("forget a closed connection: its consumers and its delivery tags", async () => {
    await withConsumers((set, reload) => {
      set.add(consumer("c1", "a"), 1);
      set.add(consumer("c1", "b"), 2);
      set.add(consumer("c2", "c"), 3);
      set.takeDeliveryTag("c1");
      set.persistTags();
      expect(set.closeConnection("c1").map((c) => c.tag)).toEqual(["a", "b"]);
      expect(set.all().map((c) => c.tag)).toEqual(["c"]);
      expect(set.connections()).toEqual(new Set(["c2"]));
      expect(
        reload()
          .all()
          .map((c) => c.tag),
      ).toEqual(["c"]);
      expect(reload().takeDeliveryTag("c1")).toBe(1);
    });
  });

  it("remove one consumer and answer it, or undefined for one not there", async () => {
    await withConsumers((set) => {
      set.add(consumer("c1", "a"), 1);
      expect(set.remove("c1", "a")?.tag).toBe("a");
      expect(set.remove("c1", "a")).toBeUndefined();
      expect(set.size).toBe(0);
      // Its connection keeps its delivery tags: what it holds can still be acked.
      expect(set.connections()).toEqual(new Set(["c1"]));
    });
  });
});
