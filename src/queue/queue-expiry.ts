/**
 * x-expires (or a policy's `expires`): a queue unused for that many milliseconds is deleted, as in
 * RabbitMQ. Used means: a consumer attached (the time runs from when the last one left), a get or
 * a pull, or a redeclaration; publishing does not count, nor reading the queue's counts. The last
 * use is kept in the queue's meta table, so the deadline survives restarts; the queue object's
 * alarm fires at it.
 */
import { MetaStore } from "../storage/meta-store";

const LAST_USED = "last_used";

export class QueueExpiry {
  private readonly meta: MetaStore;
  private lastUsed: number;

  constructor(sql: SqlStorage, now: number) {
    this.meta = new MetaStore(sql);
    const stored = Number(this.meta.getMeta(LAST_USED));
    this.lastUsed = Number.isFinite(stored) && stored > 0 ? stored : now;
  }

  /** The queue was used now: its time starts again (one small write, only with an expiry). */
  touch(now: number, expires: number | undefined): void {
    this.lastUsed = now;
    if (expires !== undefined) this.meta.setMeta(LAST_USED, String(now));
  }

  /** When the queue expires if nothing uses it; null when it has no expiry or is in use. */
  deadline(expires: number | undefined, inUse: boolean): number | null {
    if (expires === undefined || inUse) return null;
    return this.lastUsed + expires;
  }

  /** Whether the queue, unused, has passed its time. */
  due(expires: number | undefined, inUse: boolean, now: number): boolean {
    const at = this.deadline(expires, inUse);
    return at !== null && at <= now;
  }
}

/** What the expiry needs of its queue object. */
export interface ExpiryHooks {
  /** The queue's effective `expires` (argument and policy), or undefined. */
  readonly expires: () => number | undefined;
  /** Consumers or long polls are attached: x-expires does not run. */
  readonly inUse: () => boolean;
  /** Asks the queue's alarm to fire at `at`. */
  readonly wakeAt: (at: number) => void;
  /** Deletes the queue through its vhost's catalog (with its bindings). */
  readonly deleteQueue: () => Promise<unknown>;
}

/** After a failed deletion of an expired queue (the catalog did not answer), the next try. */
const EXPIRE_RETRY_MS = 1000;

/** x-expires for one queue object: touches on use, the alarm for the deadline, the deletion. */
export class QueueExpiryWatch {
  private readonly expiry: QueueExpiry;

  constructor(
    sql: SqlStorage,
    private readonly hooks: ExpiryHooks,
  ) {
    this.expiry = new QueueExpiry(sql, Date.now());
  }

  /** When the queue expires if left unused; null without an expiry or while in use. */
  deadline(): number | null {
    return this.expiry.deadline(this.hooks.expires(), this.hooks.inUse());
  }

  /** The queue was used now (a consume or cancel, a get, a pull, a redeclaration). */
  used(): void {
    this.expiry.touch(Date.now(), this.hooks.expires());
  }

  /** Sets the alarm for the deadline, if there is one (declarations cost nothing more). */
  schedule(): void {
    const at = this.deadline();
    if (at !== null) this.hooks.wakeAt(at);
  }

  /** At the alarm: unused for its time, the queue is deleted through its catalog (retried). */
  expireIfDue(): void {
    if (!this.expiry.due(this.hooks.expires(), this.hooks.inUse(), Date.now())) return;
    this.hooks.deleteQueue().catch((error: unknown) => {
      console.error("deleting an expired queue failed; retrying", error);
      this.hooks.wakeAt(Date.now() + EXPIRE_RETRY_MS);
    });
  }
}
