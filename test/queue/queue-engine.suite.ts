/**
 * QueueEngine (src/queue/queue-engine.ts) driven directly over a real queue object's SQLite: the
 * delivery rules without RPC, sockets or alarms. Time is a number the test passes in.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { BatchedDelivery, DeliverBatchFrame, DeliverFrame } from "../../src/protocol/frames";
import type { PublishedMessage } from "../../src/protocol/message";
import type { Consumer } from "../../src/queue/consumers";
import { QueueEngine, type QueuePolicy } from "../../src/queue/queue-engine";

const NO_POLICY: QueuePolicy = {
  singleActiveConsumer: false,
  deliveryLimit: undefined,
  messageTtl: undefined,
  deadLetter: undefined,
  maxLength: undefined,
  maxLengthBytes: undefined,
};

type ConsumerRequest = Omit<Consumer, "connection" | "registered" | "unacked">;

const consumer = (tag: string, extra: Partial<ConsumerRequest> = {}): ConsumerRequest => ({
  tag,
  prefetch: 0,
  autoAck: false,
  exclusive: false,
  ackTimeoutMs: 60_000,
  batch: false,
  ...extra,
});

const message = (payload: string, properties: Record<string, unknown> = {}): PublishedMessage => ({
  exchange: "ex",
  routingKey: "rk",
  properties,
  body: new TextEncoder().encode(payload),
});
const messages = (...payloads: string[]) => payloads.map((p) => message(p));

interface Harness {
  readonly engine: QueueEngine;
  /** Every frame sent, with the connection it went to. */
  readonly sent: { connection: string; frame: DeliverFrame | DeliverBatchFrame }[];
  /** Single deliveries sent to a connection, in order. */
  deliveries(connection: string): DeliverFrame[];
  /** Payloads delivered to a connection (batched or not), in order. */
  payloads(connection: string): string[];
  /** A new engine over the same storage, as after the object restarts. */
  restart(): QueueEngine;
}

let objects = 0;

/** Runs `body` with an engine over a fresh queue object's storage. */
function withEngine(
  body: (h: Harness) => void,
  policy: Partial<QueuePolicy> = {},
  mayDeliver: (connection: string) => boolean = () => true,
): Promise<void> {
  const stub = env.QUEUES.getByName(`queue-engine-test-${++objects}`);
  return runInDurableObject(stub, (_instance, state) => {
    const sent: Harness["sent"] = [];
    const make = () =>
      new QueueEngine(
        state.storage.sql,
        () => ({ ...NO_POLICY, ...policy }),
        (connection, frame) => sent.push({ connection, frame }),
        { mayDeliver, resumeLater: () => undefined },
      );
    const engine = make();
    const to = (connection: string) =>
      sent.filter((s) => s.connection === connection).map((s) => s.frame);
    body({
      engine,
      sent,
      deliveries: (connection) =>
        to(connection).filter((f): f is DeliverFrame => !("deliveries" in f)),
      payloads: (connection) =>
        to(connection).flatMap((f) =>
          "deliveries" in f
            ? f.deliveries.map((d: BatchedDelivery) => d.payload)
            : [(f as DeliverFrame).payload],
        ),
      restart: make,
    });
  });
}

