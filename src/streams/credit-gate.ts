/**
 * A WebSocket reader's credit, in messages, shared by every partition it reads: a reader only
 * receives what it has granted, so a slow reader holds back nothing but itself.
 */
export class CreditGate {
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private credit: number) {}

  get available(): number {
    return this.credit;
  }

  add(credit: number): void {
    this.credit += credit;
    this.release();
  }

  /** Takes up to `wanted` messages' worth of credit; answers how many were granted. */
  take(wanted: number): number {
    const granted = Math.min(wanted, this.credit);
    this.credit -= granted;
    return granted;
  }

  /** Resolves once there is credit (or the gate closed). */
  async whenAvailable(): Promise<void> {
    while (this.credit <= 0 && !this.closed) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.closed = true;
    this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}
