/** A partitioned topic's declaration (src/storage/topic-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TopicDeclaration } from "../../src/protocol/topic";
import { TopicStore } from "../../src/storage/topic-store";
import { inObject } from "./support";

const declaration: TopicDeclaration = {
  name: "clicks",
  vhost: "/",
  partitions: 4,
  arguments: { "x-max-age": "1h" },
};

describe("a topic store", () => {
  it("answers null before a declaration, the last one put, and null after clear", async () => {
    await inObject(env.TOPICS, "topic:lifecycle", (sql) => {
      const store = new TopicStore(sql);
      expect(store.declaration()).toBeNull();
      store.putDeclaration({ ...declaration, partitions: 2 });
      store.putDeclaration(declaration);
      expect(store.declaration()).toEqual(declaration);
      store.clear();
      expect(store.declaration()).toBeNull();
    });
  });
});
