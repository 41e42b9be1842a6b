/**
 * A queue's consumers: who is subscribed on which connection, how many deliveries each may hold
 * unacknowledged (prefetch), and whose turn is next (round-robin, as RabbitMQ delivers among a
 * queue's consumers). Persisted through storage/consumer-store.ts so consumers on hibernated
 * WebSockets survive the object being evicted; kept in memory for dispatch.
 */
import type { ConsumerRecord, ConsumerStore } from "../storage/consumer-store";

/** A consumer as stored, with the deliveries it holds now (counted again when the object wakes). */
export interface Consumer extends ConsumerRecord {
  unacked: number;
}

/** Whether a connection may receive now (its access is current); see src/queue/socket-access.ts. */
type Eligible = (connection: string) => boolean;
const always: Eligible = () => true;

export class ConsumerSet {
  private consumers: Consumer[] = [];
  private turn = 0;
  private readonly nextTags: Map<string, number>;
  private readonly dirtyTags = new Set<string>();

  constructor(private readonly store: ConsumerStore) {
    this.consumers = store.all().map((record) => ({ ...record, unacked: 0 }));
    this.nextTags = store.deliveryTags();
  }

  get size(): number {
    return this.consumers.length;
  }

  all(): readonly Consumer[] {
    return this.consumers;
  }

  find(connection: string, tag: string): Consumer | undefined {
    return this.consumers.find((c) => c.connection === connection && c.tag === tag);
  }

  connections(): Set<string> {
    return new Set([...this.nextTags.keys(), ...this.consumers.map((c) => c.connection)]);
  }

  add(consumer: Omit<Consumer, "registered" | "unacked">, now: number): Consumer {
    // Registration order decides single-active-consumer succession; keep it strictly increasing.
    const last = this.consumers[this.consumers.length - 1]?.registered ?? 0;
    const added: Consumer = { ...consumer, registered: Math.max(now, last + 1), unacked: 0 };
    this.store.insert(added);
    this.consumers.push(added);
    this.openConnection(added.connection);
    return added;
  }

  remove(connection: string, tag: string): Consumer | undefined {
    const consumer = this.find(connection, tag);
    if (consumer) {
      this.consumers = this.consumers.filter((c) => c !== consumer);
      this.store.remove(connection, tag);
    }
    return consumer;
  }

  /** Forgets a connection and its consumers (its deliveries are the caller's to release). */
  closeConnection(connection: string): Consumer[] {
    const gone = this.consumers.filter((c) => c.connection === connection);
    this.consumers = this.consumers.filter((c) => c.connection !== connection);
    this.store.removeConnection(connection);
    this.nextTags.delete(connection);
    this.dirtyTags.delete(connection);
    return gone;
  }

  openConnection(connection: string): void {
    if (!this.nextTags.has(connection)) {
      this.nextTags.set(connection, 1);
      this.dirtyTags.add(connection);
    }
  }

  /** The connection's next delivery tag: per connection, strictly increasing, never reused. */
  takeDeliveryTag(connection: string): number {
    const tag = this.nextTags.get(connection) ?? 1;
    this.nextTags.set(connection, tag + 1);
    this.dirtyTags.add(connection);
    return tag;
  }

  /** Writes the delivery-tag counters that moved (once per dispatch, not per message). */
  persistTags(): void {
    for (const connection of this.dirtyTags) {
      this.store.setDeliveryTag(connection, this.nextTags.get(connection) ?? 1);
    }
    this.dirtyTags.clear();
  }

  /** How many more deliveries the consumers can take now (Infinity with an unlimited one). */
  capacity(singleActive: boolean, eligible: Eligible = always): number {
    const candidates = singleActive ? this.consumers.slice(0, 1) : this.consumers;
    let room = 0;
    for (const c of candidates) {
      if (!eligible(c.connection)) continue;
      room += c.prefetch === 0 ? Number.POSITIVE_INFINITY : Math.max(0, c.prefetch - c.unacked);
    }
    return room;
  }

  /**
   * The consumer whose turn it is and who may take one more delivery (and whose connection is
   * eligible), or null. With a single
   * active consumer (x-single-active-consumer) only the earliest registered consumer receives.
   */
  next(singleActive: boolean, eligible: Eligible = always): Consumer | null {
    const candidates = singleActive ? this.consumers.slice(0, 1) : this.consumers;
    for (let i = 0; i < candidates.length; i++) {
      const index = (this.turn + i) % candidates.length;
      const consumer = candidates[index];
      if (
        consumer &&
        (consumer.prefetch === 0 || consumer.unacked < consumer.prefetch) &&
        eligible(consumer.connection)
      ) {
        this.turn = index + 1;
        return consumer;
      }
    }
    return null;
  }
}
