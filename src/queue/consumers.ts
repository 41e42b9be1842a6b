/**
 * A queue's consumers: who is subscribed on which connection, how many deliveries each may hold
 * unacknowledged (prefetch), and whose turn is next (round-robin, as RabbitMQ delivers among a
 * queue's consumers). Persisted in the queue object's SQLite so consumers on hibernated
 * WebSockets survive the object being evicted; kept in memory for dispatch.
 */

export interface Consumer {
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
  unacked: number;
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

/** Whether a connection may receive now (its access is current); see src/queue/socket-access.ts. */
type Eligible = (connection: string) => boolean;
const always: Eligible = () => true;

export class ConsumerSet {
  private consumers: Consumer[] = [];
  private turn = 0;
  private readonly nextTags = new Map<string, number>();
  private readonly dirtyTags = new Set<string>();

  constructor(private readonly sql: SqlStorage) {
    this.consumers = sql
      .exec<ConsumerRow>("SELECT * FROM consumers ORDER BY registered, connection, tag")
      .toArray()
      .map((row) => ({
        connection: row.connection,
        tag: row.tag,
        prefetch: row.prefetch,
        autoAck: row.auto_ack === 1,
        exclusive: row.exclusive === 1,
        ackTimeoutMs: row.ack_timeout_ms,
        batch: row.batch === 1,
        registered: row.registered,
        unacked: 0,
      }));
    for (const row of sql.exec<{ connection: string; next_delivery_tag: number }>(
      "SELECT connection, next_delivery_tag FROM connections",
    )) {
      this.nextTags.set(row.connection, row.next_delivery_tag);
    }
  }

  get size(): number {
    return this.consumers.length;
  }

  all(): readonly Consumer[] {
    return this.consumers;
  }

  find(connection: string, tag: string): Consumer | undefined {
    return this.consumers.find((c) => c.connection === connection && c.tag === tag);
  }

  connections(): Set<string> {
    return new Set([...this.nextTags.keys(), ...this.consumers.map((c) => c.connection)]);
  }

  add(consumer: Omit<Consumer, "registered" | "unacked">, now: number): Consumer {
    // Registration order decides single-active-consumer succession; keep it strictly increasing.
    const last = this.consumers[this.consumers.length - 1]?.registered ?? 0;
    const added: Consumer = { ...consumer, registered: Math.max(now, last + 1), unacked: 0 };
    this.sql.exec(
      "INSERT INTO consumers (connection, tag, prefetch, auto_ack, exclusive, ack_timeout_ms, batch, registered) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      added.connection,
      added.tag,
      added.prefetch,
      added.autoAck ? 1 : 0,
      added.exclusive ? 1 : 0,
      added.ackTimeoutMs,
      added.batch ? 1 : 0,
      added.registered,
    );
    this.consumers.push(added);
    this.openConnection(added.connection);
    return added;
  }

  remove(connection: string, tag: string): Consumer | undefined {
    const consumer = this.find(connection, tag);
    if (consumer) {
      this.consumers = this.consumers.filter((c) => c !== consumer);
      this.sql.exec("DELETE FROM consumers WHERE connection = ? AND tag = ?", connection, tag);
    }
    return consumer;
  }

  /** Forgets a connection and its consumers (its deliveries are the caller's to release). */
  closeConnection(connection: string): Consumer[] {
    const gone = this.consumers.filter((c) => c.connection === connection);
    this.consumers = this.consumers.filter((c) => c.connection !== connection);
    this.sql.exec("DELETE FROM consumers WHERE connection = ?", connection);
    this.sql.exec("DELETE FROM connections WHERE connection = ?", connection);
    this.nextTags.delete(connection);
    this.dirtyTags.delete(connection);
    return gone;
  }

  openConnection(connection: string): void {
    if (!this.nextTags.has(connection)) {
      this.nextTags.set(connection, 1);
      this.dirtyTags.add(connection);
    }
  }

  /** The connection's next delivery tag: per connection, strictly increasing, never reused. */
  takeDeliveryTag(connection: string): number {
    const tag = this.nextTags.get(connection) ?? 1;
    this.nextTags.set(connection, tag + 1);
    this.dirtyTags.add(connection);
    return tag;
  }

  /** Writes the delivery-tag counters that moved (once per dispatch, not per message). */
  persistTags(): void {
    for (const connection of this.dirtyTags) {
      this.sql.exec(
        "INSERT INTO connections (connection, next_delivery_tag) VALUES (?, ?) ON CONFLICT(connection) DO UPDATE SET next_delivery_tag = excluded.next_delivery_tag",
        connection,
        this.nextTags.get(connection) ?? 1,
      );
    }
    this.dirtyTags.clear();
  }

  /** How many more deliveries the consumers can take now (Infinity with an unlimited one). */
  capacity(singleActive: boolean, eligible: Eligible = always): number {
    const candidates = singleActive ? this.consumers.slice(0, 1) : this.consumers;
    let room = 0;
    for (const c of candidates) {
      if (!eligible(c.connection)) continue;
      room += c.prefetch === 0 ? Number.POSITIVE_INFINITY : Math.max(0, c.prefetch - c.unacked);
    }
    return room;
  }

  /**
   * The consumer whose turn it is and who may take one more delivery (and whose connection is
   * eligible), or null. With a single
   * active consumer (x-single-active-consumer) only the earliest registered consumer receives.
   */
  next(singleActive: boolean, eligible: Eligible = always): Consumer | null {
    const candidates = singleActive ? this.consumers.slice(0, 1) : this.consumers;
    for (let i = 0; i < candidates.length; i++) {
      const index = (this.turn + i) % candidates.length;
      const consumer = candidates[index];
      if (
        consumer &&
        (consumer.prefetch === 0 || consumer.unacked < consumer.prefetch) &&
        eligible(consumer.connection)
      ) {
        this.turn = index + 1;
        return consumer;
      }
    }
    return null;
  }
}