describe("a queue engine", () => {
  it("stores messages in order and counts them and their bytes", async () => {
    await withEngine(({ engine }) => {
      engine.enqueue(messages("a", "bb", "ccc"), 1);
      expect(engine.stats()).toEqual({
        messages: 3,
        messages_ready: 3,
        messages_unacknowledged: 0,
        consumers: 0,
        message_bytes: 6,
      });
      expect(engine.get(10, true, 2).map((m) => m.remaining)).toEqual([2, 1, 0]);
    });
  });

  it("delivers in queue order, taking turns between consumers", async () => {
    await withEngine(({ engine, payloads }) => {
      engine.consume("c1", consumer("a"), 1, "q");
      engine.consume("c2", consumer("b"), 1, "q");
      engine.enqueue(messages("1", "2", "3", "4", "5"), 1);
      expect(payloads("c1")).toEqual(["1", "3", "5"]);
      expect(payloads("c2")).toEqual(["2", "4"]);
    });
  });

  it("numbers deliveries per connection from 1, never reusing a tag", async () => {
    await withEngine(({ engine, deliveries }) => {
      engine.consume("c", consumer("a", { prefetch: 1 }), 1, "q");
      engine.enqueue(messages("x", "y"), 1);
      engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "requeue", 2);
      engine.settleDeliveries("c", { deliveryTag: 2, multiple: false }, "ack", 3);
      expect(deliveries("c").map((d) => [d.payload, d.delivery_tag])).toEqual([
        ["x", 1],
        ["x", 2],
        ["y", 3],
      ]);
    });
  });

  it("holds at most prefetch unacknowledged deliveries per consumer; an ack frees one place", async () => {
    await withEngine(({ engine, payloads }) => {
      engine.consume("c", consumer("a", { prefetch: 2 }), 1, "q");
      engine.enqueue(messages("1", "2", "3", "4"), 1);
      expect(payloads("c")).toEqual(["1", "2"]);
      expect(engine.stats()).toMatchObject({ messages_ready: 2, messages_unacknowledged: 2 });
      expect(engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "ack", 2)).toEqual(
        [],
      );
      expect(payloads("c")).toEqual(["1", "2", "3"]);
    });
  });

  it("removes a message on delivery to an auto-ack consumer", async () => {
    await withEngine(({ engine, payloads }) => {
      engine.consume("c", consumer("a", { autoAck: true, prefetch: 1 }), 1, "q");
      engine.enqueue(messages("1", "2", "3"), 1);
      expect(payloads("c")).toEqual(["1", "2", "3"]);
      expect(engine.stats()).toMatchObject({ messages: 0, messages_unacknowledged: 0 });
    });
  });

  it("returns a requeued delivery to its place, flagged redelivered, with x-delivery-count", async () => {
    await withEngine(({ engine, deliveries }) => {
      engine.enqueue(messages("first", "second"), 1);
      engine.consume("c", consumer("a", { prefetch: 1 }), 1, "q");
      engine.dispatch(1);
      engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "requeue", 2);
      const again = deliveries("c")[1];
      expect(again).toMatchObject({ payload: "first", redelivered: true, delivery_count: 2 });
      expect(again?.properties.headers).toEqual({ "x-delivery-count": 1 });
    });
  });

  it("settles one tag, every tag up to one with multiple, or a list, and names unknown tags", async () => {
    await withEngine(({ engine }) => {
      engine.consume("c", consumer("a"), 1, "q");
      engine.enqueue(messages("1", "2", "3", "4", "5"), 1);
      expect(engine.settleDeliveries("c", { deliveryTag: 2, multiple: true }, "ack", 2)).toEqual(
        [],
      );
      expect(
        engine.settleDeliveries("c", { multiple: false, deliveryTags: [3, 99, 5, 3] }, "drop", 2),
      ).toEqual([99]);
      expect(engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "ack", 2)).toEqual([
        1,
      ]);
      expect(
        engine.settleDeliveries("other", { deliveryTag: 4, multiple: false }, "ack", 2),
      ).toEqual([4]);
      expect(engine.stats()).toMatchObject({ messages: 1, messages_unacknowledged: 1 });
    });
  });

  it("gives only the earliest consumer deliveries with a single active consumer, then the next", async () => {
    await withEngine(
      ({ engine, payloads }) => {
        engine.consume("c1", consumer("first"), 1, "q");
        engine.consume("c2", consumer("second"), 2, "q");
        engine.enqueue(messages("1", "2"), 3);
        expect(payloads("c1")).toEqual(["1", "2"]);
        expect(payloads("c2")).toEqual([]);
        engine.closeConnection("c1", 4);
        expect(payloads("c2")).toEqual(["1", "2"]);
      },
      { singleActiveConsumer: true },
    );
  });

  it("returns every delivery of a connection that closes, and forgets its consumers", async () => {
    await withEngine(({ engine, deliveries }) => {
      engine.consume("gone", consumer("a"), 1, "q");
      engine.enqueue(messages("1", "2"), 1);
      engine.closeConnection("gone", 2);
      expect(engine.stats()).toMatchObject({ messages_ready: 2, consumers: 0 });
      // Subscribing does not dispatch by itself: the consume frame's handler asks for it.
      engine.consume("next", consumer("b"), 3, "q");
      expect(deliveries("next")).toEqual([]);
      engine.dispatch(3);
      expect(deliveries("next").map((d) => [d.payload, d.redelivered])).toEqual([
        ["1", true],
        ["2", true],
      ]);
    });
  });

  it("keeps a cancelled consumer's deliveries with its connection, to be acked", async () => {
    await withEngine(({ engine }) => {
      engine.consume("c", consumer("a"), 1, "q");
      engine.enqueue(messages("1"), 1);
      expect(engine.cancel("c", "a")).toBe(true);
      expect(engine.cancel("c", "a")).toBe(false);
      expect(engine.stats()).toMatchObject({ consumers: 0, messages_unacknowledged: 1 });
      expect(engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "ack", 2)).toEqual(
        [],
      );
      expect(engine.stats().messages).toBe(0);
    });
  });

  it("refuses a tag already used on the connection, and exclusive use beside others", async () => {
    await withEngine(({ engine }) => {
      expect(engine.consume("c", consumer("a"), 1, "q")).toBeNull();
      expect(engine.consume("c", consumer("a"), 1, "q")).toMatchObject({ code: "bad_request" });
      expect(engine.consume("d", consumer("x", { exclusive: true }), 1, "q")).toMatchObject({
        code: "access_refused",
      });
      engine.closeConnection("c", 2);
      expect(engine.consume("d", consumer("x", { exclusive: true }), 3, "q")).toBeNull();
      expect(engine.consume("e", consumer("y"), 3, "q")).toMatchObject({
        code: "access_refused",
      });
    });
  });

  it("drops a message returned more often than the delivery limit, or dead-letters it", async () => {
    await withEngine(
      ({ engine }) => {
        engine.consume("c", consumer("a", { prefetch: 1 }), 1, "q");
        engine.enqueue(messages("poison"), 1);
        engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "requeue", 2);
        engine.settleDeliveries("c", { deliveryTag: 2, multiple: false }, "requeue", 3);
        expect(engine.stats().messages).toBe(0);
        expect(engine.deadLettersPending).toBe(true);
        const [dead] = engine.pendingDeadLetters(10);
        expect(dead?.reason).toBe("delivery_limit");
        engine.forgetDeadLetters([dead?.seq as number]);
        expect(engine.pendingDeadLetters(10)).toEqual([]);
        expect(engine.deadLettersPending).toBe(false);
      },
      { deliveryLimit: 1, deadLetter: { exchange: "dlx", routingKey: undefined } },
    );
  });

  it("sets a nacked delivery aside as rejected with a dead-letter exchange, else deletes it", async () => {
    await withEngine(
      ({ engine }) => {
        engine.consume("c", consumer("a"), 1, "q");
        engine.enqueue(messages("no"), 1);
        engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "drop", 2);
        expect(engine.pendingDeadLetters(10).map((d) => d.reason)).toEqual(["rejected"]);
      },
      { deadLetter: { exchange: "dlx", routingKey: undefined } },
    );
    await withEngine(({ engine }) => {
      engine.consume("c", consumer("a"), 1, "q");
      engine.enqueue(messages("no"), 1);
      engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "drop", 2);
      expect(engine.stats().messages).toBe(0);
      expect(engine.pendingDeadLetters(10)).toEqual([]);
    });
  });

  it("returns a delivery whose ack deadline passed, unless extended", async () => {
    await withEngine(({ engine, payloads }) => {
      engine.consume("c", consumer("a", { ackTimeoutMs: 1000 }), 0, "q");
      engine.enqueue(messages("slow", "extended"), 0);
      expect(engine.extend("c", 2, false, 60_000)).toBe(true);
      expect(engine.extend("c", 99, false, 60_000)).toBe(false);
      expect(engine.nextWakeup(0)).toBe(1000);
      expect(engine.expire(999)).toBe(0);
      expect(engine.expire(1000)).toBe(1);
      // Returned, and handed again at once to the consumer that has room.
      expect(payloads("c")).toEqual(["slow", "extended", "slow"]);
      expect(
        engine.settleDeliveries("c", { deliveryTag: 1, multiple: false }, "ack", 1001),
      ).toEqual([1]);
    });
  });

  it("leases messages to a pull consumer, and settles or expires each lease", async () => {
    await withEngine(({ engine }) => {
      engine.enqueue(messages("a", "b", "c"), 0);
      const leased = engine.pull(2, 500, 0);
      expect(leased.map((m) => new TextDecoder().decode(m.body))).toEqual(["a", "b"]);
      expect(engine.stats()).toMatchObject({ messages_ready: 1, messages_unacknowledged: 2 });
      const [a, b] = leased as [(typeof leased)[0], (typeof leased)[0]];
      expect(engine.settleLease(a.lease, "ack", 0, 1)).toEqual({ lease: a.lease, ok: true });
      expect(engine.settleLease(a.lease, "ack", 0, 1)).toMatchObject({ ok: false });
      expect(engine.nextWakeup(1)).toBe(500);
      expect(engine.expire(500)).toBe(1);
      const again = engine.pull(10, 500, 501);
      expect(again.map((m) => [new TextDecoder().decode(m.body), m.redelivered])).toEqual([
        ["b", true],
        ["c", false],
      ]);
      expect(again[0]?.lease).not.toBe(b.lease);
    });
  });

  it("holds back a lease requeued with a delay until the delay has passed", async () => {
    await withEngine(({ engine }) => {
      engine.enqueue(messages("later"), 0);
      const [lease] = engine.pull(1, 60_000, 0);
      engine.settleLease(lease?.lease as string, "requeue", 5000, 10);
      expect(engine.stats().messages_ready).toBe(1);
      expect(engine.pull(1, 60_000, 5009)).toEqual([]);
      expect(engine.nextWakeup(5009)).toBe(5010);
      expect(engine.pull(1, 60_000, 5010)).toHaveLength(1);
    });
  });

  it("looks with get's requeue modes and takes without, dead-lettering a reject", async () => {
    await withEngine(
      ({ engine }) => {
        engine.enqueue(messages("a", "b", "c"), 0);
        const looked = engine.get(1, true, 1);
        expect(looked[0]).toMatchObject({ redelivered: false });
        expect(engine.get(1, true, 1)[0]).toMatchObject({ redelivered: true });
        expect(engine.get(1, false, 1).map((m) => m.remaining)).toEqual([2]);
        engine.get(1, false, 1, true);
        expect(engine.stats().messages).toBe(1);
        expect(engine.pendingDeadLetters(10).map((d) => d.reason)).toEqual(["rejected"]);
      },
      { deadLetter: { exchange: "dlx", routingKey: undefined } },
    );
  });

  it("never hands out an expired message, and sweeps it wherever it is in the queue", async () => {
    await withEngine(
      ({ engine, payloads }) => {
        engine.enqueue(
          [message("head"), message("short", { expiration: "10" }), message("tail")],
          0,
        );
        expect(engine.expiryDue).toBe(10);
        expect(engine.nextWakeup(0)).toBe(10);
        expect(engine.sweepExpired(9)).toBe(0);
        expect(engine.sweepExpired(10)).toBe(1);
        expect(engine.stats()).toMatchObject({ messages: 2, message_bytes: 8 });
        engine.consume("c", consumer("a"), 11, "q");
        engine.dispatch(11);
        expect(payloads("c")).toEqual(["head", "tail"]);
      },
      { messageTtl: 60_000 },
    );
  });

  it("gives a message with TTL 0 to a consumer with room at once, and drops it otherwise", async () => {
    await withEngine(
      ({ engine, payloads }) => {
        engine.enqueue(messages("nobody"), 0);
        expect(engine.sweepExpired(0)).toBe(1);
        engine.consume("c", consumer("a"), 1, "q");
        engine.enqueue(messages("taken"), 1);
        expect(payloads("c")).toEqual(["taken"]);
      },
      { messageTtl: 0 },
    );
  });

  it("drops the head beyond x-max-length and x-max-length-bytes, after dispatch", async () => {
    await withEngine(
      ({ engine }) => {
        engine.enqueue(messages("1", "2", "3"), 0);
        expect(engine.get(10, true, 0).map((m) => new TextDecoder().decode(m.body))).toEqual([
          "2",
          "3",
        ]);
        expect(engine.pendingDeadLetters(10).map((d) => d.reason)).toEqual(["maxlen"]);
      },
      { maxLength: 2, deadLetter: { exchange: "dlx", routingKey: undefined } },
    );
    await withEngine(
      ({ engine }) => {
        engine.enqueue(messages("aaaa", "bbbb", "cc"), 0);
        expect(engine.stats()).toMatchObject({ messages: 2, message_bytes: 6 });
      },
      { maxLengthBytes: 6 },
    );
  });

  it("purges ready messages only, leaving deliveries held", async () => {
    await withEngine(({ engine }) => {
      engine.consume("c", consumer("a", { prefetch: 1 }), 0, "q");
      engine.enqueue(messages("held", "ready-1", "ready-2"), 0);
      expect(engine.purge()).toBe(2);
      expect(engine.stats()).toMatchObject({ messages: 1, messages_unacknowledged: 1 });
    });
  });

  it("sends a batching consumer a dispatch round's deliveries as one frame", async () => {
    await withEngine(({ engine, sent }) => {
      engine.enqueue(messages("1", "2", "3"), 0);
      engine.consume("c", consumer("a", { batch: true, prefetch: 2 }), 0, "q");
      engine.dispatch(0);
      expect(sent).toHaveLength(1);
      const frame = sent[0]?.frame as DeliverBatchFrame;
      expect(frame.deliveries.map((d) => [d.payload, d.delivery_tag])).toEqual([
        ["1", 1],
        ["2", 2],
      ]);
    });
  });

  it("delivers nothing to a connection its gate holds back", async () => {
    await withEngine(
      ({ engine, payloads }) => {
        engine.consume("held", consumer("a"), 0, "q");
        engine.consume("open", consumer("b"), 0, "q");
        engine.enqueue(messages("1", "2"), 0);
        expect(payloads("held")).toEqual([]);
        expect(payloads("open")).toEqual(["1", "2"]);
      },
      {},
      (connection) => connection !== "held",
    );
  });

  it("after a restart, recounts everything and returns what gone connections held", async () => {
    await withEngine(({ engine, restart, payloads }) => {
      engine.consume("kept", consumer("a", { prefetch: 1 }), 0, "q");
      engine.consume("lost", consumer("b", { prefetch: 1 }), 0, "q");
      engine.enqueue(messages("1", "2", "3"), 0);
      // The flush timer has run (the runtime hibernates an object only once it has).
      expect(engine.deliveriesPending).toBe(true);
      engine.flushDeliveries();
      expect(engine.deliveriesPending).toBe(false);
      const after = restart();
      expect(after.stats()).toEqual(engine.stats());
      expect(after.consumers.find("kept", "a")?.unacked).toBe(1);
      after.releaseOrphans(new Set(["kept"]), 1);
      expect(after.stats()).toMatchObject({ consumers: 1, messages_unacknowledged: 1 });
      // "lost" held message 2: it is ready again, and "kept" has no room for it.
      expect(
        after.get(10, true, 2).map((m) => [new TextDecoder().decode(m.body), m.redelivered]),
      ).toEqual([
        ["2", true],
        ["3", false],
      ]);
      expect(payloads("kept")).toEqual(["1"]);
    });
  });

  it("after a crash that lost deliveries and acks held in memory, every delivered message is ready and flagged redelivered", async () => {
    await withEngine(({ engine, restart }) => {
      engine.consume("gone", consumer("a", { prefetch: 3 }), 0, "q");
      engine.enqueue(messages("1", "2", "3", "4"), 0);
      // Tag 1 acked, tags 2 and 3 held: none of it written yet when the process dies.
      expect(
        engine.settleDeliveries("gone", { deliveryTag: 1, multiple: false }, "ack", 1),
      ).toEqual([]);
      expect(engine.deliveriesPending).toBe(true);
      const after = restart();
      after.releaseOrphans(new Set(), 2);
      expect(after.stats()).toMatchObject({
        messages: 4,
        messages_ready: 4,
        messages_unacknowledged: 0,
      });
      const again = after
        .get(10, true, 3)
        .map((m) => [new TextDecoder().decode(m.body), m.redelivered]);
      // The lost ack means one more delivery (at-least-once); every message that may have been
      // delivered says so. Message 4 was delivered too (tag 4, after the ack made room).
      expect(again).toEqual([
        ["1", true],
        ["2", true],
        ["3", true],
        ["4", true],
      ]);
    });
  });

  it("writes held acks and deliveries on flush: a restart after it redelivers only what was unacked", async () => {
    await withEngine(({ engine, restart }) => {
      engine.consume("gone", consumer("a", { prefetch: 2 }), 0, "q");
      engine.enqueue(messages("1", "2", "3"), 0);
      engine.settleDeliveries("gone", { multiple: false, deliveryTags: [1] }, "ack", 1);
      engine.flushDeliveries();
      const after = restart();
      after.releaseOrphans(new Set(), 2);
      expect(after.stats()).toMatchObject({ messages: 2, messages_ready: 2 });
      expect(
        after.get(10, true, 3).map((m) => [new TextDecoder().decode(m.body), m.redelivered]),
      ).toEqual([
        ["2", true],
        ["3", true],
      ]);
    });
  });

  it("acks with multiple across written and held deliveries, and calls a second ack of a tag unknown", async () => {
    await withEngine(({ engine, payloads }) => {
      engine.consume("c", consumer("a", { prefetch: 5 }), 0, "q");
      engine.enqueue(messages("1", "2", "3"), 0);
      engine.flushDeliveries(); // tags 1-3 written
      engine.enqueue(messages("4", "5"), 1); // tags 4-5 held in memory
      expect(engine.deliveriesPending).toBe(true);
      expect(engine.settleDeliveries("c", { deliveryTag: 4, multiple: true }, "ack", 2)).toEqual(
        [],
      );
      expect(engine.stats()).toMatchObject({ messages: 1, messages_unacknowledged: 1 });
      // Acked but not yet written: still unknown to a second ack, held or written alike.
      expect(
        engine.settleDeliveries("c", { multiple: false, deliveryTags: [1, 4, 5] }, "ack", 3),
      ).toEqual([1, 4]);
      engine.flushDeliveries();
      expect(engine.stats()).toMatchObject({ messages: 0, messages_unacknowledged: 0 });
      expect(engine.get(10, true, 4)).toEqual([]);
      expect(payloads("c")).toEqual(["1", "2", "3", "4", "5"]);
    });
  });

  it("hands a priority queue's next message out once while acks of earlier ones are unwritten", async () => {
    await withEngine(
      ({ engine, payloads }) => {
        engine.consume("c", consumer("a", { prefetch: 1 }), 0, "q");
        engine.enqueue(
          [
            message("low", { priority: 1 }),
            message("high", { priority: 5 }),
            message("mid", { priority: 3 }),
          ],
          0,
        );
        for (let tag = 1; tag <= 3; tag++) {
          expect(
            engine.settleDeliveries("c", { deliveryTag: tag, multiple: false }, "ack", tag),
          ).toEqual([]);
        }
        expect(payloads("c")).toEqual(["high", "mid", "low"]);
        expect(engine.stats()).toMatchObject({ messages: 0 });
      },
      { maxPriority: 10 },
    );
  });

  it("clears messages and consumers", async () => {
    await withEngine(({ engine }) => {
      engine.consume("c", consumer("a", { prefetch: 1 }), 0, "q");
      engine.enqueue(messages("1", "2"), 0);
      engine.clear();
      expect(engine.stats()).toEqual({
        messages: 0,
        messages_ready: 0,
        messages_unacknowledged: 0,
        consumers: 0,
        message_bytes: 0,
      });
    });
  });
});
