/**
 * What a queue does with its messages, independent of how requests reach it: store, dispatch to
 * consumers (round-robin, prefetch, single active consumer, auto or manual ack), settle acks and
 * nacks, return deliveries whose connection closed or whose deadline passed, lease messages to
 * pull consumers, and count. The queue object wires it to RPC, WebSockets and alarms.
 *
 * Every method is synchronous SQL: a call commits atomically, and the object's output gate holds
 * its answers (and its WebSocket frames) until the writes are durable.
 */
import { LIMITS } from "../config";
import { type Failure, fail } from "../errors";
import type { DeliverFrame } from "../protocol/frames";
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import { encodePayload } from "../protocol/payload";
import { type MessageRow, MessageStore, type OwnedRow, toStored } from "../storage/message-store";
import { answerBytes, ByteBudget } from "./byte-budget";
import { type Consumer, ConsumerSet } from "./consumers";
import { MessageCounters } from "./message-counters";

export interface QueueStats {
  readonly messages: number;
  readonly messages_ready: number;
  readonly messages_unacknowledged: number;
  readonly consumers: number;
  readonly message_bytes: number;
}

export interface QueuePolicy {
  readonly singleActiveConsumer: boolean;
  /** Returns allowed before a message is dropped (x-delivery-limit); undefined = unlimited. */
  readonly deliveryLimit: number | undefined;
}

export interface Leased extends StoredMessage {
  readonly lease: string;
}

export interface Settlement {
  readonly lease: string;
  readonly ok: boolean;
  readonly reason?: string;
}

type Send = (connection: string, frame: DeliverFrame) => void;

/** How dispatch consults its surroundings (src/objects/socket-access.ts, the queue object). */
export interface DispatchGate {
  /** Whether a connection's access is known to be current: checked per delivery, so cheap. */
  readonly mayDeliver: (connection: string) => boolean;
  /** A pass stopped at LIMITS.maxDeliverBytes with messages left: dispatch again soon. */
  readonly resumeLater: () => void;
}

const OPEN_GATE: DispatchGate = { mayDeliver: () => true, resumeLater: () => undefined };

const connectionOwner = (connection: string) => `c:${connection}`;
const leaseOwner = (lease: string) => `l:${lease}`;

export class QueueEngine {
  private readonly store: MessageStore;
  readonly consumers: ConsumerSet;
  /** Published / delivered / acknowledged totals for /metrics (message-counters.ts). */
  readonly counters: MessageCounters;
  private ready = 0;
  private readyBytes = 0;
  private unacked = 0;
  private unackedBytes = 0;

  constructor(
    sql: SqlStorage,
    private readonly policy: () => QueuePolicy,
    private readonly send: Send,
    private readonly gate: DispatchGate = OPEN_GATE,
  ) {
    this.store = new MessageStore(sql);
    this.consumers = new ConsumerSet(sql);
    this.counters = new MessageCounters(sql);
    this.recount();
    for (const { owner, consumer_tag, n } of this.store.ownedCounts()) {
      const consumer = this.consumers
        .all()
        .find((c) => connectionOwner(c.connection) === owner && c.tag === consumer_tag);
      if (consumer) consumer.unacked = n;
    }
  }

  stats(): QueueStats {
    return {
      messages: this.ready + this.unacked,
      messages_ready: this.ready,
      messages_unacknowledged: this.unacked,
      consumers: this.consumers.size,
      message_bytes: this.readyBytes + this.unackedBytes,
    };
  }

  enqueue(messages: readonly PublishedMessage[], now: number): void {
    this.readyBytes += this.store.insert(messages);
    this.ready += messages.length;
    this.counters.published(messages.length);
    this.dispatch(now);
  }

  /** Delivers ready messages to consumers with room, in queue order, taking turns. */
  dispatch(now: number): void {
    const { singleActiveConsumer } = this.policy();
    const { mayDeliver } = this.gate;
    const budget = new ByteBudget(LIMITS.maxDeliverBytes);
    while (this.ready > 0 && this.consumers.size > 0) {
      // Read only as many messages as the consumers have room for: an ack frees one place, and
      // must not cost a read of a whole chunk of bodies.
      const room = this.consumers.capacity(singleActiveConsumer, mayDeliver);
      if (room === 0) break;
      const rows = this.store.ready(Math.min(room, LIMITS.dispatchChunk), now);
      if (rows.length === 0) break;
      let delivered = 0;
      for (const row of rows) {
        if (!budget.admit(answerBytes(row))) break;
        const consumer = this.consumers.next(singleActiveConsumer, mayDeliver);
        if (!consumer) break;
        this.deliver(row, consumer, now);
        delivered++;
      }
      if (delivered < rows.length) break;
    }
    this.consumers.persistTags();
    if (budget.exhausted) this.gate.resumeLater();
    this.counters.flush();
  }

