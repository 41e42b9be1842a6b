/**
 * The messages a delayed exchange (x-delayed-message) holds, and their release. A held message
 * is a row of the exchange object's own SQLite (storage/delayed-store.ts); the object's alarm is
 * set to the earliest one due. When it rings, what is due is routed in (release_at, seq) order,
 * in batches, through the exchange's bindings as they are then, and deleted only once every
 * destination stored its copy: at-least-once, so a restart or a failed destination re-releases
 * the batch rather than losing it.
 *
 * Better than the plugin: the plugin routes at once a delay over 2^32-1 ms (its Erlang timer's
 * cap), keeps its messages in one Mnesia table per node, counts them by scanning it, and its
 * README warns against hundreds of thousands of them. Here any delay is held (the alarm is
 * simply re-armed for the earliest), the count is kept as it changes, and every step goes
 * through the (release_at, seq) index.
 */
import { LIMITS } from "../config";
import type { PublishedMessage } from "../protocol/message";
import type { Routed } from "../protocol/publish-outcome";
import { releasedHeaders } from "../routing/delayed";
import type { DelayedStore, HeldMessage } from "../storage/delayed-store";

/** Routes released messages like a publish; rejects when a destination failed to answer. */
export type Release = (messages: readonly PublishedMessage[]) => Promise<Routed[]>;

export class DelayedMessages {
  private held: number | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly store: DelayedStore,
  ) {}

  /**
   * Makes sure the alarm is set when messages wait (run once when the object starts). An alarm
   * is durable, so this only matters when one was lost: held messages never wait forever.
   */
  async ensureArmed(): Promise<void> {
    const earliest = this.store.earliest();
    if (earliest === null) return;
    if ((await this.storage.getAlarm()) === null) await this.storage.setAlarm(earliest);
  }

  /** How many messages wait (the plugin's `messages_delayed`), counted once, then kept. */
  get count(): number {
    this.held ??= this.store.count();
    return this.held;
  }

  /**
   * Stores messages in one transaction and makes sure the alarm rings for the earliest. When
   * this returns, they are durable (the output gate holds the answer until then).
   */
  async hold(messages: readonly HeldMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.storage.transactionSync(() => this.store.hold(messages));
    if (this.held !== null) this.held += messages.length;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { releaseAt } of messages) earliest = Math.min(earliest, releaseAt);
    const armed = await this.storage.getAlarm();
    if (armed === null || earliest < armed) await this.storage.setAlarm(earliest);
  }

  /**
   * Releases what is due, oldest due first (ties in publish order), batch after batch; then
   * arms the alarm for what is left. A batch whose routing failed stays held and is tried again
   * after LIMITS.delayedRetryMs.
   */
  async releaseDue(release: Release): Promise<number> {
    let released = 0;
    for (let pass = 0; pass < LIMITS.delayedReleasePasses; pass++) {
      const due = this.store.due(
        Date.now(),
        LIMITS.delayedReleaseChunk,
        LIMITS.delayedReleaseBytes,
      );
      if (due.length === 0) break;
      const copies = due.map(({ message }) => ({
        ...message,
        properties: { ...message.properties, headers: releasedHeaders(message.properties.headers) },
      }));
      try {
        await release(copies);
      } catch (error) {
        console.error("releasing delayed messages failed; retrying", error);
        await this.storage.setAlarm(Date.now() + LIMITS.delayedRetryMs);
        return released;
      }
      const removed = this.store.release(due.map(({ seq }) => seq));
      if (this.held !== null) this.held = Math.max(0, this.held - removed);
      released += removed;
    }
    await this.arm();
    return released;
  }

  /** Drops every held message (the exchange is deleted) and the alarm with them. */
  async clear(): Promise<void> {
    this.store.clear();
    this.held = 0;
    await this.storage.deleteAlarm();
  }

  private async arm(): Promise<void> {
    const earliest = this.store.earliest();
    if (earliest === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(earliest);
  }
}
