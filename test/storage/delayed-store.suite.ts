/** The messages a delayed exchange holds (src/storage/delayed-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PublishedMessage } from "../../src/protocol/message";
import { DelayedStore } from "../../src/storage/delayed-store";
import { inObject } from "./support";

function inDelayed<T>(name: string, body: (store: DelayedStore) => T): Promise<T> {
  return inObject(env.EXCHANGES, `delayed:${name}`, (sql) => body(new DelayedStore(sql)));
}

const message = (payload: string, bytes = payload.length): PublishedMessage => ({
  exchange: "dx",
  routingKey: `rk-${payload}`,
  properties: { headers: { "x-delay": 5, tag: payload } },
  body: new TextEncoder().encode(payload.padEnd(bytes, ".")),
});

const payloads = (store: DelayedStore, now: number, limit = 100, bytes = 1 << 20) =>
  store.due(now, limit, bytes).map((d) => new TextDecoder().decode(d.message.body));

describe("a delayed store", () => {
  it("answers what is due in (release_at, publish) order, and nothing not yet due", async () => {
    await inDelayed("order", (store) => {
      store.hold([
        { releaseAt: 300, message: message("c") },
        { releaseAt: 100, message: message("a") },
        { releaseAt: 300, message: message("d") },
        { releaseAt: 200, message: message("b") },
        { releaseAt: 900, message: message("z") },
      ]);
      expect(store.earliest()).toBe(100);
      expect(store.count()).toBe(5);
      expect(payloads(store, 50)).toEqual([]);
      expect(payloads(store, 300)).toEqual(["a", "b", "c", "d"]);
      expect(payloads(store, 300, 2)).toEqual(["a", "b"]);
    });
  });

  it("keeps each message whole: exchange, routing key, properties, body and due time", async () => {
    await inDelayed("whole", (store) => {
      store.hold([{ releaseAt: 10, message: message("m") }]);
      const [due] = store.due(10, 10, 1000);
      expect(due).toMatchObject({ releaseAt: 10, message: message("m") });
    });
  });

  it("stops a batch at the byte budget, but always answers at least one message", async () => {
    await inDelayed("bytes", (store) => {
      store.hold(["a", "b", "c"].map((p) => ({ releaseAt: 1, message: message(p, 400) })));
      expect(payloads(store, 1, 100, 900).map((p) => p[0])).toEqual(["a", "b"]);
      expect(payloads(store, 1, 100, 10).map((p) => p[0])).toEqual(["a"]);
    });
  });

  it("inserts many rows over several statements and deletes released ones by seq", async () => {
    await inDelayed("many", (store) => {
      store.hold(
        Array.from({ length: 250 }, (_, i) => ({ releaseAt: i, message: message(`${i}`) })),
      );
      expect(store.count()).toBe(250);
      const first = store.due(1000, 120, 1 << 20);
      expect(store.release(first.map((d) => d.seq))).toBe(120);
      expect(store.release(first.map((d) => d.seq))).toBe(0);
      expect(store.earliest()).toBe(120);
      store.clear();
      expect(store.count()).toBe(0);
      expect(store.earliest()).toBeNull();
    });
  });
});