  private deliver(row: MessageRow, consumer: Consumer, now: number): void {
    const deliveryTag = this.consumers.takeDeliveryTag(consumer.connection);
    const bytes = row.body.byteLength;
    this.ready--;
    this.readyBytes -= bytes;
    if (consumer.autoAck) {
      this.store.remove(row.seq);
    } else {
      const deadline = now + consumer.ackTimeoutMs;
      this.store.assign(
        row.seq,
        connectionOwner(consumer.connection),
        consumer.tag,
        deliveryTag,
        deadline,
      );
      consumer.unacked++;
      this.unacked++;
      this.unackedBytes += bytes;
    }
    this.counters.delivered(1, row.redelivered ? 1 : 0, false);
    this.send(consumer.connection, deliverFrame(toStored(row), consumer.tag, deliveryTag));
  }

  /** The management API's get: a look (requeue modes) or a take, at most `count` messages. */
  get(count: number, requeue: boolean, now: number): (StoredMessage & { remaining: number })[] {
    const rows = this.withinBudget(this.store.ready(count, now), LIMITS.maxGetBytes);
    const before = this.ready;
    for (const row of rows) {
      if (requeue) {
        this.store.markRedelivered(row.seq);
      } else {
        // reject_requeue_false dead-letters in RabbitMQ: the dead-letter hook goes here.
        this.store.remove(row.seq);
        this.ready--;
        this.readyBytes -= row.body.byteLength;
      }
    }
    this.counters.delivered(rows.length, rows.filter((row) => row.redelivered).length, true);
    this.counters.flush();
    return rows.map((row, index) => ({ ...toStored(row), remaining: before - index - 1 }));
  }

  consume(
    connection: string,
    request: Omit<Consumer, "connection" | "registered" | "unacked">,
    now: number,
    queueName: string,
  ): Failure | null {
    if (this.consumers.find(connection, request.tag)) {
      return fail(
        "bad_request",
        `consumer tag '${request.tag}' is already in use on this connection`,
      );
    }
    const exclusiveHolder = this.consumers.all().some((c) => c.exclusive);
    if (exclusiveHolder || (request.exclusive && this.consumers.size > 0)) {
      return fail("access_refused", `queue '${queueName}' in exclusive use`);
    }
    this.consumers.add({ ...request, connection }, now);
    this.consumers.persistTags();
    return null;
  }

  /** Stops a consumer; what it holds stays owned by its connection and can still be acked. */
  cancel(connection: string, tag: string): boolean {
    return this.consumers.remove(connection, tag) !== undefined;
  }

  /** Acks (`requeue` undefined) or nacks deliveries of a connection; false for an unknown tag. */
  settleDeliveries(
    connection: string,
    deliveryTag: number,
    multiple: boolean,
    outcome: "ack" | "requeue" | "drop",
    now: number,
  ): boolean {
    const rows = this.store.owned(connectionOwner(connection), deliveryTag, multiple);
    if (rows.length === 0) return false;
    if (outcome === "ack") this.counters.acknowledged(rows.length);
    for (const row of rows) {
      if (outcome === "ack") this.drop(row);
      else if (outcome === "requeue") this.giveBack(row, 0);
      else this.drop(row); // nack without requeue: dead-letter hook
    }
    this.dispatch(now);
    return true;
  }

  extend(connection: string, deliveryTag: number, multiple: boolean, deadline: number): boolean {
    const rows = this.store.owned(connectionOwner(connection), deliveryTag, multiple);
    for (const row of rows) this.store.extend(row.seq, deadline);
    return rows.length > 0;
  }

  /** A connection closed or dropped: its consumers go and every delivery it held is returned. */
  closeConnection(connection: string, now: number): void {
    this.consumers.closeConnection(connection);
    for (const row of this.store.owned(connectionOwner(connection))) this.giveBack(row, 0);
    this.dispatch(now);
  }

  /** Leases up to `count` ready messages to a pull consumer for `visibilityMs`. */
  pull(count: number, visibilityMs: number, now: number): Leased[] {
    const leased: Leased[] = [];
    // Only what fits one answer is leased: a lease nobody received would hold its message
    // until the visibility timeout.
    for (const row of this.withinBudget(this.store.ready(count, now), LIMITS.maxPullBytes)) {
      const lease = crypto.randomUUID();
      this.store.assign(row.seq, leaseOwner(lease), null, null, now + visibilityMs);
      this.ready--;
      this.readyBytes -= row.body.byteLength;
      this.unacked++;
      this.unackedBytes += row.body.byteLength;
      leased.push({ ...toStored(row), lease });
    }
    this.counters.delivered(leased.length, leased.filter((m) => m.redelivered).length, true);
    this.counters.flush();
    return leased;
  }

