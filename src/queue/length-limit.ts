/**
 * x-max-length and x-max-length-bytes with x-overflow drop-head (RabbitMQ's default): while the
 * ready messages exceed either limit, the oldest go (dead-lettered with reason `maxlen` when the
 * queue has a dead-letter exchange), in one statement per chunk.
 */
import { LIMITS } from "../config";
import type { MessageStore } from "../storage/message-store";
import type { DeadLetters } from "./dead-letters";
import type { QueueCounts } from "./queue-counts";
import type { QueuePolicy } from "./queue-engine";

export class LengthLimit {
  constructor(
    private readonly store: MessageStore,
    private readonly counts: QueueCounts,
    private readonly deadLetters: DeadLetters,
    private readonly policy: () => QueuePolicy,
  ) {}

  /** Drops from the head until the ready messages fit; runs after dispatch took what it could. */
  enforce(): void {
    const { maxLength, maxLengthBytes } = this.policy();
    if (maxLength === undefined && maxLengthBytes === undefined) return;
    const counts = this.counts;
    const over = () =>
      (maxLength !== undefined && counts.ready > maxLength) ||
      (maxLengthBytes !== undefined && counts.readyBytes > maxLengthBytes);
    while (over()) {
      const head = this.store.head(LIMITS.expiryChunk);
      if (head.length === 0) break;
      const dropped: number[] = [];
      for (const row of head) {
        if (!over()) break;
        dropped.push(row.seq);
        counts.takeReady(row.bytes);
      }
      this.deadLetters.retire(dropped, "maxlen");
    }
  }
}
