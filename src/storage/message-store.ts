/** Rows waiting to be dead-lettered are owned by "x:<reason>" (neither ready nor delivered). */
const DEAD_LETTER_OWNER = "x:";

export interface DeadLetterRow extends MessageRow {
  owner: string;
}

/**
 * The queue's messages in SQLite: typed helpers over the `messages` table. A message is ready
 * (owner NULL) or owned by a delivery (a consumer connection or a pull lease) until it is
 * acknowledged (deleted) or returned (owner cleared, `redelivered` set). Its place in the queue
 * is its `seq`, so a returned message goes back exactly where it was. No policy lives here.
 */
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import type { BasicProperties } from "../protocol/properties";
import { fromJsonColumn, toJsonColumn } from "./json-column";

export interface MessageRow extends Record<string, SqlStorageValue> {
  seq: number;
  exchange: string;
  routing_key: string;
  properties: string;
  body: ArrayBuffer;
  redelivered: number;
  delivery_count: number;
}

/** A ready row read ahead (src/queue/ready-cursor.ts): its expiry is checked when handed out. */
export interface ReadyRow extends MessageRow {
  expires_at: number | null;
}

export interface OwnedRow {
  seq: number;
  owner: string;
  consumer_tag: string | null;
  delivery_tag: number | null;
  delivery_count: number;
  bytes: number;
  expires_at: number | null;
}

const COLUMNS = "seq, exchange, routing_key, properties, body, redelivered, delivery_count";

/** Rows per INSERT: 5 bound parameters each, within SQLite's 100 per statement on Workers. */
const INSERT_ROWS = 20;
/** The same with a priority (6 parameters each), for priority queues. */
const INSERT_PRIORITY_ROWS = 16;
const insertStatements = new Map<string, string>();

function insertStatement(rows: number, withPriority: boolean): string {
  const key = `${withPriority ? "p" : "-"}${rows}`;
  let statement = insertStatements.get(key);
  if (statement === undefined) {
    statement = withPriority
      ? `INSERT INTO messages (exchange, routing_key, properties, body, expires_at, priority) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`
      : `INSERT INTO messages (exchange, routing_key, properties, body, expires_at) VALUES ${Array(rows).fill("(?, ?, ?, ?, ?)").join(", ")}`;
    insertStatements.set(key, statement);
  }
  return statement;
}

/**
 * The index a priority queue hands out from. Only priority queues build it (lazily, on their
 * first read or write): every other queue would pay for a third index on each insert, dispatch
 * and ack without ever reading it.
 */
const PRIORITY_INDEX =
  "CREATE INDEX IF NOT EXISTS messages_ready_priority ON messages (priority DESC, seq) WHERE owner IS NULL";

