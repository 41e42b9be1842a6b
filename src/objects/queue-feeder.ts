/**
 * Group commit from an exchange object to its queue objects. Concurrent publishes to the same
 * queue are coalesced: while one enqueue call to a queue is in flight, later messages for that
 * queue gather into the next batch, sent as one call when the first returns. A queue object is
 * one thread anyway, so this trades nothing in latency at concurrency 1 and saves a call per
 * message under load. Order per queue is kept: batches leave one at a time, in arrival order.
 *
 * Each caller's promise settles with its own batch: true when the queue stored it, false when
 * the queue does not exist; a failed call rejects every caller in that batch (none is confirmed).
 */
import type { PublishedMessage } from "../protocol/message";

type Send = (queue: string, messages: PublishedMessage[]) => Promise<boolean>;

interface Batch {
  readonly messages: PublishedMessage[];
  readonly done: Promise<boolean>;
  resolve(stored: boolean): void;
  reject(error: unknown): void;
}

function newBatch(): Batch {
  let resolve!: (stored: boolean) => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<boolean>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { messages: [], done, resolve, reject };
}

interface Lane {
  busy: boolean;
  next: Batch | null;
}

export class QueueFeeder {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly send: Send) {}

  enqueue(queue: string, messages: readonly PublishedMessage[]): Promise<boolean> {
    let lane = this.lanes.get(queue);
    if (!lane) {
      lane = { busy: false, next: null };
      this.lanes.set(queue, lane);
    }
    lane.next ??= newBatch();
    const batch = lane.next;
    batch.messages.push(...messages);
    if (!lane.busy) {
      this.flush(queue, lane);
    }
    return batch.done;
  }

  private flush(queue: string, lane: Lane): void {
    const batch = lane.next;
    if (!batch) {
      lane.busy = false;
      this.lanes.delete(queue);
      return;
    }
    lane.next = null;
    lane.busy = true;
    this.send(queue, batch.messages).then(
      (stored) => {
        batch.resolve(stored);
        this.flush(queue, lane);
      },
      (error: unknown) => {
        batch.reject(error);
        this.flush(queue, lane);
      },
    );
  }
}
