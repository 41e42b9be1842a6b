/** The `meta (key, value)` table every object keeps (src/storage/meta-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MetaStore } from "../../src/storage/meta-store";
import { inObject } from "./support";

describe("a meta store", () => {
  it("answers undefined for a key never set, the last value for one set twice", async () => {
    await inObject(env.TOPICS, "meta:values", (sql) => {
      const meta = new MetaStore(sql);
      expect(meta.getMeta("declaration")).toBeUndefined();
      meta.setMeta("declaration", "one");
      meta.setMeta("declaration", "two");
      meta.setMeta("other", "");
      expect(meta.getMeta("declaration")).toBe("two");
      expect(meta.getMeta("other")).toBe("");
    });
  });

  it("keeps its values in the object's storage, where a new store over it finds them", async () => {
    await inObject(env.TOPICS, "meta:restart", (sql) => new MetaStore(sql).setMeta("k", "v"));
    expect(
      await inObject(env.TOPICS, "meta:restart", (sql) => new MetaStore(sql).getMeta("k")),
    ).toBe("v");
  });
});
