/**
 * The queue object's `meta` table: its declaration (name, vhost, flags, arguments), kept as one
 * JSON row so the object reads it once when it wakes, and the policy its catalog applied.
 */
import type { QueueDeclaration } from "../protocol/declarations";
import type { AppliedPolicy } from "../protocol/policies";
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

  /** The policy the catalog applied (src/catalog/policies.ts), or null when none was stored. */
  appliedPolicy(): AppliedPolicy | null {
    const row = this.sql.first<{ value: string }>("SELECT value FROM meta WHERE key = 'policy'");
    return row ? fromJsonColumn<AppliedPolicy | null>(row.value, null) : null;
  }

  setAppliedPolicy(applied: AppliedPolicy): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES ('policy', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      toJsonColumn(applied),
    );
  }

  /**
   * The "delivered through" mark (src/queue/delivery-state.ts): messages at or below this seq may
   * have been delivered with their delivery state only in memory; 0 when there is none.
   */
  deliveredThrough(): number {
    const row = this.sql.first<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'delivered_through'",
    );
    return row ? Number(row.value) || 0 : 0;
  }

  setDeliveredThrough(seq: number | null): void {
    if (seq === null) {
      this.sql.run("DELETE FROM meta WHERE key = 'delivered_through'");
      return;
    }
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES ('delivered_through', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      String(seq),
    );
  }

  clear(): void {
    this.sql.run("DELETE FROM meta");
  }
}
