/**
 * How deliveries end: acked or rejected without requeue (the message goes, or is dead-lettered
 * with reason `rejected`), or returned to its place in the queue (nack with requeue, a closed
 * connection, a passed deadline), unless it was returned more than x-delivery-limit times.
 * Each ends in one statement for the whole batch, and keeps the counts right.
 */
import type { DeadLetterReason } from "../protocol/dead-letter";
import type { MessageStore, OwnedRow } from "../storage/message-store";
import type { ConsumerSet } from "./consumers";
import type { DeadLetters } from "./dead-letters";
import type { LengthLimit } from "./length-limit";
import type { MessageExpiry } from "./message-expiry";
import type { QueueCounts } from "./queue-counts";
import type { QueuePolicy } from "./queue-engine";

export interface ReturnParts {
  readonly store: MessageStore;
  readonly consumers: ConsumerSet;
  readonly counts: QueueCounts;
  readonly expiry: MessageExpiry;
  readonly deadLetters: DeadLetters;
  readonly lengthLimit: LengthLimit;
  readonly policy: () => QueuePolicy;
}

export class DeliveryReturns {
  constructor(private readonly parts: ReturnParts) {}

  /** Acked (reason null), or rejected by a nack/reject without requeue. */
  drop(rows: readonly OwnedRow[], reason: DeadLetterReason | null): void {
    const seqs = rows.map((row) => row.seq);
    if (reason === null) this.parts.store.removeMany(seqs);
    else this.parts.deadLetters.retire(seqs, reason);
    for (const row of rows) this.forgetDelivery(row);
  }

  /** Returns deliveries to their places, except those returned more than x-delivery-limit. */
  giveBack(rows: readonly OwnedRow[], availableAt: number): void {
    if (rows.length === 0) return;
    const { store, counts, expiry, deadLetters, lengthLimit } = this.parts;
    const { deliveryLimit } = this.parts.policy();
    const back: number[] = [];
    const dropped: number[] = [];
    for (const row of rows) {
      this.forgetDelivery(row);
      if (deliveryLimit !== undefined && row.delivery_count > deliveryLimit) {
        // Dropped, or dead-lettered, as RabbitMQ's quorum queues do.
        dropped.push(row.seq);
      } else {
        back.push(row.seq);
        counts.returnReady(row.bytes);
        // A returned message keeps its expiry (RabbitMQ): it may be due already.
        expiry.note(row.expires_at);
      }
    }
    deadLetters.retire(dropped, "delivery_limit");
    store.releaseMany(back, availableAt);
    // Returned messages count again: over the limit, the head goes (RabbitMQ's requeue_and_run).
    if (back.length > 0) lengthLimit.enforce();
  }

  /** An acked delivery whose row goes later (src/queue/delivery-state.ts): counts only. */
  forgetRow(row: OwnedRow): void {
    this.forgetDelivery(row);
  }

  /** The same for a delivery held in memory, of `consumerTag` on `connection`. */
  forget(bytes: number, connection: string, consumerTag: string): void {
    this.parts.counts.endDelivery(bytes);
    const consumer = this.parts.consumers.find(connection, consumerTag);
    if (consumer) consumer.unacked--;
  }

  private forgetDelivery(row: OwnedRow): void {
    if (row.owner.startsWith("c:") && row.consumer_tag !== null) {
      this.forget(row.bytes, row.owner.slice(2), row.consumer_tag);
    } else this.parts.counts.endDelivery(row.bytes);
  }
}
