/**
 * A queue: one Durable Object per (vhost, queue). Messages are rows ordered by an AUTOINCREMENT
 * sequence (house style: never by timestamp), stored with their properties, exchange, routing
 * key, redelivered flag and delivery count. Every mutation is synchronous SQL with no await in
 * between, so each call commits atomically and its answer leaves only after the write is durable
 * (the output gate): "enqueue returned" means "stored".
 */
import { DurableObject } from "cloudflare:workers";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { type Failure, fail, type Result } from "../errors";
import type { QueueDeclaration } from "../protocol/declarations";
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import { describe } from "../protocol/names";
import type { BasicProperties } from "../protocol/properties";
import { fromJsonColumn, toJsonColumn } from "../storage/json-column";
import { migrate } from "../storage/migrations";
import { QUEUE_MIGRATIONS } from "../storage/queue-schema";

export type GetAckMode =
  | "ack_requeue_true"
  | "reject_requeue_true"
  | "ack_requeue_false"
  | "reject_requeue_false";

export interface QueueStats {
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
  readonly consumers: number;
  readonly message_bytes: number;
}

export type EnqueueResult = Result<{ stored: number }>;
export type GetResult = Result<{ messages: (StoredMessage & { remaining: number })[] }>;
export type PurgeResult = Result<{ purged: number }>;
export type StatsResult = Result<{ stats: QueueStats }>;
export type DestroyResult = Result<{ removed: number }>;

interface MessageRow extends Record<string, SqlStorageValue> {
  seq: number;
  exchange: string;
  routing_key: string;
  properties: string;
  body: ArrayBuffer;
  redelivered: number;
  delivery_count: number;
}

/** Rows per INSERT: 4 bound parameters each, within SQLite's 100 per statement on Workers. */
const INSERT_ROWS = 25;
const insertStatements = new Map<number, string>();

function insertStatement(rows: number): string {
  let statement = insertStatements.get(rows);
  if (statement === undefined) {
    statement = `INSERT INTO messages (exchange, routing_key, properties, body) VALUES ${Array(rows).fill("(?, ?, ?, ?)").join(", ")}`;
    insertStatements.set(rows, statement);
  }
  return statement;
}

export class QueueObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private declaration: QueueDeclaration | null;
  private ready: number;
  private readyBytes: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage, QUEUE_MIGRATIONS);
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'declaration'")
      .toArray()[0];
    this.declaration = row ? fromJsonColumn<QueueDeclaration | null>(row.value, null) : null;
    const counts = this.sql
      .exec<{ n: number; bytes: number }>(
        "SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(body)), 0) AS bytes FROM messages",
      )
      .one();
    this.ready = counts.n;
    this.readyBytes = counts.bytes;
  }

  /** Records the declaration (the vhost catalog has already checked equivalence). */
  configure(declaration: QueueDeclaration): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('declaration', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      toJsonColumn(declaration),
    );
    this.declaration = declaration;
    return { ok: true, created };
  }

  stats(): StatsResult {
    if (!this.declaration) {
      return this.missing();
    }
    return {
      ok: true,
      stats: {
        messages: this.ready,
        messages_ready: this.ready,
        messages_unacknowledged: 0,
        consumers: 0,
        message_bytes: this.readyBytes,
      },
    };
  }

  /** Stores a batch in order, atomically: all of it or (on a thrown error) none of it. */
  enqueue(messages: readonly PublishedMessage[]): EnqueueResult {
    if (!this.declaration) {
      return this.missing();
    }
    let bytes = 0;
    this.ctx.storage.transactionSync(() => {
      // Multi-row INSERTs: one statement per INSERT_ROWS messages instead of one per message
      // (each exec has a fixed cost); VALUES rows keep the batch's order in the sequence.
      for (let start = 0; start < messages.length; start += INSERT_ROWS) {
        const chunk = messages.slice(start, start + INSERT_ROWS);
        const values: unknown[] = [];
        for (const message of chunk) {
          values.push(
            message.exchange,
            message.routingKey,
            toJsonColumn(message.properties),
            message.body,
          );
          bytes += message.body.byteLength;
        }
        this.sql.exec(insertStatement(chunk.length), ...values);
      }
    });
    this.ready += messages.length;
    this.readyBytes += bytes;
    return { ok: true, stored: messages.length };
  }

  /**
   * The management API's get: take up to `count` ready messages in order. The requeue modes put
   * them back where they were, flagged redelivered, as RabbitMQ does after basic.get + reject.
   */
  get(count: number, ackmode: GetAckMode): GetResult {
    if (!this.declaration) {
      return this.missing();
    }
    // Stop at a byte budget (always taking at least one message), so that one answer stays
    // within Durable Object RPC and response limits however large the messages are.
    const rows: MessageRow[] = [];
    let bytes = 0;
    for (const row of this.sql.exec<MessageRow>(
      "SELECT seq, exchange, routing_key, properties, body, redelivered, delivery_count FROM messages ORDER BY seq LIMIT ?",
      count,
    )) {
      bytes += row.body.byteLength;
      if (rows.length > 0 && bytes > LIMITS.maxGetBytes) break;
      rows.push(row);
    }
    const before = this.ready;
    const messages = rows.map((row, index) => ({
      ...toStored(row),
      remaining: before - index - 1,
    }));
    if (rows.length === 0) {
      return { ok: true, messages };
    }
    const last = rows[rows.length - 1]?.seq ?? 0;
    const first = rows[0]?.seq ?? 0;
    if (ackmode === "ack_requeue_true" || ackmode === "reject_requeue_true") {
      this.sql.exec(
        "UPDATE messages SET redelivered = 1, delivery_count = delivery_count + 1 WHERE seq BETWEEN ? AND ?",
        first,
        last,
      );
    } else {
      // reject_requeue_false dead-letters in RabbitMQ; dead-lettering arrives with the
      // queue-features work and hooks in here. Until then both modes remove the messages.
      this.sql.exec("DELETE FROM messages WHERE seq BETWEEN ? AND ?", first, last);
      this.ready -= rows.length;
      this.readyBytes -= rows.reduce((sum, row) => sum + row.body.byteLength, 0);
    }
    return { ok: true, messages };
  }

  purge(): PurgeResult {
    if (!this.declaration) {
      return this.missing();
    }
    const purged = this.ready;
    this.sql.exec("DELETE FROM messages");
    this.ready = 0;
    this.readyBytes = 0;
    return { ok: true, purged };
  }

  /** Deletes the queue and its messages, unless `ifEmpty`/`ifUnused` forbid it. */
  destroy(options: { ifEmpty: boolean; ifUnused: boolean }): DestroyResult {
    const declaration = this.declaration;
    if (!declaration) {
      return this.missing();
    }
    const name = describe("queue", declaration.name, declaration.vhost);
    if (options.ifEmpty && this.ready > 0) {
      return fail("bad_request", `PRECONDITION_FAILED - ${name} not empty`);
    }
    // No consumers exist over HTTP yet, so if-unused never refuses; consumers arrive with the
    // WebSocket consumer work and are checked here.
    const removed = this.ready;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM messages");
      this.sql.exec("DELETE FROM meta");
    });
    this.declaration = null;
    this.ready = 0;
    this.readyBytes = 0;
    return { ok: true, removed };
  }

  private missing(): Failure {
    return fail("not_found", "Not Found");
  }
}

function toStored(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    exchange: row.exchange,
    routingKey: row.routing_key,
    properties: fromJsonColumn<BasicProperties>(row.properties, {}),
    body: new Uint8Array(row.body),
    redelivered: row.redelivered === 1,
    deliveryCount: row.delivery_count,
  };
}
