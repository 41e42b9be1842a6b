/**
 * A queue's message counters for /metrics: how many messages were published into it, delivered
 * from it (to consumers, gets and pulls), redelivered and acknowledged. Counted in memory at the
 * publish, deliver and ack points of QueueEngine and written to the queue's meta table once per
 * batch (a single row, in the same transaction as the batch), so they survive eviction and cost
 * one small write per batch, never a scan.
 *
 * Kept in this one module, with hooks at those points only, so that the management API's
 * `message_stats` (publish, deliver_get, ack, redeliver) can be read from the same counters.
 */
const META_KEY = "message_counters";

export interface MessageCounts {
  published: number;
  delivered: number;
  /** Of `delivered`, those handed out by get or pull rather than pushed to a consumer. */
  deliveredGet: number;
  redelivered: number;
  acknowledged: number;
}

const ZERO: MessageCounts = {
  published: 0,
  delivered: 0,
  deliveredGet: 0,
  redelivered: 0,
  acknowledged: 0,
};

export class MessageCounters {
  private readonly counts: MessageCounts;
  private dirty = false;

  constructor(private readonly sql: SqlStorage) {
    const row = sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", META_KEY)
      .toArray()[0];
    this.counts = { ...ZERO, ...(row ? (JSON.parse(row.value) as Partial<MessageCounts>) : {}) };
  }

  published(n: number): void {
    this.add("published", n);
  }

  delivered(n: number, redelivered: number, viaGet: boolean): void {
    this.add("delivered", n);
    if (viaGet) this.add("deliveredGet", n);
    this.add("redelivered", redelivered);
  }

  acknowledged(n: number): void {
    this.add("acknowledged", n);
  }

  /** Writes what changed since the last flush (called at the end of each batch). */
  flush(): void {
    if (!this.dirty) return;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      META_KEY,
      JSON.stringify(this.counts),
    );
    this.dirty = false;
  }

  snapshot(): MessageCounts {
    return { ...this.counts };
  }

  private add(key: keyof MessageCounts, n: number): void {
    if (n === 0) return;
    this.counts[key] += n;
    this.dirty = true;
  }
}
