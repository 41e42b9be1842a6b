/**
 * Versioned, idempotent schema migrations for SQLite-backed Durable Objects. Each object runs
 * its list synchronously in its constructor; applied steps are recorded so a step never runs
 * twice, and a new step appended to the list upgrades existing objects on their next start.
 */
import { Sql } from "./sql";

export type Migration = readonly string[];

export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): void {
  const sql = new Sql(storage.sql);
  storage.transactionSync(() => {
    sql.run("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = sql.first<{ version: number }>("SELECT version FROM schema_version");
    const current = row?.version ?? 0;
    if (row === undefined) {
      sql.run("INSERT INTO schema_version (version) VALUES (0)");
    }
    for (let version = current; version < migrations.length; version++) {
      for (const statement of migrations[version] ?? []) {
        sql.run(statement);
      }
    }
    if (current < migrations.length) {
      sql.run("UPDATE schema_version SET version = ?", migrations.length);
    }
  });
}
