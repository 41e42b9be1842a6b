/**
 * A vhost's policies and operator policies, in its catalog's SQLite (the `policies` table,
 * CATALOG_MIGRATIONS). Typed SQL helpers; which policy applies where is src/catalog/policies.ts.
 */
import type { Policy, PolicyKind } from "../protocol/policies";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { Sql } from "./sql";

interface PolicyRow extends Record<string, SqlStorageValue> {
  policy: string;
}

export class PolicyStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  list(kind: PolicyKind): Policy[] {
    return this.sql
      .all<PolicyRow>("SELECT policy FROM policies WHERE kind = ? ORDER BY name", kind)
      .map((row) => fromJsonColumn<Policy>(row.policy, null as never))
      .filter((policy): policy is Policy => policy !== null);
  }

  get(kind: PolicyKind, name: string): Policy | undefined {
    const row = this.sql.first<PolicyRow>(
      "SELECT policy FROM policies WHERE kind = ? AND name = ?",
      kind,
      name,
    );
    return row ? (fromJsonColumn<Policy | null>(row.policy, null) ?? undefined) : undefined;
  }

  put(kind: PolicyKind, policy: Policy): void {
    this.sql.run(
      `INSERT INTO policies (kind, name, policy) VALUES (?, ?, ?)
       ON CONFLICT (kind, name) DO UPDATE SET policy = excluded.policy`,
      kind,
      policy.name,
      toJsonColumn(policy),
    );
  }

  /** Answers whether there was one. */
  delete(kind: PolicyKind, name: string): boolean {
    return this.sql.run("DELETE FROM policies WHERE kind = ? AND name = ?", kind, name) > 0;
  }

  /** Whether the vhost has any policy at all: declarations skip the matching when it has none. */
  any(): boolean {
    return this.sql.count("SELECT COUNT(*) AS n FROM policies") > 0;
  }
}
