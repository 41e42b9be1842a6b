/**
 * Publisher confirms for one channel (confirm.select): the broker confirms a channel's
 * publishes in order, and this turns them into basic.ack / basic.nack frames. A frame is sent
 * only for a run of tags that starts right after the last one answered, so `multiple` never
 * covers a tag the client has not been answered for and never answers a tag twice.
 */
export type ConfirmOutcome = "ack" | "nack";

export class ConfirmTracker {
  private lastTag = 0;
  private answeredUpTo = 0;
  private readonly done = new Map<number, ConfirmOutcome>();
  private scheduled = false;
  private readonly send: (outcome: ConfirmOutcome, tag: number, multiple: boolean) => void;

  constructor(send: (outcome: ConfirmOutcome, tag: number, multiple: boolean) => void) {
    this.send = send;
  }

  /** The delivery tag of the next publish. */
  next(): number {
    this.lastTag += 1;
    return this.lastTag;
  }

  get pending(): number {
    return this.lastTag - this.answeredUpTo;
  }

  settle(tag: number, outcome: ConfirmOutcome): void {
    this.done.set(tag, outcome);
    if (this.scheduled) return;
    this.scheduled = true;
    // Confirms that resolve in the same turn leave as one frame.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    let runStart = this.answeredUpTo + 1;
    let runOutcome: ConfirmOutcome | undefined;
    for (;;) {
      const next = this.answeredUpTo + 1;
      const outcome = this.done.get(next);
      if (outcome !== undefined && (runOutcome === undefined || outcome === runOutcome)) {
        runOutcome = outcome;
        this.done.delete(next);
        this.answeredUpTo = next;
        continue;
      }
      if (runOutcome !== undefined) {
        this.send(runOutcome, this.answeredUpTo, this.answeredUpTo > runStart);
      }
      if (outcome === undefined) return;
      runStart = next;
      runOutcome = undefined;
    }
  }
}
