/**
 * Sends the messages a queue set aside for its dead-letter exchange, a batch per publish, one
 * flush at a time. Each batch leaves the queue only once publishing it answered (its copies
 * stored in their queues): at-least-once. A dead-letter exchange that does not exist drops them,
 * as in RabbitMQ; any other failure is retried, also after a restart (the rows stay set aside).
 */
import { LIMITS } from "../config";
import type { Env } from "../env";
import { BrokerError } from "../errors";
import { publishMessages } from "../gateway/publish";
import { deadLettered } from "../protocol/dead-letter";
import type { QueueDeclaration } from "../protocol/declarations";
import type { QueueEngine, QueuePolicy } from "./queue-engine";

/** After a failed dead-letter publish (another object did not answer), the next try. */
const DEAD_LETTER_RETRY_MS = 1000;

export interface DeadLetterSource {
  readonly engine: QueueEngine;
  readonly declaration: () => QueueDeclaration | null;
  readonly policy: () => QueuePolicy;
  /** Keeps the object alive while a flush runs (ctx.waitUntil). */
  readonly waitUntil: (work: Promise<unknown>) => void;
}

export class DeadLetterSender {
  private flushing: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly env: Env,
    private readonly source: DeadLetterSource,
  ) {}

  /** Starts a flush, or asks the running one to look again when it ends. */
  flush(): void {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = this.send()
      .catch((error) => {
        console.error("dead-lettering failed; retrying", error);
        setTimeout(() => this.flush(), DEAD_LETTER_RETRY_MS);
      })
      .finally(() => {
        this.flushing = null;
        if (this.again) {
          this.again = false;
          if (this.source.engine.deadLettersPending) this.flush();
        }
      });
    this.source.waitUntil(this.flushing);
  }

  private async send(): Promise<void> {
    const { engine } = this.source;
    for (;;) {
      const declaration = this.source.declaration();
      const target = this.source.policy().deadLetter;
      if (!declaration || !target) return;
      const batch = engine.pendingDeadLetters(LIMITS.deadLetterChunk);
      if (batch.length === 0) return;
      const now = Date.now();
      const copies = batch.map(({ message, reason }) =>
        deadLettered(message, declaration.name, reason, target, now),
      );
      try {
        await publishMessages(this.env, declaration.vhost, target.exchange, copies);
      } catch (error) {
        if (!(error instanceof BrokerError && error.code === "not_found")) throw error;
      }
      engine.forgetDeadLetters(batch.map((entry) => entry.seq));
    }
  }
}
