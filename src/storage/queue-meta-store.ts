/**
 * The queue object's `meta` table: its declaration (name, vhost, flags, arguments), kept as one
 * JSON row so the object reads it once when it wakes.
 */
import type { QueueDeclaration } from "../protocol/declarations";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { Sql } from "./sql";

export class QueueMetaStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  /** The declaration, or null for a queue never declared (or deleted). */
  declaration(): QueueDeclaration | null {
    const row = this.sql.first<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'declaration'",
    );
    return row ? fromJsonColumn<QueueDeclaration | null>(row.value, null) : null;
  }

  setDeclaration(declaration: QueueDeclaration): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES ('declaration', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      toJsonColumn(declaration),
    );
  }

  clear(): void {
    this.sql.run("DELETE FROM meta");
  }
}
