/**
 * The catalog's stored rules, over a real vhost catalog object's SQLite: limits as stored in its
 * meta table and the queue-limit failure, and which vhost a first call may create.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createsOnFirstUse, exists } from "../../src/catalog/lifecycle";
import { limit, queueLimitFailure, setLimits } from "../../src/catalog/vhost-limits";
import type { QueueDeclaration } from "../../src/protocol/declarations";
import { CatalogStore } from "../../src/storage/catalog-store";

function inCatalog(name: string, body: (store: CatalogStore) => void): Promise<void> {
  const stub = env.VHOSTS.get(env.VHOSTS.idFromName(`vhost-rules-${name}`));
  return runInDurableObject(stub, (_instance, state) => body(new CatalogStore(state.storage.sql)));
}

const queue = (name: string): QueueDeclaration => ({
  name,
  vhost: "rules",
  durable: true,
  auto_delete: false,
  exclusive: false,
  arguments: {},
});

describe("vhost limits", () => {
  it("reads an unset or negative limit as no limit", async () => {
    await inCatalog("unset", (store) => {
      expect(limit(store, "max-queues")).toBeNull();
      setLimits(store, { "max-queues": -1, "max-connections": 0 });
      expect(limit(store, "max-queues")).toBeNull();
      expect(limit(store, "max-connections")).toBe(0);
    });
  });

  it("refuses a queue beyond max-queues with RabbitMQ's reason", async () => {
    await inCatalog("max-queues", (store) => {
      setLimits(store, { "max-queues": 2 });
      store.putQueue(queue("a"));
      expect(queueLimitFailure(store, "rules", 1)).toBeNull();
      store.putQueue(queue("b"));
      expect(queueLimitFailure(store, "rules", 1)).toEqual({
        ok: false,
        code: "bad_request",
        reason:
          "PRECONDITION_FAILED - cannot declare queue in vhost 'rules': queue limit in vhost (2) is reached",
      });
    });
  });
});

describe("vhost lifecycle", () => {
  it("lets only the default vhost be created by a first call, and only until it is deleted", async () => {
    await inCatalog("first-use", (store) => {
      expect(exists(store, "/")).toBe(false);
      expect(createsOnFirstUse(store, "/")).toBe(true);
      expect(createsOnFirstUse(store, "other")).toBe(false);
      store.setMeta("dropped", "1");
      expect(createsOnFirstUse(store, "/")).toBe(false);
    });
  });
});
