/**
 * x-max-length and x-max-length-bytes with x-overflow drop-head (RabbitMQ's default): while the
 * ready messages exceed either limit, the oldest (in a priority queue: the next to be handed out) go (dead-lettered with reason `maxlen` when the
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

  /** Whether enforce() would drop anything now (it then reads the head from storage). */
  wouldDrop(): boolean {
    const { maxLength, maxLengthBytes, overflow } = this.policy();
    if (overflow === "reject-publish" || overflow === "reject-publish-dlx") return false;
    const { ready, readyBytes } = this.counts;
    return (
      (maxLength !== undefined && ready > maxLength) ||
      (maxLengthBytes !== undefined && readyBytes > maxLengthBytes)
    );
  }

  /** Drops from the head until the ready messages fit; runs after dispatch took what it could. */
  enforce(): void {
    const { maxLength, maxLengthBytes, overflow } = this.policy();
    // reject-publish(-dlx) refuses at publish instead (src/queue/overflow.ts).
    if (overflow === "reject-publish" || overflow === "reject-publish-dlx") return;
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
