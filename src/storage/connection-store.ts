/** The vhost catalog's table of open WebSocket connections (see catalog-store.ts, steps 2 and 4). */
import { Sql } from "./sql";

export interface ConnectionRow {
  readonly id: string;
  /** The queue holding a consumer connection; "" for a producer connection. */
  readonly holder: string;
  readonly seen: number;
}

/** Who opened a connection and from where, as /api/connections shows it. */
export interface ConnectionInfo {
  readonly user: string;
  /** The client's address as the platform reports it (CF-Connecting-IP), or "". */
  readonly peer: string;
}

export interface ConnectionRecord extends ConnectionRow, ConnectionInfo {
  readonly opened: number;
  readonly closing: boolean;
}

interface RecordRow extends Record<string, SqlStorageValue> {
  id: string;
  holder: string;
  seen: number;
  user: string;
  peer: string;
  opened: number;
  closing: number;
}

export class ConnectionStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  add(id: string, holder: string, now: number, info?: ConnectionInfo): void {
    this.sql.run(
      "INSERT INTO connections (id, holder, seen, user, peer, opened) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET seen = excluded.seen",
      id,
      holder,
      now,
      info?.user ?? "",
      info?.peer ?? "",
      now,
    );
  }

  remove(ids: readonly string[]): void {
    for (const id of ids) this.sql.run("DELETE FROM connections WHERE id = ?", id);
  }

  touch(id: string, now: number): void {
    this.sql.run("UPDATE connections SET seen = ? WHERE id = ?", now, id);
  }

  count(): number {
    return this.sql.count("SELECT COUNT(*) AS n FROM connections");
  }

  /** Producer connections that stopped refreshing: their Worker is gone without a close. */
  dropSilentProducers(before: number): void {
    this.sql.run("DELETE FROM connections WHERE holder = '' AND seen < ?", before);
  }

  heldBy(): Map<string, string[]> {
    const byHolder = new Map<string, string[]>();
    for (const row of this.sql.all<{ id: string; holder: string }>(
      "SELECT id, holder FROM connections WHERE holder <> ''",
    )) {
      const list = byHolder.get(row.holder);
      if (list) list.push(row.id);
      else byHolder.set(row.holder, [row.id]);
    }
    return byHolder;
  }

  list(): ConnectionRecord[] {
    return this.sql.all<RecordRow>("SELECT * FROM connections ORDER BY opened, id").map(toRecord);
  }

  get(id: string): ConnectionRecord | undefined {
    const row = this.sql.first<RecordRow>("SELECT * FROM connections WHERE id = ?", id);
    return row ? toRecord(row) : undefined;
  }

  markClosing(id: string): void {
    this.sql.run("UPDATE connections SET closing = 1 WHERE id = ?", id);
  }
}

function toRecord(row: RecordRow): ConnectionRecord {
  return {
    id: row.id,
    holder: row.holder,
    seen: row.seen,
    user: row.user,
    peer: row.peer,
    opened: row.opened,
    closing: row.closing === 1,
  };
}
