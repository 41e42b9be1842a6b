/** The typed query helper over a real Durable Object's SQLite storage. */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Sql } from "../../src/storage/sql";

function inFreshObject(name: string, body: (sql: Sql) => void): Promise<void> {
  const stub = env.TOPICS.get(env.TOPICS.idFromName(`sql-helper-${name}`));
  return runInDurableObject(stub, (_instance, state) => {
    const sql = new Sql(state.storage.sql);
    sql.run("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, label TEXT NOT NULL)");
    body(sql);
  });
}

describe("Sql", () => {
  it("answers the first row, or undefined when there is none", async () => {
    await inFreshObject("first", (sql) => {
      expect(sql.first("SELECT label FROM t WHERE id = ?", 1)).toBeUndefined();
      sql.run("INSERT INTO t (id, label) VALUES (?, ?), (?, ?)", 1, "one", 2, "two");
      expect(sql.first<{ label: string }>("SELECT label FROM t ORDER BY id")?.label).toBe("one");
    });
  });

  it("answers every row in order, counts, and how many rows a statement wrote", async () => {
    await inFreshObject("all", (sql) => {
      expect(sql.run("INSERT INTO t (id, label) VALUES (1, 'a'), (2, 'b'), (3, 'c')")).toBe(3);
      expect(sql.all<{ id: number }>("SELECT id FROM t ORDER BY id DESC").map((r) => r.id)).toEqual(
        [3, 2, 1],
      );
      expect(sql.count("SELECT COUNT(*) AS n FROM t WHERE id > ?", 1)).toBe(2);
      expect(sql.run("DELETE FROM t WHERE id < 3")).toBe(2);
      expect(sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM t").n).toBe(1);
    });
  });

  it("refuses one() for a query that answers no row", async () => {
    await inFreshObject("one", (sql) => {
      expect(() => sql.one("SELECT label FROM t WHERE id = 99")).toThrow();
    });
  });

  it("binds a byte view (a stream chunk's Uint8Array) as a BLOB", async () => {
    await inFreshObject("bytes", (sql) => {
      sql.run("CREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
      sql.run("INSERT INTO b (id, data) VALUES (?, ?)", 1, new Uint8Array([1, 2, 255]));
      const row = sql.first<{ data: ArrayBuffer }>("SELECT data FROM b WHERE id = 1");
      expect([...new Uint8Array(row?.data ?? new ArrayBuffer(0))]).toEqual([1, 2, 255]);
    });
  });
});
