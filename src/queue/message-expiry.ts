/**
 * Message TTL: when a message expires (x-message-ttl and the `expiration` property, the lower of
 * the two, as in RabbitMQ), and when the earliest ready message does, so the sweep for expired
 * messages costs nothing until then.
 */
import type { PublishedMessage } from "../protocol/message";
import type { MessageStore } from "../storage/message-store";

export class MessageExpiry {
  private next: number | null;

  constructor(private readonly store: MessageStore) {
    this.next = store.nextExpiry();
  }

  /** When the earliest ready message expires (null: none will). */
  get due(): number | null {
    return this.next;
  }

  isDue(now: number): boolean {
    return this.next !== null && this.next <= now;
  }

  /** A ready message expiring at `at` (null: never): the earliest moves earlier if it is sooner. */
  note(at: number | null): void {
    if (at !== null && (this.next === null || at < this.next)) this.next = at;
  }

  /** After expired messages went: read the earliest again. */
  reread(): void {
    this.next = this.store.nextExpiry();
  }

  clear(): void {
    this.next = null;
  }
}

/**
 * When a message published `now` expires: the lower of the queue's x-message-ttl and the
 * message's `expiration` property (milliseconds, as a string), as in RabbitMQ; null = never.
 */
export function expiresAt(
  message: PublishedMessage,
  queueTtl: number | undefined,
  now: number,
): number | null {
  const expiration = message.properties.expiration;
  const own = expiration === undefined ? undefined : Number(expiration);
  const ttl = own === undefined ? queueTtl : queueTtl === undefined ? own : Math.min(own, queueTtl);
  return ttl === undefined ? null : now + ttl;
}
