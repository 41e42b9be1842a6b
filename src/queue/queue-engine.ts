/**
 * What a queue does with its messages, independent of how requests reach it: store, dispatch to
 * consumers, settle acks and nacks, return deliveries whose connection closed or whose deadline
 * passed, lease messages to pull consumers, and count. The queue object wires it to RPC,
 * WebSockets and alarms. This class is the one entry; each concern lives in its own module:
 * dispatch.ts (deliveries to consumers), delivery-returns.ts (acks, rejects, returns and the
 * delivery limit), dead-letters.ts, length-limit.ts, message-expiry.ts (TTL), queue-counts.ts;
 * the frames it sends are built in src/protocol/deliver-frame.ts.
 *
 * Every method is synchronous SQL: a call commits atomically, and the object's output gate holds
 * its answers (and its WebSocket frames) until the writes are durable.
 */
import { LIMITS } from "../config";
import { type Failure, fail } from "../errors";
import type { DeadLetterTarget } from "../protocol/dead-letter";
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import { MessageStats, QUEUE_EVENTS, type QueueEvent } from "../runtime/message-stats";
import { ConsumerStore } from "../storage/consumer-store";
import { type MessageRow, MessageStore, type OwnedRow, toStored } from "../storage/message-store";
import { QueueMetaStore } from "../storage/queue-meta-store";
import { answerBytes, ByteBudget } from "./byte-budget";
import { type Consumer, ConsumerSet } from "./consumers";
import { DeadLetters, type PendingDeadLetter } from "./dead-letters";
import { DeliveryReturns } from "./delivery-returns";
import { DeliveryState, type DeliveryWrites, type HeldDelivery } from "./delivery-state";
import {
  connectionOwner,
  countHandedOut,
  Dispatcher,
  type DispatchGate,
  OPEN_GATE,
  type Send,
} from "./dispatch";
import { LengthLimit } from "./length-limit";
import { expiresAt, MessageExpiry } from "./message-expiry";
import { type OverflowMode, refusedByLimits } from "./overflow";
import { QueueCounts } from "./queue-counts";
import { ReadyCursor } from "./ready-cursor";

export type { DispatchGate } from "./dispatch";
export { expiresAt } from "./message-expiry";

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
  /** x-max-length / x-max-length-bytes over ready messages. */
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  /** x-max-priority: the highest priority a message may have; undefined = not a priority queue. */
  readonly maxPriority?: number;
  /** x-expires: milliseconds unused before the queue is deleted (the queue object applies it). */
  readonly expires?: number;
  /** x-overflow: what happens at the limit; undefined = drop-head, RabbitMQ's default. */
  readonly overflow?: OverflowMode;
}

export interface Leased extends StoredMessage {
  readonly lease: string;
}

export interface Settlement {
  readonly lease: string;
  readonly ok: boolean;
  readonly reason?: string;
}

/** Which deliveries a settling frame names: one tag (with `multiple`) and/or a list. */
export interface TagSelection {
  readonly deliveryTag?: number;
  readonly multiple: boolean;
  readonly deliveryTags?: readonly number[];
}

const leaseOwner = (lease: string) => `l:${lease}`;

/** Runs a flush of held delivery state later, in a transaction of its own (the object's timer). */
export type FlushLater = (flush: () => void, ms: number) => void;

const TIMER_FLUSH: FlushLater = (flush, ms) => {
  setTimeout(flush, ms);
};

export class QueueEngine {
  private readonly store: MessageStore;
  readonly consumers: ConsumerSet;
  /** message_stats: in-memory counters, no storage (see message-stats.ts). */
  readonly rates = new MessageStats<QueueEvent>(QUEUE_EVENTS);
  private readonly counts: QueueCounts;
  private readonly expiry: MessageExpiry;
  private readonly deadLetters: DeadLetters;
  private readonly lengthLimit: LengthLimit;
  private readonly returns: DeliveryReturns;
  private readonly dispatcher: Dispatcher;
  /** Delivery state and acks not yet written (src/queue/delivery-state.ts). */
  private readonly held: DeliveryState;
  /** Ready rows read ahead for dispatch (src/queue/ready-cursor.ts). */
  private readonly cursor: ReadyCursor;

