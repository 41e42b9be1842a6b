/**
 * A queue's consumers and its connections' delivery-tag counters in the queue object's SQLite
 * (`consumers`, `connections`), so consumers on hibernated WebSockets survive the object being
 * evicted. Rows in, rows out: src/queue/consumers.ts keeps them in memory for dispatch.
 */
import { Sql } from "./sql";

export interface ConsumerRecord {
  readonly connection: string;
  readonly tag: string;
  /** 0 means unlimited, as AMQP's basic.qos prefetch-count 0. */
  readonly prefetch: number;
  readonly autoAck: boolean;
  readonly exclusive: boolean;
  readonly ackTimeoutMs: number;
  /** Gets a dispatch round's deliveries as one frame. */
  readonly batch: boolean;
  readonly registered: number;
}

interface ConsumerRow extends Record<string, SqlStorageValue> {
  connection: string;
  tag: string;
  prefetch: number;
  auto_ack: number;
  exclusive: number;
  ack_timeout_ms: number;
  batch: number;
  registered: number;
}

export class ConsumerStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  /** Every consumer in registration order (single-active-consumer succession follows it). */
  all(): ConsumerRecord[] {
    return this.sql
      .all<ConsumerRow>("SELECT * FROM consumers ORDER BY registered, connection, tag")
      .map((row) => ({
        connection: row.connection,
        tag: row.tag,
        prefetch: row.prefetch,
        autoAck: row.auto_ack === 1,
        exclusive: row.exclusive === 1,
        ackTimeoutMs: row.ack_timeout_ms,
        batch: row.batch === 1,
        registered: row.registered,
      }));
  }

  insert(consumer: ConsumerRecord): void {
    this.sql.run(
      "INSERT INTO consumers (connection, tag, prefetch, auto_ack, exclusive, ack_timeout_ms, batch, registered) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      consumer.connection,
      consumer.tag,
      consumer.prefetch,
      consumer.autoAck ? 1 : 0,
      consumer.exclusive ? 1 : 0,
      consumer.ackTimeoutMs,
      consumer.batch ? 1 : 0,
      consumer.registered,
    );
  }

  remove(connection: string, tag: string): void {
    this.sql.run("DELETE FROM consumers WHERE connection = ? AND tag = ?", connection, tag);
  }

  /** Forgets a connection: its consumers and its delivery-tag counter. */
  removeConnection(connection: string): void {
    this.sql.run("DELETE FROM consumers WHERE connection = ?", connection);
    this.sql.run("DELETE FROM connections WHERE connection = ?", connection);
  }

  /** Each connection's next delivery tag. */
  deliveryTags(): Map<string, number> {
    const tags = new Map<string, number>();
    for (const row of this.sql.all<{ connection: string; next_delivery_tag: number }>(
      "SELECT connection, next_delivery_tag FROM connections",
    )) {
      tags.set(row.connection, row.next_delivery_tag);
    }
    return tags;
  }

  setDeliveryTag(connection: string, next: number): void {
    this.sql.run(
      "INSERT INTO connections (connection, next_delivery_tag) VALUES (?, ?) ON CONFLICT(connection) DO UPDATE SET next_delivery_tag = excluded.next_delivery_tag",
      connection,
      next,
    );
  }
}
