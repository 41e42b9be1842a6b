/**
 * Group commit across the requests an isolate serves at once: concurrent single HTTP publishes
 * to one queue (or one exchange) become one RPC, one event and one SQLite commit in the object
 * instead of one each. While a call for a key is in flight, later submissions for that key
 * gather into the next batch (bounded in items and bytes); when the call returns, the next
 * batch goes. At concurrency 1 nothing waits: a lone submission is sent at once.
 *
 * Unlike `Coalescer` (one connection's frames, one request context), the callers here are
 * different requests, and a Worker may do I/O (create a stub, call it, waitUntil) only in the
 * context of the request doing it; a promise one request resolves for another is not a safe way
 * to hand work over (its continuation may run in the resolver's context, or be cancelled with
 * it). So no caller ever resolves another's promise:
 * - the caller that finds the key idle sends its batch at once, from its own context, and hands
 *   the call to `waitUntil` so that a client hanging up does not cancel it for its batch-mates;
 * - the other callers wait on timers of their own (every POLL_MS), reading their outcome from
 *   the batch once it is there; when the call in flight returns, the next batch is marked
 *   offered and the first of its callers to wake claims it and sends it from its own context;
 * - a batch offered and still unclaimed after STALE_OFFER_MS (every caller of it gone) is sent
 *   by the next submission's caller, so a key is never left stuck.
 *
 * Each caller gets the results of its own items, in order; a failed call rejects every caller of
 * that batch (none of them was answered). Order per key is arrival order.
 */

export interface CoalescerLimits {
  /** Items per call at most. */
  readonly maxItems: number;
  /** Bytes per call at most (the sum of `size` of the items); one item alone may exceed it. */
  readonly maxBytes: number;
}

/** A batch offered to its callers and not claimed for this long is sent by the next caller. */
export const STALE_OFFER_MS = 1000;
/** How often a waiting caller looks at its batch. */
export const POLL_MS = 1;
/** A caller gives up after this long without an outcome (the object it waits for is stuck). */
export const MAX_WAIT_MS = 60_000;

type Outcome<R> =
  | { readonly ok: true; readonly results: R[] }
  | { readonly ok: false; readonly error: unknown };

interface Batch<T, R> {
  readonly items: T[];
  bytes: number;
  claimed: boolean;
  offered: boolean;
  outcome: Outcome<R> | null;
}

interface Lane<T, R> {
  /** Batches not answered yet, oldest first; only the first one is claimed or offered. */
  readonly queued: Batch<T, R>[];
  /** When the head of `queued` was offered to its callers (null: not offered). */
  offeredAt: number | null;
}

/** What a submission needs from its request: I/O in its own context, kept alive past a hang-up. */
export interface RequestContext<T, R> {
  readonly send: (items: T[]) => Promise<R[]>;
  readonly waitUntil: (work: Promise<unknown>) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The first wait of a waiting request is at most this long, whatever the last call took. */
const MAX_FIRST_WAIT_MS = 20;

export class RequestCoalescer<T, R> {
  private readonly lanes = new Map<string, Lane<T, R>>();
  /** How long the last call took (ms), for a waiting request's first wait. */
  private lastCallMs = 0;

  constructor(
    private readonly limits: CoalescerLimits,
    private readonly size: (item: T) => number,
    private readonly clock: () => number = Date.now,
  ) {}

  async submit(key: string, items: readonly T[], context: RequestContext<T, R>): Promise<R[]> {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { queued: [], offeredAt: null };
      this.lanes.set(key, lane);
    }
    const idle = lane.queued.length === 0;
    const batch = this.batchFor(lane, items);
    const start = batch.items.length;
    batch.items.push(...items);
    for (const item of items) batch.bytes += this.size(item);
    const mine = (outcome: Outcome<R>): R[] => {
      if (!outcome.ok) throw outcome.error;
      return outcome.results.slice(start, start + items.length);
    };
    if (idle) return mine(await this.claim(key, lane, context));
    if (lane.offeredAt !== null && this.clock() - lane.offeredAt > STALE_OFFER_MS) {
      // The batch offered last was never claimed (its callers are gone): send it from here.
      void this.claim(key, lane, context);
    }
    const started = this.clock();
    // A call takes about as long as the last one did: the first look waits half of that, so a
    // waiting request does not wake every POLL_MS for nothing in a busy isolate.
    await sleep(Math.max(POLL_MS, Math.floor(this.lastCallMs / 2)));
    for (;;) {
      if (batch.outcome) return mine(batch.outcome);
      // Offered: the first of its callers to wake sends it, from its own context.
      if (batch.offered && !batch.claimed) return mine(await this.claim(key, lane, context));
      if (this.clock() - started > MAX_WAIT_MS) {
        throw new Error(`no answer to a coalesced call within ${MAX_WAIT_MS} ms`);
      }
      await sleep(POLL_MS);
    }
  }

  /** The last queued batch if it has room for `items`, else a new one. */
  private batchFor(lane: Lane<T, R>, items: readonly T[]): Batch<T, R> {
    const last = lane.queued[lane.queued.length - 1];
    const bytes = items.reduce((sum, item) => sum + this.size(item), 0);
    const fits =
      last !== undefined &&
      !last.claimed &&
      last.items.length + items.length <= this.limits.maxItems &&
      last.bytes + bytes <= this.limits.maxBytes;
    if (fits) return last;
    const fresh: Batch<T, R> = {
      items: [],
      bytes: 0,
      claimed: false,
      offered: false,
      outcome: null,
    };
    lane.queued.push(fresh);
    return fresh;
  }

  /** Sends the head batch from the calling request's context; answers its outcome. */
  private claim(key: string, lane: Lane<T, R>, context: RequestContext<T, R>): Promise<Outcome<R>> {
    const batch = lane.queued[0] as Batch<T, R>;
    batch.claimed = true;
    lane.offeredAt = null;
    const call = (async (): Promise<Outcome<R>> => {
      let outcome: Outcome<R>;
      const sent = this.clock();
      try {
        outcome = { ok: true, results: await context.send(batch.items) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      this.lastCallMs = Math.min(MAX_FIRST_WAIT_MS, this.clock() - sent);
      batch.outcome = outcome;
      lane.queued.shift();
      const next = lane.queued[0];
      if (next) {
        // Its callers wake on their own timers and one of them claims it.
        next.offered = true;
        lane.offeredAt = this.clock();
      } else {
        this.lanes.delete(key);
      }
      return outcome;
    })();
    context.waitUntil(call);
    return call;
  }

  /** Lanes with a call in flight or queued (for tests). */
  get activeKeys(): number {
    return this.lanes.size;
  }
}
