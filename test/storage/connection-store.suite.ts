/** The vhost catalog's table of open WebSocket connections (src/storage/connection-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConnectionStore } from "../../src/storage/connection-store";
import { inObject } from "./support";

function inCatalog<T>(name: string, body: (store: ConnectionStore) => T): Promise<T> {
  return inObject(env.VHOSTS, `connections:${name}`, (sql) => body(new ConnectionStore(sql)));
}

describe("a connection store", () => {
  it("adds a connection once; adding it again only refreshes when it was seen", async () => {
    await inCatalog("add", (store) => {
      store.add("c1", "orders", 100, { user: "ann", peer: "10.0.0.1" });
      store.add("c1", "orders", 250, { user: "someone-else", peer: "" });
      expect(store.count()).toBe(1);
      expect(store.get("c1")).toEqual({
        id: "c1",
        holder: "orders",
        seen: 250,
        user: "ann",
        peer: "10.0.0.1",
        opened: 100,
        closing: false,
      });
      expect(store.get("missing")).toBeUndefined();
    });
  });

  it("lists connections in opening order, and removes several at once", async () => {
    await inCatalog("list", (store) => {
      store.add("late", "q", 20);
      store.add("early", "", 10);
      store.add("middle", "q", 15);
      expect(store.list().map((c) => c.id)).toEqual(["early", "middle", "late"]);
      store.remove(["early", "late", "never-there"]);
      expect(store.list().map((c) => c.id)).toEqual(["middle"]);
    });
  });

  it("groups consumer connections by the queue holding them, producers left out", async () => {
    await inCatalog("held", (store) => {
      store.add("p", "", 1);
      store.add("c1", "orders", 1);
      store.add("c2", "orders", 2);
      store.add("c3", "audit", 3);
      expect(store.heldBy()).toEqual(
        new Map([
          ["orders", ["c1", "c2"]],
          ["audit", ["c3"]],
        ]),
      );
    });
  });

  it("drops producers that stopped refreshing, never consumer connections", async () => {
    await inCatalog("silent", (store) => {
      store.add("quiet-producer", "", 100);
      store.add("busy-producer", "", 100);
      store.add("old-consumer", "orders", 100);
      store.touch("busy-producer", 900);
      store.dropSilentProducers(500);
      expect(store.list().map((c) => c.id)).toEqual(["busy-producer", "old-consumer"]);
    });
  });

  it("marks a connection as closing", async () => {
    await inCatalog("closing", (store) => {
      store.add("c", "q", 1);
      store.markClosing("c");
      expect(store.get("c")?.closing).toBe(true);
    });
  });
});
