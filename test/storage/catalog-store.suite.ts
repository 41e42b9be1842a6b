/** A vhost's catalog in SQLite (src/storage/catalog-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Binding } from "../../src/protocol/bindings";
import type { ExchangeDeclaration, QueueDeclaration } from "../../src/protocol/declarations";
import { bindingId, CatalogStore } from "../../src/storage/catalog-store";
import { inObject } from "./support";

function inCatalog<T>(name: string, body: (store: CatalogStore) => T): Promise<T> {
  return inObject(env.VHOSTS, `catalog:${name}`, (sql) => body(new CatalogStore(sql)));
}

const exchange = (name: string, extra: Partial<ExchangeDeclaration> = {}): ExchangeDeclaration => ({
  name,
  vhost: "v",
  type: "direct",
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: {},
  ...extra,
});

const queue = (name: string, extra: Partial<QueueDeclaration> = {}): QueueDeclaration => ({
  name,
  vhost: "v",
  durable: true,
  auto_delete: false,
  exclusive: false,
  arguments: {},
  ...extra,
});

const binding = (source: string, destination: string, key = "", extra: Partial<Binding> = {}) =>
  ({
    source,
    vhost: "v",
    destination,
    destination_type: "queue",
    routing_key: key,
    arguments: {},
    properties_key: key || "~",
    ...extra,
  }) satisfies Binding;

/** Only this test's names: a catalog may hold the built-in exchanges too. */
const mine = (names: string[]) => names.filter((n) => n.startsWith("cs."));

describe("a catalog store", () => {
  it("keeps exchange declarations by name, a redeclaration replacing the old one", async () => {
    await inCatalog("exchanges", (store) => {
      store.putExchange(exchange("cs.b"));
      store.putExchange(exchange("cs.a", { type: "topic" }));
      store.putExchange(
        exchange("cs.a", { type: "fanout", arguments: { "alternate-exchange": "x" } }),
      );
      expect(store.getExchange("cs.a")).toEqual(
        exchange("cs.a", { type: "fanout", arguments: { "alternate-exchange": "x" } }),
      );
      expect(mine(store.listExchanges().map((e) => e.name))).toEqual(["cs.a", "cs.b"]);
      store.deleteExchange("cs.a");
      expect(store.getExchange("cs.a")).toBeUndefined();
    });
  });

  it("keeps queue declarations by name, and counts them", async () => {
    await inCatalog("queues", (store) => {
      const before = store.countQueues();
      store.putQueue(queue("cs.q2"));
      store.putQueue(queue("cs.q1", { arguments: { "x-message-ttl": 5 } }));
      expect(store.getQueue("cs.q1")?.arguments).toEqual({ "x-message-ttl": 5 });
      expect(mine(store.listQueues().map((q) => q.name))).toEqual(["cs.q1", "cs.q2"]);
      expect(store.countQueues()).toBe(before + 2);
      store.deleteQueue("cs.q2");
      expect(store.getQueue("cs.q2")).toBeUndefined();
      expect(store.countQueues()).toBe(before + 1);
    });
  });

  it("keeps notification inboxes by user id, renamed in place", async () => {
    await inCatalog("inboxes", (store) => {
      store.putInbox({ id: 7, name: "Ann" });
      store.putInbox({ id: 3, name: "Bo" });
      store.putInbox({ id: 7, name: "Anna" });
      expect(store.getInbox(7)).toEqual({ id: 7, name: "Anna" });
      expect(store.listInboxes()).toEqual([
        { id: 3, name: "Bo" },
        { id: 7, name: "Anna" },
      ]);
      store.deleteInbox(3);
      expect(store.getInbox(3)).toBeUndefined();
    });
  });

  it("stores a binding once, answering whether it was new", async () => {
    await inCatalog("bindings-once", (store) => {
      expect(store.putBinding(binding("cs.x", "cs.q", "k"))).toBe(true);
      expect(store.putBinding(binding("cs.x", "cs.q", "k"))).toBe(false);
      expect(store.listBindings("v", { source: "cs.x" })).toEqual([binding("cs.x", "cs.q", "k")]);
    });
  });

  it("lists bindings in source, destination type, destination, key order, filtered", async () => {
    await inCatalog("bindings-list", (store) => {
      store.putBinding(binding("cs.y", "cs.q1", "b"));
      store.putBinding(binding("cs.x", "cs.q2", "a"));
      store.putBinding(binding("cs.x", "cs.e", "a", { destination_type: "exchange" }));
      store.putBinding(binding("cs.x", "cs.q1", "b"));
      store.putBinding(binding("cs.x", "cs.q1", "a", { arguments: { "x-match": "any" } }));
      const shown = (list: Binding[]) =>
        list.map((b) => `${b.source}>${b.destination_type}:${b.destination}/${b.properties_key}`);
      expect(shown(store.listBindings("v")).filter((s) => s.startsWith("cs."))).toEqual([
        "cs.x>exchange:cs.e/a",
        "cs.x>queue:cs.q1/a",
        "cs.x>queue:cs.q1/b",
        "cs.x>queue:cs.q2/a",
        "cs.y>queue:cs.q1/b",
      ]);
      expect(shown(store.listBindings("v", { destination: "cs.q1", propertiesKey: "b" }))).toEqual([
        "cs.x>queue:cs.q1/b",
        "cs.y>queue:cs.q1/b",
      ]);
      expect(store.listBindings("v", { destinationType: "exchange" })).toHaveLength(1);
      expect(
        store.listBindings("v", { source: "cs.x", destination: "cs.q1" })[0]?.arguments,
      ).toEqual({ "x-match": "any" });
      expect(store.countBindingsFrom("cs.x")).toBe(4);
      store.deleteBinding(binding("cs.x", "cs.q1", "b"));
      expect(store.countBindingsFrom("cs.x")).toBe(3);
    });
  });

  it("names a binding for its exchange object by destination and properties key", () => {
    expect(bindingId(binding("a", "q", "k"))).toBe(JSON.stringify(["queue", "q", "k"]));
    expect(bindingId(binding("a", "q", "k"))).not.toBe(bindingId(binding("a", "q", "k2")));
  });

  it("clears the whole catalog", async () => {
    await inCatalog("clear", (store) => {
      store.putExchange(exchange("cs.e"));
      store.putQueue(queue("cs.q"));
      store.putBinding(binding("cs.e", "cs.q"));
      store.setMeta("k", "v");
      store.clear();
      expect(store.listExchanges()).toEqual([]);
      expect(store.listQueues()).toEqual([]);
      expect(store.listBindings("v")).toEqual([]);
      expect(store.getMeta("k")).toBeUndefined();
    });
  });
});