export function toStored(row: MessageRow): StoredMessage {
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

export class MessageStore {
  /** nextWakeup's last answer; undefined: to be read again. */
  private wakeup: number | null | undefined = undefined;
  /**
   * `prioritized`: whether the queue is a priority queue (x-max-priority), asked on each read
   * that hands messages out.
   */
  constructor(
    private readonly sql: SqlStorage,
    private readonly prioritized: () => boolean = () => false,
  ) {}

  private priorityIndexBuilt = false;

  /** The order this queue hands out ready messages: by seq, or by priority then seq. */
  private orderBy(): string {
    if (!this.prioritized()) return "seq";
    if (!this.priorityIndexBuilt) {
      this.sql.exec(PRIORITY_INDEX);
      this.priorityIndexBuilt = true;
    }
    return "priority DESC, seq";
  }

  /**
   * Appends messages in order; multi-row INSERTs, since each exec has a fixed cost. `expiresAt`
   * gives each message's expiry time (null: never), computed by the caller's TTL rule.
   */
  insert(
    messages: readonly PublishedMessage[],
    expiresAt: (message: PublishedMessage) => number | null,
    priorityOf?: (message: PublishedMessage) => number,
  ): number {
    let bytes = 0;
    const rows = priorityOf ? INSERT_PRIORITY_ROWS : INSERT_ROWS;
    for (let start = 0; start < messages.length; start += rows) {
      const chunk = messages.slice(start, start + rows);
      const values: unknown[] = [];
      for (const message of chunk) {
        values.push(
          message.exchange,
          message.routingKey,
          toJsonColumn(message.properties),
          message.body,
          expiresAt(message),
        );
        if (priorityOf) values.push(priorityOf(message));
        bytes += message.body.byteLength;
      }
      this.sql.exec(insertStatement(chunk.length, priorityOf !== undefined), ...values);
    }
    return bytes;
  }

  /**
   * Stores messages straight into the dead-letter state (owner "x:<reason>"): a full queue's
   * refusals under x-overflow reject-publish-dlx, sent on like any other dead letter.
   */
  insertDeadLetters(messages: readonly PublishedMessage[], reason: string): void {
    for (const message of messages) {
      this.sql.exec(
        "INSERT INTO messages (exchange, routing_key, properties, body, owner, available_at) VALUES (?, ?, ?, ?, ?, 0)",
        message.exchange,
        message.routingKey,
        toJsonColumn(message.properties),
        message.body,
        DEAD_LETTER_OWNER + reason,
      );
    }
  }

  /**
   * Ready messages available now and alive after `liveAfter` (an expired message is never
   * handed out, even before the sweep deletes it), in queue order.
   */
  ready(
    limit: number,
    now: number,
    liveAfter = now,
    excluded: readonly number[] = [],
  ): MessageRow[] {
    // `excluded`: rows delivered or acked whose new state is still in memory
    // (src/queue/delivery-state.ts; a priority queue's dispatch passes them).
    const skip = excluded.length > 0;
    return this.sql
      .exec<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE owner IS NULL AND available_at <= ?
           AND (expires_at IS NULL OR expires_at > ?)
           ${skip ? "AND seq NOT IN (SELECT value FROM json_each(?))" : "AND ? IS NULL"}
         ORDER BY ${this.orderBy()} LIMIT ?`,
        now,
        liveAfter,
        skip ? JSON.stringify(excluded) : null,
        limit,
      )
      .toArray();
  }

  /**
   * Ready messages in seq order from `from` on, available now and alive after `liveAfter`,
   * with their expiry (a queue not prioritized reads ahead with this).
   */
  readyFrom(from: number, limit: number, now: number, liveAfter: number): ReadyRow[] {
    return this.sql
      .exec<ReadyRow>(
        `SELECT ${COLUMNS}, expires_at FROM messages WHERE owner IS NULL AND seq >= ?
           AND available_at <= ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT ?`,
        from,
        now,
        liveAfter,
        limit,
      )
      .toArray();
  }

  /**
   * Deletes up to `limit` ready messages expired at `now` (wherever they are in the queue, by the
   * expiry index), answering their sizes.
   */
  deleteExpired(now: number, limit: number): number[] {
    return this.sql
      .exec<{ bytes: number }>(
        `DELETE FROM messages WHERE seq IN (
           SELECT seq FROM messages WHERE owner IS NULL AND expires_at IS NOT NULL AND expires_at <= ?
           ORDER BY expires_at LIMIT ?)
         RETURNING LENGTH(body) AS bytes`,
        now,
        limit,
      )
      .toArray()
      .map((row) => row.bytes);
  }

  /**
   * Like deleteExpired, but the expired messages wait to be dead-lettered (owner "x:expired")
   * instead of going at once: they leave only once their copy is stored elsewhere.
   */
  markExpired(now: number, limit: number): number[] {
    return this.sql
      .exec<{ bytes: number }>(
        `UPDATE messages SET owner = 'x:expired', available_at = 0 WHERE seq IN (
           SELECT seq FROM messages WHERE owner IS NULL AND expires_at IS NOT NULL AND expires_at <= ?
           ORDER BY expires_at LIMIT ?)
         RETURNING LENGTH(body) AS bytes`,
        now,
        limit,
      )
      .toArray()
      .map((row) => row.bytes);
  }

  /** Sets messages aside for dead-lettering with `reason`, in one statement. */
  markDeadLetter(seqs: readonly number[], reason: string): void {
    if (seqs.length === 0) return;
    this.sql.exec(
      `UPDATE messages SET owner = ?, consumer_tag = NULL, delivery_tag = NULL, deadline = NULL,
         available_at = 0 WHERE seq IN (SELECT value FROM json_each(?))`,
      DEAD_LETTER_OWNER + reason,
      JSON.stringify(seqs),
    );
  }

  /** Messages waiting to be dead-lettered, oldest first (by the owner index). */
  deadLetters(limit: number): DeadLetterRow[] {
    return this.sql
      .exec<DeadLetterRow>(
        `SELECT ${COLUMNS}, owner FROM messages WHERE owner >= 'x:' AND owner < 'x;'
         ORDER BY seq LIMIT ?`,
        limit,
      )
      .toArray();
  }

  /** The first ready messages in queue order, with their sizes (drop-head's candidates). */
  head(limit: number): { seq: number; bytes: number }[] {
    return this.sql
      .exec<{ seq: number; bytes: number }>(
        `SELECT seq, LENGTH(body) AS bytes FROM messages WHERE owner IS NULL ORDER BY ${this.orderBy()} LIMIT ?`,
        limit,
      )
      .toArray();
  }

  /** When the earliest ready message expires (null: none has a TTL). */
  nextExpiry(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(expires_at) AS at FROM messages WHERE owner IS NULL AND expires_at IS NOT NULL",
      )
      .one().at;
  }

  /** Marks a message delivered to `owner`; its delivery count grows by one. */
  assign(
    seq: number,
    owner: string,
    consumerTag: string | null,
    deliveryTag: number | null,
    deadline: number,
  ): void {
    this.wakeup = undefined;
    this.sql.exec(
      "UPDATE messages SET owner = ?, consumer_tag = ?, delivery_tag = ?, deadline = ?, delivery_count = delivery_count + 1 WHERE seq = ?",
      owner,
      consumerTag,
      deliveryTag,
      deadline,
      seq,
    );
  }

  /**
   * Marks a dispatch round's messages delivered to one consumer, in one statement: the pairs
   * (seq, delivery tag) travel as one JSON parameter, so the round's size is not bounded by
   * SQLite's 100 parameters and costs one statement instead of one per message.
   */
  assignMany(
    owner: string,
    consumerTag: string,
    deadline: number,
    deliveries: readonly (readonly [seq: number, deliveryTag: number])[],
  ): void {
    this.wakeup = undefined;
    if (deliveries.length === 0) return;
    this.sql.exec(
      `UPDATE messages SET owner = ?, consumer_tag = ?, deadline = ?,
         delivery_count = delivery_count + 1, delivery_tag = d.tag
       FROM (SELECT value ->> 0 AS seq, value ->> 1 AS tag FROM json_each(?)) AS d
       WHERE messages.seq = d.seq`,
      owner,
      consumerTag,
      deadline,
      JSON.stringify(deliveries),
    );
  }

  /**
   * Writes deliveries made earlier (held in memory until now), in one statement: each row gets
   * its owner, consumer tag, delivery tag and deadline, and its delivery count grows by one.
   */
  assignEach(
    deliveries: readonly {
      seq: number;
      owner: string;
      consumerTag: string;
      deliveryTag: number;
      deadline: number;
    }[],
  ): void {
    this.wakeup = undefined;
    if (deliveries.length === 0) return;
    this.sql.exec(
      `UPDATE messages SET owner = d.owner, consumer_tag = d.ctag, deadline = d.deadline,
         delivery_count = delivery_count + 1, delivery_tag = d.tag
       FROM (SELECT value ->> 0 AS seq, value ->> 1 AS owner, value ->> 2 AS ctag,
               value ->> 3 AS tag, value ->> 4 AS deadline FROM json_each(?)) AS d
       WHERE messages.seq = d.seq`,
      JSON.stringify(
        deliveries.map((d) => [d.seq, d.owner, d.consumerTag, d.deliveryTag, d.deadline]),
      ),
    );
  }

  /**
   * After a restart that lost deliveries held in memory: every ready message at or below `seq`
   * may have been delivered, so it is flagged redelivered (RabbitMQ's promise for the flag).
   */
  markRedeliveredThrough(seq: number): void {
    this.sql.exec(
      "UPDATE messages SET redelivered = 1 WHERE owner IS NULL AND redelivered = 0 AND seq <= ?",
      seq,
    );
  }

  /** Messages owned by `owner` under any of these delivery tags. */
  ownedTags(owner: string, deliveryTags: readonly number[]): OwnedRow[] {
    return this.sql
      .exec<OwnedRow & Record<string, SqlStorageValue>>(
        `SELECT seq, owner, consumer_tag, delivery_tag, delivery_count, LENGTH(body) AS bytes, expires_at
         FROM messages WHERE owner = ? AND delivery_tag IN (SELECT value FROM json_each(?))
         ORDER BY seq`,
        owner,
        JSON.stringify(deliveryTags),
      )
      .toArray();
  }

  /** Deletes many messages in one statement (acks, auto-ack deliveries). */
  removeMany(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    if (seqs.length === 1) {
      this.remove(seqs[0] as number);
      return;
    }
    this.sql.exec(
      "DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))",
      JSON.stringify(seqs),
    );
  }

  /** Puts many messages back in their places, flagged redelivered, in one statement. */
  releaseMany(seqs: readonly number[], availableAt = 0): void {
    this.wakeup = undefined;
    if (seqs.length === 0) return;
    this.sql.exec(
      `UPDATE messages SET owner = NULL, consumer_tag = NULL, delivery_tag = NULL, deadline = NULL,
         redelivered = 1, available_at = ? WHERE seq IN (SELECT value FROM json_each(?))`,
      availableAt,
      JSON.stringify(seqs),
    );
  }

  /** Messages owned by `owner`: one delivery tag, all up to it (`multiple`), or all of them. */
  owned(owner: string, deliveryTag?: number, multiple = false): OwnedRow[] {
    const base =
      "SELECT seq, owner, consumer_tag, delivery_tag, delivery_count, LENGTH(body) AS bytes, expires_at FROM messages WHERE owner = ?";
    const cursor =
      deliveryTag === undefined
        ? this.sql.exec<OwnedRow & Record<string, SqlStorageValue>>(`${base} ORDER BY seq`, owner)
        : multiple
          ? this.sql.exec<OwnedRow & Record<string, SqlStorageValue>>(
              `${base} AND delivery_tag <= ? ORDER BY seq`,
              owner,
              deliveryTag,
            )
          : this.sql.exec<OwnedRow & Record<string, SqlStorageValue>>(
              `${base} AND delivery_tag = ?`,
              owner,
              deliveryTag,
            );
    return cursor.toArray();
  }

  /** Owned messages whose deadline has passed. */
  expired(now: number): OwnedRow[] {
    return this.sql
      .exec<OwnedRow & Record<string, SqlStorageValue>>(
        "SELECT seq, owner, consumer_tag, delivery_tag, delivery_count, LENGTH(body) AS bytes, expires_at FROM messages WHERE owner IS NOT NULL AND deadline <= ? ORDER BY seq",
        now,
      )
      .toArray();
  }

  remove(seq: number): void {
    this.sql.exec("DELETE FROM messages WHERE seq = ?", seq);
  }

  /** Puts a message back in its place, flagged redelivered, available after `availableAt`. */
  release(seq: number, availableAt = 0): void {
    this.wakeup = undefined;
    this.sql.exec(
      "UPDATE messages SET owner = NULL, consumer_tag = NULL, delivery_tag = NULL, deadline = NULL, redelivered = 1, available_at = ? WHERE seq = ?",
      availableAt,
      seq,
    );
  }

  /** A look that puts the message straight back (the management API's requeueing get). */
  markRedelivered(seq: number): void {
    this.sql.exec(
      "UPDATE messages SET redelivered = 1, delivery_count = delivery_count + 1 WHERE seq = ?",
      seq,
    );
  }

  extend(seq: number, deadline: number): void {
    this.wakeup = undefined;
    this.sql.exec("UPDATE messages SET deadline = ? WHERE seq = ?", deadline, seq);
  }

  /**
   * The earliest time something must happen: an ack deadline or a delayed message. Asked after
   * every frame, so the answer is kept until a write that can bring it earlier (a deadline or a
   * delay set) or until it has passed; a write that only makes it later leaves it early, which
   * costs at most an alarm that finds nothing to do.
   */
  nextWakeup(now: number): number | null {
    const cached = this.wakeup;
    if (cached !== undefined && (cached === null || cached > now)) return cached;
    this.wakeup = this.readNextWakeup(now);
    return this.wakeup;
  }

  private readNextWakeup(now: number): number | null {
    const row = this.sql
      .exec<{ deadline: number | null; delayed: number | null }>(
        `SELECT (SELECT MIN(deadline) FROM messages WHERE owner IS NOT NULL) AS deadline,
                (SELECT MIN(available_at) FROM messages
                 WHERE owner IS NULL AND available_at > 0 AND available_at > ?) AS delayed`,
        now,
      )
      .one();
    const times = [row.deadline, row.delayed].filter((t): t is number => t !== null);
    return times.length > 0 ? Math.min(...times) : null;
  }

  counts(): { ready: number; readyBytes: number; unacked: number; unackedBytes: number } {
    const row = this.sql
      .exec<{ ready: number; ready_bytes: number; unacked: number; unacked_bytes: number }>(
        `SELECT COALESCE(SUM(owner IS NULL), 0) AS ready,
                COALESCE(SUM(CASE WHEN owner IS NULL THEN LENGTH(body) ELSE 0 END), 0) AS ready_bytes,
                COALESCE(SUM(owner IS NOT NULL AND owner NOT LIKE 'x:%'), 0) AS unacked,
                COALESCE(SUM(CASE WHEN owner IS NOT NULL AND owner NOT LIKE 'x:%' THEN LENGTH(body) ELSE 0 END), 0) AS unacked_bytes
         FROM messages`,
      )
      .one();
    return {
      ready: row.ready,
      readyBytes: row.ready_bytes,
      unacked: row.unacked,
      unackedBytes: row.unacked_bytes,
    };
  }

  /** Deletes every ready message; owned ones stay (RabbitMQ's purge leaves unacked messages). */
  purgeReady(): void {
    this.sql.exec("DELETE FROM messages WHERE owner IS NULL");
  }

  clear(): void {
    this.sql.exec("DELETE FROM messages");
  }

  /** Owned messages per (owner, consumer tag): rebuilds consumers' unacked counts on start. */
  ownedCounts(): { owner: string; consumer_tag: string | null; n: number }[] {
    return this.sql
      .exec<{ owner: string; consumer_tag: string | null; n: number }>(
        "SELECT owner, consumer_tag, COUNT(*) AS n FROM messages WHERE owner IS NOT NULL GROUP BY owner, consumer_tag",
      )
      .toArray();
  }

  /** Every owner holding messages (to release the ones whose connection is gone). */
  owners(): string[] {
    return this.sql
      .exec<{ owner: string }>("SELECT DISTINCT owner FROM messages WHERE owner IS NOT NULL")
      .toArray()
      .map((row) => row.owner);
  }
}
