/**
 * A stream's log in SQLite: one row per chunk (a produce batch, split below the row limit) with
 * its base offset, message count, arrival timestamps and size. Offsets are dense: a chunk's base
 * is the previous chunk's base plus its count, and `next_offset` in meta survives retention
 * deleting every chunk but the newest. Producers' last sequences live beside the log so a retried
 * batch is recognised after a restart.
 */
import { decodeChunk, type StreamMessage } from "../protocol/stream";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const STREAM_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE chunks (
      base INTEGER PRIMARY KEY,
      count INTEGER NOT NULL,
      first_ts INTEGER NOT NULL,
      last_ts INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      data BLOB NOT NULL
    )`,
    "CREATE INDEX chunks_time ON chunks (last_ts)",
    `CREATE TABLE producers (
      producer TEXT PRIMARY KEY,
      sequence INTEGER NOT NULL,
      base INTEGER NOT NULL,
      count INTEGER NOT NULL
    )`,
  ],
];

interface ChunkRow extends Record<string, SqlStorageValue> {
  base: number;
  count: number;
  first_ts: number;
  data: ArrayBuffer;
}

export interface LogBounds {
  /** The first offset still stored (equal to `next` when the log is empty). */
  readonly first: number;
  /** The offset the next message will get. */
  readonly next: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly firstTimestamp: number | null;
  readonly lastTimestamp: number | null;
}

export interface ProducerState {
  readonly sequence: number;
  readonly base: number;
  readonly count: number;
}

export class StreamStore extends MetaStore {
  nextOffset(): number {
    return Number(this.getMeta("next_offset") ?? "0");
  }

  append(data: Uint8Array, count: number, now: number): number {
    const base = this.nextOffset();
    this.sql.run(
      "INSERT INTO chunks (base, count, first_ts, last_ts, bytes, data) VALUES (?, ?, ?, ?, ?, ?)",
      base,
      count,
      now,
      now,
      data.byteLength,
      data,
    );
    this.setMeta("next_offset", String(base + count));
    return base;
  }

  bounds(): LogBounds {
    const row = this.sql.one<{
      first: number | null;
      bytes: number | null;
      chunks: number;
      first_ts: number | null;
      last_ts: number | null;
    }>(
      "SELECT MIN(base) AS first, SUM(bytes) AS bytes, COUNT(*) AS chunks, MIN(first_ts) AS first_ts, MAX(last_ts) AS last_ts FROM chunks",
    );
    const next = this.nextOffset();
    return {
      first: row.first ?? next,
      next,
      bytes: row.bytes ?? 0,
      chunks: row.chunks,
      firstTimestamp: row.first_ts,
      lastTimestamp: row.last_ts,
    };
  }

  /** The base of the newest chunk: `last` in RabbitMQ's offset spec. */
  lastChunkBase(): number | null {
    return (
      this.sql.first<{ base: number }>("SELECT base FROM chunks ORDER BY base DESC LIMIT 1")
        ?.base ?? null
    );
  }

  /** The first offset of the first chunk that arrived at or after `timestamp` (ms). */
  offsetAt(timestamp: number): number {
    const row = this.sql.first<{ base: number }>(
      "SELECT base FROM chunks WHERE last_ts >= ? ORDER BY base LIMIT 1",
      timestamp,
    );
    return row?.base ?? this.nextOffset();
  }

  /** Messages from `from` on, at most `count` of them and about `maxBytes` (at least one). */
  read(from: number, count: number, maxBytes: number): StreamMessage[] {
    const out: StreamMessage[] = [];
    let bytes = 0;
    const start =
      this.sql.first<{ base: number }>(
        "SELECT base FROM chunks WHERE base <= ? ORDER BY base DESC LIMIT 1",
        from,
      )?.base ?? from;
    // Chunks are read a few at a time so a small fetch does not load a large log.
    let cursor = start;
    while (out.length < count && bytes < maxBytes) {
      const rows = this.sql.all<ChunkRow>(
        "SELECT base, count, first_ts, data FROM chunks WHERE base >= ? ORDER BY base LIMIT 16",
        cursor,
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        if (out.length >= count || bytes >= maxBytes) break;
        const messages = decodeChunk(
          new Uint8Array(row.data),
          row.base,
          row.first_ts,
          from,
          count - out.length,
        );
        for (const message of messages) {
          if (out.length > 0 && bytes + message.body.byteLength > maxBytes) {
            return out;
          }
          bytes += message.body.byteLength;
          out.push(message);
        }
        cursor = row.base + row.count;
      }
    }
    return out;
  }

  /**
   * Retention: deletes whole chunks older than `maxAgeMs`, then the oldest chunks while the log
   * is larger than `maxBytes`; never the newest chunk (RabbitMQ keeps the active segment).
   */
  applyRetention(now: number, maxAgeMs: number | null, maxBytes: number | null): number {
    const newest = this.lastChunkBase();
    if (newest === null) return 0;
    let removed = 0;
    if (maxAgeMs !== null) {
      removed += this.sql.run(
        "DELETE FROM chunks WHERE last_ts < ? AND base < ?",
        now - maxAgeMs,
        newest,
      );
    }
    if (maxBytes !== null) {
      let total = this.bounds().bytes;
      const rows = this.sql.all<{ base: number; bytes: number }>(
        "SELECT base, bytes FROM chunks WHERE base < ? ORDER BY base",
        newest,
      );
      for (const row of rows) {
        if (total <= maxBytes) break;
        this.sql.run("DELETE FROM chunks WHERE base = ?", row.base);
        total -= row.bytes;
        removed++;
      }
    }
    return removed;
  }

  producer(id: string): ProducerState | undefined {
    return this.sql.first<{ sequence: number; base: number; count: number }>(
      "SELECT sequence, base, count FROM producers WHERE producer = ?",
      id,
    );
  }

  setProducer(id: string, state: ProducerState): void {
    this.sql.run(
      "INSERT INTO producers (producer, sequence, base, count) VALUES (?, ?, ?, ?) ON CONFLICT(producer) DO UPDATE SET sequence = excluded.sequence, base = excluded.base, count = excluded.count",
      id,
      state.sequence,
      state.base,
      state.count,
    );
  }

  clear(): void {
    this.sql.run("DELETE FROM chunks");
    this.sql.run("DELETE FROM producers");
    this.sql.run("DELETE FROM meta");
  }
}
