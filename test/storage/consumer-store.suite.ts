/** A queue's consumers and delivery-tag counters in SQLite (src/storage/consumer-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type ConsumerRecord, ConsumerStore } from "../../src/storage/consumer-store";
import { inObject } from "./support";

function inQueue<T>(name: string, body: (store: ConsumerStore) => T): Promise<T> {
  return inObject(env.QUEUES, `consumers:${name}`, (sql) => body(new ConsumerStore(sql)));
}

const record = (connection: string, tag: string, registered: number): ConsumerRecord => ({
  connection,
  tag,
  prefetch: 10,
  autoAck: false,
  exclusive: false,
  ackTimeoutMs: 30_000,
  batch: false,
  registered,
});

describe("a consumer store", () => {
  it("answers consumers in registration order with every setting as stored", async () => {
    await inQueue("order", (store) => {
      store.insert(record("c2", "late", 20));
      store.insert({ ...record("c1", "early", 10), autoAck: true, exclusive: true, batch: true });
      expect(store.all()).toEqual([
        { ...record("c1", "early", 10), autoAck: true, exclusive: true, batch: true },
        record("c2", "late", 20),
      ]);
    });
  });

  it("removes one consumer, or a connection's consumers and its delivery-tag counter", async () => {
    await inQueue("remove", (store) => {
      store.insert(record("c1", "a", 1));
      store.insert(record("c1", "b", 2));
      store.insert(record("c2", "c", 3));
      store.setDeliveryTag("c1", 5);
      store.setDeliveryTag("c2", 9);
      store.remove("c1", "a");
      expect(store.all().map((c) => c.tag)).toEqual(["b", "c"]);
      store.removeConnection("c1");
      expect(store.all().map((c) => c.tag)).toEqual(["c"]);
      expect(store.deliveryTags()).toEqual(new Map([["c2", 9]]));
    });
  });

  it("keeps each connection's next delivery tag, the last one set", async () => {
    await inQueue("tags", (store) => {
      expect(store.deliveryTags()).toEqual(new Map());
      store.setDeliveryTag("c", 2);
      store.setDeliveryTag("c", 7);
      expect(store.deliveryTags()).toEqual(new Map([["c", 7]]));
    });
  });
});
