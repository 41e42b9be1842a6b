/** The `meta (key, value)` table every object keeps: declarations, versions, flags. */
import { Sql } from "./sql";

export class MetaStore {
  protected readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  getMeta(key: string): string | undefined {
    return this.sql.first<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  /** Forgets every key (the object's declaration deleted). */
  clearMeta(): void {
    this.sql.run("DELETE FROM meta");
  }
}
