/** The vhost catalog's table of open WebSocket connections (see catalog-store.ts, step 2). */
export interface ConnectionRow {
  readonly id: string;
  /** The queue holding a consumer connection; "" for a producer connection. */
  readonly holder: string;
  readonly seen: number;
}

export class ConnectionStore {
  constructor(private readonly sql: SqlStorage) {}

  add(id: string, holder: string, now: number): void {
    this.sql.exec(
      "INSERT INTO connections (id, holder, seen) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET seen = excluded.seen",
      id,
      holder,
      now,
    );
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) this.sql.exec("DELETE FROM connections WHERE id = ?", id);
  }

  touch(id: string, now: number): void {
    this.sql.exec("UPDATE connections SET seen = ? WHERE id = ?", now, id);
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM connections").one().n;
  }

  /** Producer connections that stopped refreshing: their Worker is gone without a close. */
  dropSilentProducers(before: number): void {
    this.sql.exec("DELETE FROM connections WHERE holder = '' AND seen < ?", before);
  }

  heldBy(): Map<string, string[]> {
    const byHolder = new Map<string, string[]>();
    for (const row of this.sql.exec<{ id: string; holder: string }>(
      "SELECT id, holder FROM connections WHERE holder <> ''",
    )) {
      const list = byHolder.get(row.holder);
      if (list) list.push(row.id);
      else byHolder.set(row.holder, [row.id]);
    }
    return byHolder;
  }
}
