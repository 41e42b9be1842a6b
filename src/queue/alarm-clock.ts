/**
 * The queue object's one alarm, set for the earliest thing due (an ack deadline, a lease expiry,
 * a delayed message, a message's expiry). Remembers what it set, so asking again for a later
 * time costs no storage call.
 */
export class AlarmClock {
  private at: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** When the alarm is set for (null: not set, or not known since the object woke). */
  get due(): number | null {
    return this.at;
  }

  /** Sets the alarm for `next` unless one is set already for no later. */
  request(next: number | null): void {
    if (next === null) return;
    if (this.at === null || next < this.at) {
      this.at = next;
      void this.storage.setAlarm(next);
    }
  }

  /** The alarm ran: the next request sets it again. */
  fired(): void {
    this.at = null;
  }

  cancel(): void {
    void this.storage.deleteAlarm();
    this.at = null;
  }
}
