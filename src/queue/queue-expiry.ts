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
