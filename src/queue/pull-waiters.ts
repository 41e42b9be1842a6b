/**
 * Long polls of pull consumers (POST .../pull with a wait): each waits, oldest first, until a
 * message is ready for it or its wait runs out, when it is answered with nothing. Lives in
 * memory only: a long poll is one open RPC call, and ends with the object.
 */
import type { Leased } from "./queue-engine";

interface Waiter {
  readonly count: number;
  readonly visibilityMs: number;
  readonly resolve: (messages: Leased[]) => void;
}

/** Leases up to `count` ready messages for `visibilityMs` (QueueEngine.pull). */
export type Lease = (count: number, visibilityMs: number) => Leased[];

export class PullWaiters {
  private readonly waiting: Waiter[] = [];

  /** Waits up to `waitMs` for `wake` to hand this poll messages; answers [] when it times out. */
  wait(count: number, visibilityMs: number, waitMs: number): Promise<Leased[]> {
    return new Promise<Leased[]>((resolve) => {
      const waiter: Waiter = { count, visibilityMs, resolve };
      this.waiting.push(waiter);
      setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        resolve([]);
      }, waitMs);
    });
  }

  /** Hands ready messages to long polls, oldest waiter first, while `hasReady` says there are. */
  wake(lease: Lease, hasReady: () => boolean): void {
    while (this.waiting.length > 0 && hasReady()) {
      const waiter = this.waiting[0] as Waiter;
      const messages = lease(waiter.count, waiter.visibilityMs);
      if (messages.length === 0) break;
      this.waiting.shift();
      waiter.resolve(messages);
    }
  }

  /** The queue is gone: every poll is answered with nothing. */
  releaseAll(): void {
    for (const waiter of this.waiting.splice(0)) waiter.resolve([]);
  }
}