  constructor(
    sql: SqlStorage,
    private readonly policy: () => QueuePolicy,
    send: Send,
    private readonly gate: DispatchGate = OPEN_GATE,
    later: FlushLater = TIMER_FLUSH,
  ) {
    // A priority queue (x-max-priority) hands out by priority, then in order.
    const store = new MessageStore(sql, () => this.policy().maxPriority !== undefined);
    this.store = store;
    const meta = new QueueMetaStore(sql);
    // A run that ended without writing what it held in memory (a crash, a reset): every ready
    // message it may have delivered is flagged redelivered before anything is handed out.
    const markedThrough = meta.deliveredThrough();
    if (markedThrough > 0) {
      store.markRedeliveredThrough(markedThrough);
      meta.setDeliveredThrough(null);
    }
    this.consumers = new ConsumerSet(new ConsumerStore(sql));
    this.held = new DeliveryState({
      write: (writes) => this.writeHeld(writes),
      mark: (through) => meta.setDeliveredThrough(through),
      later: (flush, ms) => later(flush, ms),
    });
    this.counts = new QueueCounts(store);
    this.expiry = new MessageExpiry(store);
    this.deadLetters = new DeadLetters(store, policy);
    this.lengthLimit = new LengthLimit(store, this.counts, this.deadLetters, policy);
    const { consumers, counts, expiry, deadLetters, lengthLimit, rates } = this;
    this.returns = new DeliveryReturns({
      store,
      consumers,
      counts,
      expiry,
      deadLetters,
      lengthLimit,
      policy,
    });
    const held = this.held;
    const cursor = new ReadyCursor(store);
    this.cursor = cursor;
    this.dispatcher = new Dispatcher({
      ...{ store, consumers, counts, rates, policy, send, gate },
      ...{ held, cursor },
    });
    for (const { owner, consumer_tag, n } of store.ownedCounts()) {
      const consumer = consumers
        .all()
        .find((c) => connectionOwner(c.connection) === owner && c.tag === consumer_tag);
      if (consumer) consumer.unacked = n;
    }
  }

  /** When the earliest ready message expires (null: none will). */
  get expiryDue(): number | null {
    return this.expiry.due;
  }

  /** Messages are set aside for the dead-letter exchange: the queue object sends them. */
  get deadLettersPending(): boolean {
    return this.deadLetters.pending;
  }

  stats(): QueueStats {
    const { ready, readyBytes, unacked, unackedBytes } = this.counts;
    return {
      messages: ready + unacked,
      messages_ready: ready,
      messages_unacknowledged: unacked,
      consumers: this.consumers.size,
      message_bytes: readyBytes + unackedBytes,
    };
  }

  /**
   * Writes the delivery state and acks held in memory (src/queue/delivery-state.ts). Every path
   * that reads delivery state or ready rows from storage, other than dispatch and acks, calls
   * this first; the object's timer calls it within FLUSH_MS of a change.
   */
  flushDeliveries(): void {
    this.held.flush();
  }

  /**
   * Before a path other than dispatch and acks works on stored delivery state or ready rows:
   * what is held in memory is written, and dispatch reads the ready rows from the head again.
   */
  private touch(): void {
    this.held.flush();
    this.cursor.reset();
  }

  /** Whether delivery state waits in memory to be written (its timer is pending). */
  get deliveriesPending(): boolean {
    return this.held.pending;
  }

  private writeHeld({ delivered, acked }: DeliveryWrites): void {
    this.store.removeMany(acked);
    this.store.assignEach(
      delivered.map((d) => ({
        seq: d.seq,
        owner: connectionOwner(d.connection),
        consumerTag: d.consumerTag,
        deliveryTag: d.deliveryTag,
        deadline: d.deadline,
      })),
    );
    this.consumers.persistTags();
  }

  /**
   * Stores a publish batch in order and offers it to the consumers. Answers the indexes of the
   * messages a full queue refused (x-overflow reject-publish and reject-publish-dlx; the latter
   * also dead-letters them with reason `maxlen`, as RabbitMQ 3.10 does).
   */
  enqueue(all: readonly PublishedMessage[], now: number): number[] {
    this.sweepExpired(now);
    const policy = this.policy();
    const { messageTtl, maxPriority } = policy;
    const refused = rejects(policy.overflow) ? this.refused(all, policy) : [];
    let messages = all;
    if (refused.length > 0) {
      const out = new Set(refused);
      messages = all.filter((_, index) => !out.has(index));
      if (policy.overflow === "reject-publish-dlx" && policy.deadLetter !== undefined) {
        this.store.insertDeadLetters(
          refused.map((index) => all[index] as PublishedMessage),
          "maxlen",
        );
        this.deadLetters.pending = true;
      }
    }
    this.counts.readyBytes += this.store.insert(
      messages,
      (message) => {
        const at = expiresAt(message, messageTtl, now);
        this.expiry.note(at);
        return at;
      },
      maxPriority === undefined ? undefined : (message) => priorityOf(message, maxPriority),
    );
    this.counts.ready += messages.length;
    this.rates.add("publish", messages.length);
    // A message with TTL 0 still goes to a consumer that can take it at once (RabbitMQ's rule),
    // so this pass counts messages expiring now as alive. Then x-max-length, over what is left.
    this.dispatcher.run(now, now - 1);
    if (this.lengthLimit.wouldDrop()) this.touch();
    this.lengthLimit.enforce();
    return refused;
  }

