/**
 * A queue's counts, kept in memory so stats and dispatch cost no query: ready messages and those
 * handed out (delivered and not yet acknowledged, or leased), each in messages and body bytes.
 * Counted from storage when the object wakes; every change to a message's state adjusts them.
 */
import type { MessageStore } from "../storage/message-store";

export class QueueCounts {
  ready = 0;
  readyBytes = 0;
  unacked = 0;
  unackedBytes = 0;

  constructor(private readonly store: MessageStore) {
    this.recount();
  }

  recount(): void {
    const counts = this.store.counts();
    this.ready = counts.ready;
    this.readyBytes = counts.readyBytes;
    this.unacked = counts.unacked;
    this.unackedBytes = counts.unackedBytes;
  }

  /** A ready message left the queue or was handed out. */
  takeReady(bytes: number): void {
    this.ready--;
    this.readyBytes -= bytes;
  }

  /** A message became ready again (returned to its place). */
  returnReady(bytes: number): void {
    this.ready++;
    this.readyBytes += bytes;
  }

  /** A ready message was handed out and waits for its ack (or lease end). */
  handOut(bytes: number): void {
    this.takeReady(bytes);
    this.unacked++;
    this.unackedBytes += bytes;
  }

  /** A delivery ended: acked, rejected or returned. */
  endDelivery(bytes: number): void {
    this.unacked--;
    this.unackedBytes -= bytes;
  }

  /** Every ready message went (a purge). */
  clearReady(): void {
    this.ready = 0;
    this.readyBytes = 0;
  }
}
