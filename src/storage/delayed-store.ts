/**
 * The messages a delayed exchange holds (exchange-schema.ts, table `delayed`): each with the time
 * it is due, read back in (release_at, seq) order through the `delayed_release` index, so
 * inserting, finding the earliest and reading what is due cost the same with 100,000 rows held
 * as with none.
 */
import type { PublishedMessage } from "../protocol/message";
import type { BasicProperties } from "../protocol/properties";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { Sql, type SqlValue } from "./sql";

export interface HeldMessage {
  readonly releaseAt: number;
  readonly message: PublishedMessage;
}

export interface DueMessage extends HeldMessage {
  readonly seq: number;
}

interface DelayedRow extends Record<string, SqlStorageValue> {
  seq: number;
  release_at: number;
  exchange: string;
  routing_key: string;
  properties: string;
  body: ArrayBuffer;
}

/** Rows per INSERT: 5 bound parameters each, within the 100 per statement on Workers. */
const INSERT_ROWS = 20;
/** Sequence numbers per DELETE ... IN (...). */
const DELETE_ROWS = 100;

const insertStatements = new Map<number, string>();
function insertStatement(rows: number): string {
  let statement = insertStatements.get(rows);
  if (statement === undefined) {
    statement = `INSERT INTO delayed (release_at, exchange, routing_key, properties, body) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?)").join(", ")}`;
    insertStatements.set(rows, statement);
  }
  return statement;
}

export class DelayedStore {
  private readonly sql: Sql;

  constructor(private readonly storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  /** Inserts in statements of up to 20 rows (the caller groups them in one transaction). */
  hold(held: readonly HeldMessage[]): void {
    for (let start = 0; start < held.length; start += INSERT_ROWS) {
      const chunk = held.slice(start, start + INSERT_ROWS);
      const params: SqlValue[] = [];
      for (const { releaseAt, message } of chunk) {
        params.push(
          releaseAt,
          message.exchange,
          message.routingKey,
          toJsonColumn(message.properties),
          message.body,
        );
      }
      this.sql.run(insertStatement(chunk.length), ...params);
    }
  }

  /** When the earliest held message is due, or null when none is held. */
  earliest(): number | null {
    const row = this.sql.first<{ release_at: number }>(
      "SELECT release_at FROM delayed ORDER BY release_at, seq LIMIT 1",
    );
    return row ? row.release_at : null;
  }

  count(): number {
    return this.sql.count("SELECT COUNT(*) AS n FROM delayed");
  }

  /**
   * The messages due at `now`, in release order: at most `limit`, and no more body bytes than
   * `maxBytes` (at least one message), read row by row so a large backlog is never loaded whole.
   */
  due(now: number, limit: number, maxBytes: number): DueMessage[] {
    const cursor = this.storage.exec<DelayedRow>(
      "SELECT * FROM delayed WHERE release_at <= ? ORDER BY release_at, seq LIMIT ?",
      now,
      limit,
    );
    const out: DueMessage[] = [];
    let bytes = 0;
    for (const row of cursor) {
      bytes += row.body.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push({
        seq: row.seq,
        releaseAt: row.release_at,
        message: {
          exchange: row.exchange,
          routingKey: row.routing_key,
          properties: fromJsonColumn<BasicProperties>(row.properties, {}),
          body: new Uint8Array(row.body),
        },
      });
    }
    return out;
  }

  /** Deletes released messages by seq; answers how many were still there. */
  release(seqs: readonly number[]): number {
    let removed = 0;
    for (let start = 0; start < seqs.length; start += DELETE_ROWS) {
      const chunk = seqs.slice(start, start + DELETE_ROWS);
      removed += this.sql.run(
        `DELETE FROM delayed WHERE seq IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk,
      );
    }
    return removed;
  }

  clear(): void {
    this.sql.run("DELETE FROM delayed");
  }
}
