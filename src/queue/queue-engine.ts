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
import type { DeadLetterReason, DeadLetterTarget } from "../protocol/dead-letter";
import { batchedDelivery, deliverBatchFrame, deliverFrame } from "../protocol/deliver-frame";
import type { BatchedDelivery, DeliverBatchFrame, DeliverFrame } from "../protocol/frames";
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import { MessageStats, QUEUE_EVENTS, type QueueEvent } from "../runtime/message-stats";
import { ConsumerStore } from "../storage/consumer-store";
import { type MessageRow, MessageStore, type OwnedRow, toStored } from "../storage/message-store";
import { answerBytes, ByteBudget } from "./byte-budget";
import { type Consumer, ConsumerSet } from "./consumers";

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
  /** x-message-ttl in milliseconds; undefined = messages live until consumed. */
  readonly messageTtl: number | undefined;
  /** x-dead-letter-exchange (and routing key); undefined = dropped messages are discarded. */
  readonly deadLetter: DeadLetterTarget | undefined;
  /** x-max-length / x-max-length-bytes over ready messages, with x-overflow drop-head. */
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
}

export interface Leased extends StoredMessage {
  readonly lease: string;
}

export interface Settlement {
  readonly lease: string;
  readonly ok: boolean;
  readonly reason?: string;
}

type Send = (connection: string, frame: DeliverFrame | DeliverBatchFrame) => void;

/** Which deliveries a settling frame names: one tag (with `multiple`) and/or a list. */
export interface TagSelection {
  readonly deliveryTag?: number;
  readonly multiple: boolean;
  readonly deliveryTags?: readonly number[];
}

/** What one dispatch round gives one consumer: state to write, and its batched frame. */
interface RoundShare {
  assigned: [seq: number, deliveryTag: number][];
  frame: BatchedDelivery[];
  bytes: number;
}

