/**
 * A small typed layer over a Durable Object's SqlStorage, so stores say what they expect of a
 * query (at most one row, exactly one, all of them, a count) instead of repeating
 * `.toArray()[0]` and casts at every call site. Statements and parameters stay plain SQL.
 */
/** What a statement binds: SqlStorage takes a byte view (a stream chunk's Uint8Array) as a BLOB too. */
export type SqlValue = ArrayBuffer | ArrayBufferView | string | number | null;
type Row = Record<string, SqlStorageValue>;

export class Sql {
  constructor(readonly storage: SqlStorage) {}

  /** Every row the query answers. */
  all<T extends Row>(query: string, ...params: SqlValue[]): T[] {
    return this.storage.exec<T>(query, ...params).toArray();
  }

  /** The first row, or undefined when the query answers none. */
  first<T extends Row>(query: string, ...params: SqlValue[]): T | undefined {
    const cursor = this.storage.exec<T>(query, ...params);
    const next = cursor.next();
    return next.done ? undefined : next.value;
  }

  /** The one row a query always answers (an aggregate); throws if it answers none or more. */
  one<T extends Row>(query: string, ...params: SqlValue[]): T {
    return this.storage.exec<T>(query, ...params).one();
  }

  /** One number column of the one row an aggregate answers (`SELECT COUNT(*) AS n ...`). */
  count(query: string, ...params: SqlValue[]): number {
    return Number(this.storage.exec<{ n: number }>(query, ...params).one().n);
  }

  /** Runs a statement; answers how many rows it wrote. */
  run(query: string, ...params: SqlValue[]): number {
    return this.storage.exec(query, ...params).rowsWritten;
  }
}
