/**
 * Which consumer holds which message under which tag, kept in memory between writes, and the
 * acks not yet written: the consume/ack round trip (deliver, ack, deliver the next) costs no
 * SQLite write. What is held here is written as one statement per kind within FLUSH_MS (a timer)
 * or once PENDING_LIMIT entries wait, and before any other path reads delivery state from
 * storage (the queue engine flushes first).
 *
 * Why this is safe:
 * - Hibernation: the runtime hibernates an object only when no setTimeout callback is pending
 *   (Cloudflare's Durable Object lifecycle). While anything waits here, the flush timer is
 *   pending, so an object whose sockets stay open never loses this state to hibernation; once
 *   the timer has run, storage holds all of it.
 * - A crash (process killed, object reset) loses what waits here: the messages delivered and not
 *   yet written are ready again in storage, and an ack not yet written means its message comes
 *   again, as at-least-once delivery allows (RabbitMQ redelivers an ack lost with its channel).
 *   RabbitMQ's promise that `redelivered: false` means "never delivered before" holds through
 *   the "delivered through" mark (src/storage/queue-meta-store.ts): before a delivery of a
 *   message above the mark leaves, the mark is written DELIVERED_MARK_BLOCK seqs ahead (one
 *   write per block, held by the output gate like any write); a restart finding the mark flags
 *   every ready message at or below it redelivered. A flush that leaves nothing in memory clears
 *   the mark, so a later hibernation or restart flags nothing that was never delivered.
 */

/** A delivery not yet written: its message row is still ready (owner NULL) in storage. */
export interface HeldDelivery {
  readonly seq: number;
  readonly connection: string;
  readonly consumerTag: string;
  readonly deliveryTag: number;
  readonly deadline: number;
  readonly bytes: number;
}

/** What a flush writes. */
export interface DeliveryWrites {
  readonly delivered: readonly HeldDelivery[];
  readonly acked: readonly number[];
}

/** Written within this long of the first change (the timer keeps the object from hibernating). */
export const FLUSH_MS = 25;
/** Entries that may wait before a flush runs at once (bounds memory and the ready query). */
export const PENDING_LIMIT = 256;
/** How far ahead of a delivered seq the "delivered through" mark is written. */
export const DELIVERED_MARK_BLOCK = 4096;

export interface DeliveryStateParts {
  /** Writes `writes` in one transaction (message store, delivery-tag counters). */
  readonly write: (writes: DeliveryWrites) => void;
  /** The durable "delivered through" mark: write (a seq) or clear (null). */
  readonly mark: (through: number | null) => void;
  /** Runs `flush` within `ms` (a timer), unless cancelled; the runtime's setTimeout. */
  readonly later: (flush: () => void, ms: number) => void;
}

const key = (connection: string, deliveryTag: number) => `${deliveryTag} ${connection}`;

export class DeliveryState {
  private readonly held = new Map<string, HeldDelivery>();
  private readonly heldSeqs = new Set<number>();
  private acked: number[] = [];
  private readonly ackedSeqs = new Set<number>();
  private markedThrough = 0;
  private timerSet = false;
  /** The earliest ack deadline among held deliveries (not lowered by acks: an early alarm is harmless). */
  private earliest: number | null = null;

  constructor(private readonly parts: DeliveryStateParts) {}

  /** Whether anything waits to be written. */
  get pending(): boolean {
    return this.held.size > 0 || this.acked.length > 0;
  }

  get size(): number {
    return this.held.size + this.acked.length;
  }

  /** Seqs a priority queue's ready query must skip: held deliveries, acked rows not yet deleted. */
  excluded(): number[] {
    if (!this.pending) return [];
    return [...this.heldSeqs, ...this.acked];
  }

  /** The earliest ack deadline held here, or null. */
  get earliestDeadline(): number | null {
    return this.earliest;
  }

  /**
   * A delivery leaves now; before its frame does, the mark must cover its seq (written here,
   * held by the output gate with the frame).
   */
  deliver(delivery: HeldDelivery): void {
    if (delivery.seq > this.markedThrough) {
      this.markedThrough = delivery.seq + DELIVERED_MARK_BLOCK;
      this.parts.mark(this.markedThrough);
    }
    this.held.set(key(delivery.connection, delivery.deliveryTag), delivery);
    this.heldSeqs.add(delivery.seq);
    if (this.earliest === null || delivery.deadline < this.earliest) {
      this.earliest = delivery.deadline;
    }
    this.changed();
  }

  /** The held delivery under this connection's tag, if it is held here. */
  find(connection: string, deliveryTag: number): HeldDelivery | undefined {
    return this.held.get(key(connection, deliveryTag));
  }

  /** Held deliveries of a connection up to `deliveryTag` (an ack with `multiple`). */
  upTo(connection: string, deliveryTag: number): HeldDelivery[] {
    const out: HeldDelivery[] = [];
    for (const delivery of this.held.values()) {
      if (delivery.connection === connection && delivery.deliveryTag <= deliveryTag) {
        out.push(delivery);
      }
    }
    return out;
  }

  /** Whether a stored (written) delivery's row was acked and waits to be deleted. */
  isAcked(seq: number): boolean {
    return this.ackedSeqs.has(seq);
  }

  /** Acks a held delivery: it leaves memory, its row is deleted at the next flush. */
  ackHeld(delivery: HeldDelivery): void {
    this.held.delete(key(delivery.connection, delivery.deliveryTag));
    this.heldSeqs.delete(delivery.seq);
    this.ackStored(delivery.seq);
  }

  /** Acks a written delivery: its row is deleted at the next flush. */
  ackStored(seq: number): void {
    this.acked.push(seq);
    this.ackedSeqs.add(seq);
    this.changed();
  }

  /** Writes everything waiting, in the caller's transaction, and clears the mark. */
  flush(): void {
    if (this.pending) {
      this.parts.write({ delivered: [...this.held.values()], acked: this.acked });
      this.forget();
    }
    this.clearMark();
  }

  /** The queue's messages are gone (a delete): nothing held is worth writing. */
  discard(): void {
    this.forget();
    this.clearMark();
  }

  private forget(): void {
    this.held.clear();
    this.heldSeqs.clear();
    this.acked = [];
    this.ackedSeqs.clear();
    this.earliest = null;
  }

  private clearMark(): void {
    if (this.markedThrough > 0) {
      this.parts.mark(null);
      this.markedThrough = 0;
    }
  }

  private changed(): void {
    if (this.size >= PENDING_LIMIT) {
      this.flush();
      return;
    }
    if (this.timerSet) return;
    this.timerSet = true;
    this.parts.later(() => {
      this.timerSet = false;
      this.flush();
    }, FLUSH_MS);
  }
}
