/**
 * Turns many per-message calls into few frames: items added in the same tick (or within
 * `lingerMs`, Kafka's linger.ms) leave together, cut into frames of at most `maxBytes` and
 * `maxItems`. The application's API stays per message; only the wire is batched.
 */

export interface BatchOptions {
  /** Wait this long for more items before sending (default 0: the end of the current tick). */
  readonly lingerMs?: number;
  /** Most bytes of items in one frame (default 1 MiB); one larger item goes alone. */
  readonly maxFrameBytes?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

export class Batcher<T> {
  private items: T[] = [];
  private bytes = 0;
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly lingerMs: number;
  private readonly maxBytes: number;
  private readonly send: (items: T[]) => void;
  private readonly sizeOf: (item: T) => number;
  private readonly maxItems: number;

  // No parameter properties: Node runs client/ by stripping types, which cannot rewrite them.
  constructor(
    send: (items: T[]) => void,
    sizeOf: (item: T) => number,
    maxItems: number,
    options: BatchOptions = {},
  ) {
    this.send = send;
    this.sizeOf = sizeOf;
    this.maxItems = maxItems;
    this.lingerMs = Math.max(0, options.lingerMs ?? 0);
    this.maxBytes = Math.max(1, options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  add(item: T): void {
    const size = this.sizeOf(item);
    if (this.items.length > 0 && this.bytes + size > this.maxBytes) this.flush();
    this.items.push(item);
    this.bytes += size;
    if (this.items.length >= this.maxItems || this.bytes >= this.maxBytes) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.lingerMs > 0) {
      this.timer = setTimeout(() => this.flush(), this.lingerMs);
    } else {
      queueMicrotask(() => {
        if (this.scheduled) this.flush();
      });
    }
  }

  /** Sends what is waiting now. */
  flush(): void {
    this.cancelTimer();
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    this.send(items);
  }

  /** Forgets what is waiting (its connection is gone). */
  clear(): void {
    this.cancelTimer();
    this.items = [];
    this.bytes = 0;
  }

  private cancelTimer(): void {
    this.scheduled = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
