/** The exchange object's declaration and outgoing bindings (src/storage/exchange-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ExchangeDeclaration } from "../../src/protocol/declarations";
import { ExchangeStore, type StoredBinding } from "../../src/storage/exchange-store";
import { inObject } from "./support";

function inExchange<T>(name: string, body: (store: ExchangeStore) => T): Promise<T> {
  return inObject(env.EXCHANGES, `exchange:${name}`, (sql) => body(new ExchangeStore(sql)));
}

const declaration: ExchangeDeclaration = {
  name: "orders",
  vhost: "/",
  type: "headers",
  durable: true,
  auto_delete: false,
  internal: false,
  arguments: { "alternate-exchange": "ae" },
};

const binding = (id: string, extra: Partial<StoredBinding> = {}): StoredBinding => ({
  id,
  kind: "queue",
  destination: `q-${id}`,
  routingKey: "",
  arguments: {},
  ...extra,
});

describe("an exchange store", () => {
  it("answers no declaration before one is put, and the last one put", async () => {
    await inExchange("declaration", (store) => {
      expect(store.declaration()).toBeUndefined();
      store.putDeclaration({ ...declaration, type: "direct" });
      store.putDeclaration(declaration);
      expect(store.declaration()).toEqual(declaration);
    });
  });

  it("keeps bindings of every kind with their keys and arguments, each id once", async () => {
    await inExchange("bindings", (store) => {
      const kinds: StoredBinding[] = [
        binding("q", { routingKey: "k", arguments: { "x-match": "any", a: [1, null] } }),
        binding("e", { kind: "exchange", destination: "other" }),
        binding("i", { kind: "inbox", destination: "7" }),
        binding("s", { kind: "stream", destination: "log" }),
      ];
      for (const b of kinds) store.putBinding(b);
      store.putBinding(binding("q", { routingKey: "ignored" }));
      const byId = (list: StoredBinding[]) => [...list].sort((a, b) => a.id.localeCompare(b.id));
      expect(byId(store.bindings())).toEqual(byId(kinds));
      store.deleteBinding("e");
      expect(
        store
          .bindings()
          .map((b) => b.id)
          .sort(),
      ).toEqual(["i", "q", "s"]);
    });
  });

  it("clears its declaration and bindings", async () => {
    await inExchange("clear", (store) => {
      store.putDeclaration(declaration);
      store.putBinding(binding("q"));
      store.clear();
      expect(store.declaration()).toBeUndefined();
      expect(store.bindings()).toEqual([]);
    });
  });
});
