/**
 * Group commit: concurrent submissions for the same key are coalesced. While one call for a key
 * is in flight, later items for that key gather into the next batch, sent as one call when the
 * first returns. Used where the receiver is one thread anyway (a queue object, an exchange
 * object), so it costs nothing in latency at concurrency 1 and saves a call per item under load.
 * Order per key is kept: batches leave one at a time, in arrival order.
 *
 * Each caller gets the results for its own items, in order; a failed call rejects every caller
 * in that batch (none of them is confirmed).
 */

type Send<T, R> = (key: string, items: T[]) => Promise<R[]>;

interface Waiter<R> {
  readonly start: number;
  readonly count: number;
  resolve(results: R[]): void;
  reject(error: unknown): void;
}

interface Batch<T, R> {
  readonly items: T[];
  readonly waiters: Waiter<R>[];
}

interface Lane<T, R> {
  next: Batch<T, R> | null;
}

export class Coalescer<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();

  constructor(private readonly send: Send<T, R>) {}

  submit(key: string, items: readonly T[]): Promise<R[]> {
    let lane = this.lanes.get(key);
    const idle = lane === undefined;
    if (!lane) {
      lane = { next: null };
      this.lanes.set(key, lane);
    }
    lane.next ??= { items: [], waiters: [] };
    const batch = lane.next;
    const done = new Promise<R[]>((resolve, reject) => {
      batch.waiters.push({ start: batch.items.length, count: items.length, resolve, reject });
    });
    batch.items.push(...items);
    if (idle) this.flush(key, lane);
    return done;
  }

  private flush(key: string, lane: Lane<T, R>): void {
    const batch = lane.next;
    if (!batch) {
      this.lanes.delete(key);
      return;
    }
    lane.next = null;
    this.send(key, batch.items).then(
      (results) => {
        const only = batch.waiters.length === 1 ? batch.waiters[0] : undefined;
        if (only)
          only.resolve(results); // the usual batch of one submission: no copy
        else for (const w of batch.waiters) w.resolve(results.slice(w.start, w.start + w.count));
        this.flush(key, lane);
      },
      (error: unknown) => {
        for (const w of batch.waiters) w.reject(error);
        this.flush(key, lane);
      },
    );
  }
}