  private refused(messages: readonly PublishedMessage[], policy: QueuePolicy): number[] {
    const { ready, readyBytes } = this.counts;
    const room =
      ready === 0 ? this.consumers.capacity(policy.singleActiveConsumer, this.gate.mayDeliver) : 0;
    return refusedByLimits(messages, { ready, readyBytes, room }, policy);
  }

  /** The queue's limits changed (a policy applied): the head goes if it is now over them. */
  limitsChanged(now: number): void {
    this.touch();
    this.sweepExpired(now);
    this.lengthLimit.enforce();
  }

  /**
   * Deletes the ready messages whose TTL has passed, wherever they are in the queue, at most
   * LIMITS.expiryChunk per call (the alarm comes back at once for the rest). Answers how many.
   */
  sweepExpired(now: number): number {
    if (!this.expiry.isDue(now)) return 0;
    // The sweep deletes ready rows: rows delivered in memory only must be written as owned first.
    this.touch();
    const deadLetter = this.policy().deadLetter !== undefined;
    const sizes = deadLetter
      ? this.store.markExpired(now, LIMITS.expiryChunk)
      : this.store.deleteExpired(now, LIMITS.expiryChunk);
    if (deadLetter && sizes.length > 0) this.deadLetters.pending = true;
    for (const bytes of sizes) this.counts.readyBytes -= bytes;
    this.counts.ready -= sizes.length;
    this.expiry.reread();
    return sizes.length;
  }

  /** Delivers ready messages to consumers with room (src/queue/dispatch.ts). */
  dispatch(now: number): void {
    this.sweepExpired(now);
    this.dispatcher.run(now, now);
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
    this.touch();
    this.sweepExpired(now);
    const rows = withinBudget(this.store.ready(count, now), LIMITS.maxGetBytes);
    const before = this.counts.ready;
    countHandedOut(this.rates, rows);
    const taken: number[] = [];
    for (const row of rows) {
      if (requeue) {
        this.store.markRedelivered(row.seq);
      } else {
        taken.push(row.seq);
        this.counts.takeReady(row.body.byteLength);
      }
    }
    if (reject) this.deadLetters.retire(taken, "rejected");
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
    delayMs = 0,
  ): number[] {
    // Acks settle in memory (written later); nacks and rejects work on written state.
    if (outcome !== "ack") this.touch();
    const owner = connectionOwner(connection);
    const unknown: number[] = [];
    const rows = new Map<number, OwnedRow>();
    const heldFound = new Map<number, HeldDelivery>();
    const stored = (found: OwnedRow[]) => {
      for (const row of found) if (!this.held.isAcked(row.seq)) rows.set(row.seq, row);
    };
    if (selection.deliveryTag !== undefined) {
      const tag = selection.deliveryTag;
      const inMemory = selection.multiple
        ? this.held.upTo(connection, tag)
        : [this.held.find(connection, tag)].filter((d): d is HeldDelivery => d !== undefined);
      for (const d of inMemory) heldFound.set(d.seq, d);
      // A single tag held in memory is not in storage; `multiple` may span both.
      const found =
        selection.multiple || inMemory.length === 0
          ? this.store.owned(owner, tag, selection.multiple)
          : [];
      stored(found);
      if (inMemory.length === 0 && !found.some((row) => rows.has(row.seq))) unknown.push(tag);
    }
    if (selection.deliveryTags !== undefined && selection.deliveryTags.length > 0) {
      const notHeld: number[] = [];
      for (const tag of new Set(selection.deliveryTags)) {
        const d = this.held.find(connection, tag);
        if (d) heldFound.set(d.seq, d);
        else notHeld.push(tag);
      }
      if (notHeld.length > 0) {
        const found = this.store.ownedTags(owner, notHeld);
        stored(found);
        const known = new Set(
          found.filter((row) => rows.has(row.seq)).map((row) => row.delivery_tag),
        );
        for (const tag of notHeld) if (!known.has(tag)) unknown.push(tag);
      }
    }
    if (rows.size === 0 && heldFound.size === 0) return unknown;
    const settled = [...rows.values()];
    if (outcome === "ack") {
      this.rates.add("ack", settled.length + heldFound.size);
      for (const d of heldFound.values()) {
        this.held.ackHeld(d);
        this.returns.forget(d.bytes, connection, d.consumerTag);
      }
      for (const row of settled) {
        this.held.ackStored(row.seq);
        this.returns.forgetRow(row);
      }
    } else if (outcome === "requeue") {
      this.returns.giveBack(settled, delayMs > 0 ? now + delayMs : 0);
    } else this.returns.drop(settled, "rejected");
    this.dispatch(now);
    return unknown;
  }