  settleLease(
    lease: string,
    outcome: "ack" | "requeue" | "drop",
    delayMs: number,
    now: number,
  ): Settlement {
    const [row] = this.store.owned(leaseOwner(lease));
    if (!row) return { lease, ok: false, reason: "unknown or expired lease" };
    if (outcome === "requeue") this.giveBack(row, delayMs > 0 ? now + delayMs : 0);
    else this.drop(row);
    if (outcome === "ack") {
      this.counters.acknowledged(1);
      this.counters.flush();
    }
    return { lease, ok: true };
  }

  /** Returns every delivery and lease whose deadline has passed; answers how many. */
  expire(now: number): number {
    const rows = this.store.expired(now);
    for (const row of rows) this.giveBack(row, 0);
    if (rows.length > 0) this.dispatch(now);
    return rows.length;
  }

  /** After a restart without hibernation, deliveries of connections that no longer exist return. */
  releaseOrphans(live: Set<string>, now: number): void {
    for (const connection of this.consumers.connections()) {
      if (!live.has(connection)) this.consumers.closeConnection(connection);
    }
    for (const owner of this.store.owners()) {
      if (owner.startsWith("c:") && !live.has(owner.slice(2))) {
        for (const row of this.store.owned(owner)) this.giveBack(row, 0);
      }
    }
    this.dispatch(now);
  }

  purge(): number {
    const purged = this.ready;
    this.store.purgeReady();
    this.ready = 0;
    this.readyBytes = 0;
    return purged;
  }

  clear(): void {
    this.store.clear();
    for (const connection of this.consumers.connections())
      this.consumers.closeConnection(connection);
    this.recount();
  }

  nextWakeup(now: number): number | null {
    return this.store.nextWakeup(now);
  }

  /** The leading rows that fit `limit` bytes of answer (at least one). */
  private withinBudget(rows: MessageRow[], limit: number): MessageRow[] {
    const budget = new ByteBudget(limit);
    const fitting: MessageRow[] = [];
    for (const row of rows) {
      if (!budget.admit(answerBytes(row))) break;
      fitting.push(row);
    }
    return fitting;
  }

  private recount(): void {
    const counts = this.store.counts();
    this.ready = counts.ready;
    this.readyBytes = counts.readyBytes;
    this.unacked = counts.unacked;
    this.unackedBytes = counts.unackedBytes;
  }

  /** Acked, or dropped by a nack/reject without requeue. */
  private drop(row: OwnedRow): void {
    this.store.remove(row.seq);
    this.forgetDelivery(row);
  }

  /** Returns a delivery to its place, unless it has been returned more than x-delivery-limit. */
  private giveBack(row: OwnedRow, availableAt: number): void {
    const { deliveryLimit } = this.policy();
    this.forgetDelivery(row);
    if (deliveryLimit !== undefined && row.delivery_count > deliveryLimit) {
      // Dropped as RabbitMQ's quorum queues do; dead-lettering (x-dead-letter-exchange) will
      // route it here once queue features arrive.
      this.store.remove(row.seq);
      return;
    }
    this.store.release(row.seq, availableAt);
    this.ready++;
    this.readyBytes += row.bytes;
  }

  private forgetDelivery(row: OwnedRow): void {
    this.unacked--;
    this.unackedBytes -= row.bytes;
    if (row.owner.startsWith("c:") && row.consumer_tag !== null) {
      const consumer = this.consumers.find(row.owner.slice(2), row.consumer_tag);
      if (consumer) consumer.unacked--;
    }
  }
}

/** A delivery as the consumer sees it; a redelivery carries x-delivery-count in its headers. */
export function deliverFrame(
  message: StoredMessage,
  tag: string,
  deliveryTag: number,
): DeliverFrame {
  const previous = message.deliveryCount;
  const properties: Record<string, unknown> =
    previous > 0
      ? {
          ...message.properties,
          headers: { ...message.properties.headers, "x-delivery-count": previous },
        }
      : message.properties;
  return {
    type: "deliver",
    tag,
    delivery_tag: deliveryTag,
    redelivered: message.redelivered,
    delivery_count: previous + 1,
    exchange: message.exchange,
    routing_key: message.routingKey,
    properties,
    ...encodePayload(message.body, "auto"),
  };
}
