/** The queue object's declaration in its `meta` table (src/storage/queue-meta-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { QueueDeclaration } from "../../src/protocol/declarations";
import { QueueMetaStore } from "../../src/storage/queue-meta-store";
import { inObject } from "./support";

const declaration: QueueDeclaration = {
  name: "orders",
  vhost: "/",
  durable: true,
  auto_delete: false,
  exclusive: false,
  arguments: { "x-message-ttl": 5000, "x-dead-letter-exchange": "dlx" },
};

describe("a queue meta store", () => {
  it("answers null for a queue never declared, the declaration once set, null after clear", async () => {
    await inObject(env.QUEUES, "queue-meta:lifecycle", (sql) => {
      const meta = new QueueMetaStore(sql);
      expect(meta.declaration()).toBeNull();
      meta.setDeclaration({ ...declaration, arguments: {} });
      meta.setDeclaration(declaration);
      expect(meta.declaration()).toEqual(declaration);
      meta.clear();
      expect(meta.declaration()).toBeNull();
    });
  });
});