  extend(connection: string, deliveryTag: number, multiple: boolean, deadline: number): boolean {
    this.touch();
    const rows = this.store.owned(connectionOwner(connection), deliveryTag, multiple);
    for (const row of rows) this.store.extend(row.seq, deadline);
    return rows.length > 0;
  }

  /** A connection closed or dropped: its consumers go and every delivery it held is returned. */
  closeConnection(connection: string, now: number): void {
    this.touch();
    this.consumers.closeConnection(connection);
    this.returns.giveBack(this.store.owned(connectionOwner(connection)), 0);
    this.dispatch(now);
  }

  /** Leases up to `count` ready messages to a pull consumer for `visibilityMs`. */
  pull(count: number, visibilityMs: number, now: number): Leased[] {
    const leased: Leased[] = [];
    this.touch();
    this.sweepExpired(now);
    // Only what fits one answer is leased: a lease nobody received would hold its message
    // until the visibility timeout.
    const rows = withinBudget(this.store.ready(count, now), LIMITS.maxPullBytes);
    countHandedOut(this.rates, rows);
    for (const row of rows) {
      const lease = crypto.randomUUID();
      this.store.assign(row.seq, leaseOwner(lease), null, null, now + visibilityMs);
      this.counts.handOut(row.body.byteLength);
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
    this.touch();
    const [row] = this.store.owned(leaseOwner(lease));
    if (!row) return { lease, ok: false, reason: "unknown or expired lease" };
    if (outcome === "requeue") this.returns.giveBack([row], delayMs > 0 ? now + delayMs : 0);
    else this.returns.drop([row], outcome === "drop" ? "rejected" : null);
    if (outcome === "ack") this.rates.add("ack");
    return { lease, ok: true };
  }

  /** Returns every delivery and lease whose deadline has passed; answers how many. */
  expire(now: number): number {
    this.touch();
    const rows = this.store.expired(now);
    this.returns.giveBack(rows, 0);
    this.dispatch(now);
    return rows.length;
  }

  /** After a restart without hibernation, deliveries of connections that no longer exist return. */
  releaseOrphans(live: Set<string>, now: number): void {
    this.touch();
    for (const connection of this.consumers.connections()) {
      if (!live.has(connection)) this.consumers.closeConnection(connection);
    }
    for (const owner of this.store.owners()) {
      if (owner.startsWith("c:") && !live.has(owner.slice(2))) {
        this.returns.giveBack(this.store.owned(owner), 0);
      }
    }
    this.dispatch(now);
  }

  purge(): number {
    this.touch();
    const purged = this.counts.ready;
    this.store.purgeReady();
    this.counts.clearReady();
    this.expiry.clear();
    return purged;
  }

  clear(): void {
    this.held.discard();
    this.cursor.reset();
    this.store.clear();
    for (const connection of this.consumers.connections())
      this.consumers.closeConnection(connection);
    this.counts.recount();
    this.expiry.clear();
  }

  /** The earliest time something must happen: a deadline, a delayed message or an expiry. */
  nextWakeup(now: number): number | null {
    const times = [this.store.nextWakeup(now), this.expiry.due, this.held.earliestDeadline];
    let next: number | null = null;
    for (const t of times) if (t !== null && (next === null || t < next)) next = t;
    return next;
  }

  /** The next messages waiting for the dead-letter exchange, with their reasons. */
  pendingDeadLetters(limit: number): PendingDeadLetter[] {
    this.touch();
    return this.deadLetters.next(limit);
  }

  /** Their copies are stored (or have nowhere to go): the originals leave. */
  forgetDeadLetters(seqs: readonly number[]): void {
    this.deadLetters.forget(seqs);
  }
}

/** A message's priority in a queue of x-max-priority `max`: its `priority` property, capped. */
export function priorityOf(message: PublishedMessage, max: number): number {
  return Math.min(message.properties.priority ?? 0, max);
}

/** x-overflow reject-publish(-dlx): a full queue refuses publishes instead of dropping its head. */
export function rejects(overflow: OverflowMode | undefined): boolean {
  return overflow === "reject-publish" || overflow === "reject-publish-dlx";
}

/** The leading rows that fit `limit` bytes of answer (at least one). */
function withinBudget(rows: MessageRow[], limit: number): MessageRow[] {
  const budget = new ByteBudget(limit);
  const fitting: MessageRow[] = [];
  for (const row of rows) {
    if (!budget.admit(answerBytes(row))) break;
    fitting.push(row);
  }
  return fitting;
}
