/**
 * Messages leaving a queue for a reason (rejected, expired, maxlen, delivery_limit): set aside
 * for the dead-letter exchange when the queue has one, else deleted, one statement per batch.
 * The set-aside rows stay in the queue's table, owned by "x:<reason>", until their copies are
 * stored (src/queue/dead-letter-sender.ts sends them).
 */
import type { DeadLetterReason } from "../protocol/dead-letter";
import type { StoredMessage } from "../protocol/message";
import { type MessageStore, toStored } from "../storage/message-store";
import type { QueuePolicy } from "./queue-engine";

export interface PendingDeadLetter {
  readonly seq: number;
  readonly reason: DeadLetterReason;
  readonly message: StoredMessage;
}

export class DeadLetters {
  /** Messages are set aside for the dead-letter exchange: the queue object sends them. */
  pending: boolean;

  constructor(
    private readonly store: MessageStore,
    private readonly policy: () => QueuePolicy,
  ) {
    this.pending = store.deadLetters(1).length > 0;
  }

  /** Messages leaving the queue for `reason`: set aside when there is a dead-letter exchange. */
  retire(seqs: readonly number[], reason: DeadLetterReason): void {
    if (seqs.length === 0) return;
    if (this.policy().deadLetter === undefined) {
      this.store.removeMany(seqs);
      return;
    }
    this.store.markDeadLetter(seqs, reason);
    this.pending = true;
  }

  /** The next messages waiting for the dead-letter exchange, with their reasons. */
  next(limit: number): PendingDeadLetter[] {
    const rows = this.store.deadLetters(limit);
    if (rows.length === 0) this.pending = false;
    return rows.map((row) => ({
      seq: row.seq,
      reason: row.owner.slice(2) as DeadLetterReason,
      message: toStored(row),
    }));
  }

  /** Their copies are stored (or have nowhere to go): the originals leave. */
  forget(seqs: readonly number[]): void {
    this.store.removeMany(seqs);
  }
}
