/**
 * Versioned, idempotent schema migrations for SQLite-backed Durable Objects. Each object runs
 * its list synchronously in its constructor; applied steps are recorded so a step never runs
 * twice, and a new step appended to the list upgrades existing objects on their next start.
 */
export type Migration = readonly string[];

export function migrate(storage: DurableObjectStorage, migrations: readonly Migration[]): void {
  const sql = storage.sql;
  storage.transactionSync(() => {
    sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
    const current = row?.version ?? 0;
    if (row === undefined) {
      sql.exec("INSERT INTO schema_version (version) VALUES (0)");
    }
    for (let version = current; version < migrations.length; version++) {
      for (const statement of migrations[version] ?? []) {
        sql.exec(statement);
      }
    }
    if (current < migrations.length) {
      sql.exec("UPDATE schema_version SET version = ?", migrations.length);
    }
  });
}
