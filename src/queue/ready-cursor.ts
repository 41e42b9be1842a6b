/**
 * Where dispatch finds the next ready messages of a queue handed out in seq order (not a priority
 * queue): it reads a few ahead in one query and hands them out over the next rounds, so the
 * consume/ack round trip at prefetch 1 does not cost a query per message. Every row below the
 * floor that storage still calls ready is held or acked in memory (src/queue/delivery-state.ts),
 * so a read starts at the floor and skips nothing.
 *
 * What it read stays right as long as only dispatch changes ready rows, and new messages are
 * appended (higher seqs, read when the buffer runs out). Every other path that changes ready rows
 * (a return to the queue, a get, a lease, expiry, a length limit, a purge) calls `reset()`, and
 * the next read starts from the head again. A message that expires while read ahead is skipped
 * when handed out.
 */
import type { MessageStore, ReadyRow } from "../storage/message-store";

/** Rows read ahead at most, and their bodies' bytes at most (past that, read again later). */
export const READ_AHEAD_ROWS = 32;
export const READ_AHEAD_BYTES = 256 * 1024;

export class ReadyCursor {
  private floor = 0;
  private buffer: ReadyRow[] = [];

  constructor(private readonly store: MessageStore) {}

  /**
   * Up to `limit` ready rows from the head, alive after `liveAfter`, without taking them: the
   * caller calls `taken(seq)` for each one it hands out, in order.
   */
  peek(limit: number, now: number, liveAfter: number): ReadyRow[] {
    this.dropExpired(liveAfter);
    if (this.buffer.length < limit) {
      const from = this.buffer.length > 0 ? (this.buffer.at(-1) as ReadyRow).seq + 1 : this.floor;
      const want = Math.max(limit - this.buffer.length, READ_AHEAD_ROWS);
      this.buffer.push(...this.store.readyFrom(from, want, now, liveAfter));
      this.trim(limit);
    }
    return this.buffer.length <= limit ? [...this.buffer] : this.buffer.slice(0, limit);
  }

  /** The head row went out (delivered, or taken by an auto-ack consumer). */
  taken(seq: number): void {
    const head = this.buffer[0];
    if (head?.seq === seq) this.buffer.shift();
    if (seq >= this.floor) this.floor = seq + 1;
  }

  /** Ready rows changed other than by dispatch: read from the head again. */
  reset(): void {
    this.floor = 0;
    this.buffer = [];
  }

  private dropExpired(liveAfter: number): void {
    if (this.buffer.some((row) => row.expires_at !== null && row.expires_at <= liveAfter)) {
      // Expired before they went out: the sweep deletes them; the floor must not skip
      // anything else, so only these leave the buffer.
      this.buffer = this.buffer.filter(
        (row) => row.expires_at === null || row.expires_at > liveAfter,
      );
    }
  }

  /** Keeps at least `keep` rows, then only what fits READ_AHEAD_BYTES (the rest is read again). */
  private trim(keep: number): void {
    let bytes = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      bytes += (this.buffer[i] as ReadyRow).body.byteLength;
      if (i >= keep && bytes > READ_AHEAD_BYTES) {
        this.buffer.length = i;
        return;
      }
    }
  }
}