/** How dispatch consults its surroundings (src/queue/socket-access.ts, the queue object). */
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
  /** message_stats: in-memory counters, no storage (see message-stats.ts). */
  readonly rates = new MessageStats<QueueEvent>(QUEUE_EVENTS);
  private ready = 0;
  private readyBytes = 0;
  private unacked = 0;
  private unackedBytes = 0;
  /** When the earliest ready message expires: the sweep costs nothing until then. */
  private nextExpiry: number | null;
  /** Messages are set aside for the dead-letter exchange: the queue object sends them. */
  deadLettersPending: boolean;

  constructor(
    sql: SqlStorage,
    private readonly policy: () => QueuePolicy,
    private readonly send: Send,
    private readonly gate: DispatchGate = OPEN_GATE,
  ) {
    this.store = new MessageStore(sql);
    this.consumers = new ConsumerSet(new ConsumerStore(sql));
    this.recount();
    this.nextExpiry = this.store.nextExpiry();
    this.deadLettersPending = this.store.deadLetters(1).length > 0;
    for (const { owner, consumer_tag, n } of this.store.ownedCounts()) {
      const consumer = this.consumers
        .all()
        .find((c) => connectionOwner(c.connection) === owner && c.tag === consumer_tag);
      if (consumer) consumer.unacked = n;
    }
  }

  /** When the earliest ready message expires (null: none will). */
  get expiryDue(): number | null {
    return this.nextExpiry;
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
    this.sweepExpired(now);
    const { messageTtl } = this.policy();
    this.readyBytes += this.store.insert(messages, (message) => {
      const at = expiresAt(message, messageTtl, now);
      if (at !== null && (this.nextExpiry === null || at < this.nextExpiry)) this.nextExpiry = at;
      return at;
    });
    this.ready += messages.length;
    this.rates.add("publish", messages.length);
    // A message with TTL 0 still goes to a consumer that can take it at once (RabbitMQ's rule),
    // so this pass counts messages expiring now as alive.
    this.deliverReady(now, now - 1);
    this.dropHead();
  }

  /**
   * x-overflow drop-head (RabbitMQ's default): while the ready messages exceed x-max-length or
   * x-max-length-bytes, the oldest go (dead-lettered with reason `maxlen` when the queue has a
   * dead-letter exchange), in one statement per chunk. Runs after dispatch, so what a consumer
   * took at once does not count.
   */
  private dropHead(): void {
    const { maxLength, maxLengthBytes } = this.policy();
    if (maxLength === undefined && maxLengthBytes === undefined) return;
    const over = () =>
      (maxLength !== undefined && this.ready > maxLength) ||
      (maxLengthBytes !== undefined && this.readyBytes > maxLengthBytes);
    while (over()) {
      const head = this.store.head(LIMITS.expiryChunk);
      if (head.length === 0) break;
      const dropped: number[] = [];
      for (const row of head) {
        if (!over()) break;
        dropped.push(row.seq);
        this.ready--;
        this.readyBytes -= row.bytes;
      }
      this.retire(dropped, "maxlen");
    }
  }

  /**
   * Deletes the ready messages whose TTL has passed, wherever they are in the queue, at most
   * LIMITS.expiryChunk per call (the alarm comes back at once for the rest). Answers how many.
   */
  sweepExpired(now: number): number {
    if (this.nextExpiry === null || this.nextExpiry > now) return 0;
    const deadLetter = this.policy().deadLetter !== undefined;
    const sizes = deadLetter
      ? this.store.markExpired(now, LIMITS.expiryChunk)
      : this.store.deleteExpired(now, LIMITS.expiryChunk);
    if (deadLetter && sizes.length > 0) this.deadLettersPending = true;
    for (const bytes of sizes) this.readyBytes -= bytes;
    this.ready -= sizes.length;
    this.nextExpiry = this.store.nextExpiry();
    return sizes.length;
  }

  /**
   * Delivers ready messages to consumers with room, in queue order, taking turns. The round's
   * delivery state is written with one statement per consumer per chunk read (not one per
   * message), and a consumer that asked for batches gets the round's deliveries as one frame
   * (cut at LIMITS.maxDeliverFrameBytes).
   */
  dispatch(now: number): void {
    this.sweepExpired(now);
    this.deliverReady(now, now);
  }

  private deliverReady(now: number, liveAfter: number): void {
    const { singleActiveConsumer } = this.policy();
    const round = new Map<Consumer, RoundShare>();
    const { mayDeliver } = this.gate;
    const budget = new ByteBudget(LIMITS.maxDeliverBytes);
    while (this.ready > 0 && this.consumers.size > 0) {
      // Read only as many messages as the consumers have room for: an ack frees one place, and
      // must not cost a read of a whole chunk of bodies.
      const room = this.consumers.capacity(singleActiveConsumer, mayDeliver);
      if (room === 0) break;
      const rows = this.store.ready(Math.min(room, LIMITS.dispatchChunk), now, liveAfter);
      if (rows.length === 0) break;
      let delivered = 0;
      const removed: number[] = [];
      for (const row of rows) {
        if (!budget.admit(answerBytes(row))) break;
        const consumer = this.consumers.next(singleActiveConsumer, mayDeliver);
        if (!consumer) break;
        let share = round.get(consumer);
        if (!share) {
          share = { assigned: [], frame: [], bytes: 0 };
          round.set(consumer, share);
        }
        this.deliver(row, consumer, share, removed);
        delivered++;
      }
      this.store.removeMany(removed);
      for (const [consumer, share] of round) {
        this.store.assignMany(
          connectionOwner(consumer.connection),
          consumer.tag,
          now + consumer.ackTimeoutMs,
          share.assigned,
        );
        share.assigned = [];
      }
      if (delivered < rows.length) break;
    }
    for (const [consumer, share] of round) this.sendBatch(consumer, share);
    this.consumers.persistTags();
    if (budget.exhausted) this.gate.resumeLater();
  }

  private deliver(row: MessageRow, consumer: Consumer, share: RoundShare, removed: number[]): void {
    const deliveryTag = this.consumers.takeDeliveryTag(consumer.connection);
    const bytes = row.body.byteLength;
    this.ready--;
    this.readyBytes -= bytes;
    this.countHandedOut([row]);
    if (consumer.autoAck) {
      removed.push(row.seq);
    } else {
      share.assigned.push([row.seq, deliveryTag]);
      consumer.unacked++;
      this.unacked++;
      this.unackedBytes += bytes;
    }
    const frame = deliverFrame(toStored(row), consumer.tag, deliveryTag);
    if (!consumer.batch) {
      this.send(consumer.connection, frame);
      return;
    }
    if (share.frame.length > 0 && share.bytes + bytes > LIMITS.maxDeliverFrameBytes) {
      this.sendBatch(consumer, share);
    }
    share.frame.push(batchedDelivery(frame));
    share.bytes += bytes;
  }

  private sendBatch(consumer: Consumer, share: RoundShare): void {
    if (share.frame.length === 0) return;
    this.send(consumer.connection, deliverBatchFrame(consumer.tag, share.frame));
    share.frame = [];
    share.bytes = 0;
  }

  /**
   * The management API's get: a look (requeue modes) or a take, at most `count` messages; a take
   * with `reject` (reject_requeue_false) dead-letters them with reason `rejected`.
   */
  get(
    count: number,
    requeue: boolean,
    now: number,
    reject = false,
  ): (StoredMessage & { remaining: number })[] {
    this.sweepExpired(now);
    const rows = this.withinBudget(this.store.ready(count, now), LIMITS.maxGetBytes);
    const before = this.ready;
    this.countHandedOut(rows);
    const taken: number[] = [];
    for (const row of rows) {
      if (requeue) {
        this.store.markRedelivered(row.seq);
      } else {
        taken.push(row.seq);
        this.ready--;
        this.readyBytes -= row.body.byteLength;
      }
    }
    if (reject) this.retire(taken, "rejected");
    else this.store.removeMany(taken);
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

  /**
   * Acks or nacks deliveries of a connection: `deliveryTag` (with `multiple`, every one up to it)
   * and/or a list of tags, in one statement per outcome. Answers the tags this connection does
   * not hold (the others are settled).
   */
  settleDeliveries(
    connection: string,
    selection: TagSelection,
    outcome: "ack" | "requeue" | "drop",
    now: number,
  ): number[] {
    const owner = connectionOwner(connection);
    const unknown: number[] = [];
    const rows = new Map<number, OwnedRow>();
    if (selection.deliveryTag !== undefined) {
      const found = this.store.owned(owner, selection.deliveryTag, selection.multiple);
      if (found.length === 0) unknown.push(selection.deliveryTag);
      for (const row of found) rows.set(row.seq, row);
    }
    if (selection.deliveryTags !== undefined && selection.deliveryTags.length > 0) {
      const found = this.store.ownedTags(owner, selection.deliveryTags);
      const held = new Set(found.map((row) => row.delivery_tag));
      for (const tag of new Set(selection.deliveryTags)) if (!held.has(tag)) unknown.push(tag);
      for (const row of found) rows.set(row.seq, row);
    }
    if (rows.size === 0) return unknown;
    const settled = [...rows.values()];
    if (outcome === "ack") this.rates.add("ack", settled.length);
    if (outcome === "requeue") this.giveBack(settled, 0);
    else this.drop(settled, outcome === "drop" ? "rejected" : null);
    this.dispatch(now);
    return unknown;
  }

  extend(connection: string, deliveryTag: number, multiple: boolean, deadline: number): boolean {
    const rows = this.store.owned(connectionOwner(connection), deliveryTag, multiple);
    for (const row of rows) this.store.extend(row.seq, deadline);
    return rows.length > 0;
  }

  /** A connection closed or dropped: its consumers go and every delivery it held is returned. */
  closeConnection(connection: string, now: number): void {
    this.consumers.closeConnection(connection);
    this.giveBack(this.store.owned(connectionOwner(connection)), 0);
    this.dispatch(now);
  }

  /** Leases up to `count` ready messages to a pull consumer for `visibilityMs`. */
  pull(count: number, visibilityMs: number, now: number): Leased[] {
    const leased: Leased[] = [];
    this.sweepExpired(now);
    // Only what fits one answer is leased: a lease nobody received would hold its message
    // until the visibility timeout.
    const rows = this.withinBudget(this.store.ready(count, now), LIMITS.maxPullBytes);
    this.countHandedOut(rows);
    for (const row of rows) {
      const lease = crypto.randomUUID();
      this.store.assign(row.seq, leaseOwner(lease), null, null, now + visibilityMs);
      this.ready--;
      this.readyBytes -= row.body.byteLength;
      this.unacked++;
      this.unackedBytes += row.body.byteLength;
      leased.push({ ...toStored(row), lease });
    }
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
    if (outcome === "requeue") this.giveBack([row], delayMs > 0 ? now + delayMs : 0);
    else this.drop([row], outcome === "drop" ? "rejected" : null);
    if (outcome === "ack") this.rates.add("ack");
    return { lease, ok: true };
  }

  /** Returns every delivery and lease whose deadline has passed; answers how many. */
  expire(now: number): number {
    const rows = this.store.expired(now);
    this.giveBack(rows, 0);
    this.dispatch(now);
    return rows.length;
  }

  /** After a restart without hibernation, deliveries of connections that no longer exist return. */
  releaseOrphans(live: Set<string>, now: number): void {
    for (const connection of this.consumers.connections()) {
      if (!live.has(connection)) this.consumers.closeConnection(connection);
    }
    for (const owner of this.store.owners()) {
      if (owner.startsWith("c:") && !live.has(owner.slice(2))) {
        this.giveBack(this.store.owned(owner), 0);
      }
    }
    this.dispatch(now);
  }

  purge(): number {
    const purged = this.ready;
    this.store.purgeReady();
    this.ready = 0;
    this.readyBytes = 0;
    this.nextExpiry = null;
    return purged;
  }

  clear(): void {
    this.store.clear();
    for (const connection of this.consumers.connections())
      this.consumers.closeConnection(connection);
    this.recount();
    this.nextExpiry = null;
  }

  /** The earliest time something must happen: a deadline, a delayed message or an expiry. */
  nextWakeup(now: number): number | null {
    const next = this.store.nextWakeup(now);
    if (this.nextExpiry === null) return next;
    return next === null ? this.nextExpiry : Math.min(next, this.nextExpiry);
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

  /** deliver_get and redeliver (RabbitMQ: deliveries and gets of messages flagged redelivered). */
  private countHandedOut(rows: readonly MessageRow[]): void {
    this.rates.add("deliver_get", rows.length);
    let redelivered = 0;
    for (const row of rows) if (row.redelivered === 1) redelivered++;
    this.rates.add("redeliver", redelivered);
  }

  /**
   * Acked (reason null), or rejected by a nack/reject without requeue: one statement for them
   * all.
   */
  private drop(rows: readonly OwnedRow[], reason: DeadLetterReason | null): void {
    const seqs = rows.map((row) => row.seq);
    if (reason === null) this.store.removeMany(seqs);
    else this.retire(seqs, reason);
    for (const row of rows) this.forgetDelivery(row);
  }

  /**
   * Messages leaving the queue for `reason`: set aside for the dead-letter exchange when the
   * queue has one (they go once their copy is stored: src/queue/dead-letter-sender.ts), else deleted.
   */
  private retire(seqs: readonly number[], reason: DeadLetterReason): void {
    if (seqs.length === 0) return;
    if (this.policy().deadLetter === undefined) {
      this.store.removeMany(seqs);
      return;
    }
    this.store.markDeadLetter(seqs, reason);
    this.deadLettersPending = true;
  }

  /** The next messages waiting for the dead-letter exchange, with their reasons. */
  pendingDeadLetters(
    limit: number,
  ): { seq: number; reason: DeadLetterReason; message: StoredMessage }[] {
    const rows = this.store.deadLetters(limit);
    if (rows.length === 0) this.deadLettersPending = false;
    return rows.map((row) => ({
      seq: row.seq,
      reason: row.owner.slice(2) as DeadLetterReason,
      message: toStored(row),
    }));
  }

  /** Their copies are stored (or have nowhere to go): the originals leave. */
  forgetDeadLetters(seqs: readonly number[]): void {
    this.store.removeMany(seqs);
  }

  /** Returns deliveries to their places, except those returned more than x-delivery-limit. */
  private giveBack(rows: readonly OwnedRow[], availableAt: number): void {
    if (rows.length === 0) return;
    const { deliveryLimit } = this.policy();
    const back: number[] = [];
    const dropped: number[] = [];
    for (const row of rows) {
      this.forgetDelivery(row);
      if (deliveryLimit !== undefined && row.delivery_count > deliveryLimit) {
        // Dropped, or dead-lettered, as RabbitMQ's quorum queues do.
        dropped.push(row.seq);
      } else {
        back.push(row.seq);
        this.ready++;
        this.readyBytes += row.bytes;
        // A returned message keeps its expiry (RabbitMQ): it may be due already.
        if (
          row.expires_at !== null &&
          (this.nextExpiry === null || row.expires_at < this.nextExpiry)
        ) {
          this.nextExpiry = row.expires_at;
        }
      }
    }
    this.retire(dropped, "delivery_limit");
    this.store.releaseMany(back, availableAt);
    // Returned messages count again: over the limit, the head goes (RabbitMQ's requeue_and_run).
    if (back.length > 0) this.dropHead();
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

/**
 * When a message published `now` expires: the lower of the queue's x-message-ttl and the
 * message's `expiration` property (milliseconds, as a string), as in RabbitMQ; null = never.
 */
export function expiresAt(
  message: PublishedMessage,
  queueTtl: number | undefined,
  now: number,
): number | null {
  const expiration = message.properties.expiration;
  const own = expiration === undefined ? undefined : Number(expiration);
  const ttl = own === undefined ? queueTtl : queueTtl === undefined ? own : Math.min(own, queueTtl);
  return ttl === undefined ? null : now + ttl;
}
