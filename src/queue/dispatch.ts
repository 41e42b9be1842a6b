/**
 * Dispatch: ready messages to consumers with room, in queue order, taking turns (round-robin,
 * prefetch, single active consumer). A round's delivery state is written with one statement per
 * consumer per chunk read (not one per message); a consumer that asked for batches gets its
 * share of the round as one frame (cut at LIMITS.maxDeliverFrameBytes); a pass stops at
 * LIMITS.maxDeliverBytes and asks to be resumed.
 */
import { LIMITS } from "../config";
import { batchedDelivery, deliverBatchFrame, deliverFrame } from "../protocol/deliver-frame";
import type { BatchedDelivery, DeliverBatchFrame, DeliverFrame } from "../protocol/frames";
import type { MessageStats, QueueEvent } from "../runtime/message-stats";
import { type MessageRow, type MessageStore, toStored } from "../storage/message-store";
import { answerBytes, ByteBudget } from "./byte-budget";
import type { Consumer, ConsumerSet } from "./consumers";
import type { DeliveryState } from "./delivery-state";
import type { QueueCounts } from "./queue-counts";
import type { QueuePolicy } from "./queue-engine";
import type { ReadyCursor } from "./ready-cursor";

export type Send = (connection: string, frame: DeliverFrame | DeliverBatchFrame) => void;

/** How dispatch consults its surroundings (src/queue/socket-access.ts, the queue object). */
export interface DispatchGate {
  /** Whether a connection's access is known to be current: checked per delivery, so cheap. */
  readonly mayDeliver: (connection: string) => boolean;
  /** A pass stopped at LIMITS.maxDeliverBytes with messages left: dispatch again soon. */
  readonly resumeLater: () => void;
}

export const OPEN_GATE: DispatchGate = { mayDeliver: () => true, resumeLater: () => undefined };

export const connectionOwner = (connection: string) => `c:${connection}`;

/** What one dispatch round gives one consumer: its batched frame. */
interface RoundShare {
  frame: BatchedDelivery[];
  bytes: number;
}

export interface DispatchParts {
  readonly store: MessageStore;
  readonly consumers: ConsumerSet;
  readonly counts: QueueCounts;
  readonly rates: MessageStats<QueueEvent>;
  readonly policy: () => QueuePolicy;
  readonly send: Send;
  readonly gate: DispatchGate;
  /** Delivery state held in memory until written (src/queue/delivery-state.ts). */
  readonly held: DeliveryState;
  /** The ready rows read ahead, for a queue in seq order (src/queue/ready-cursor.ts). */
  readonly cursor: ReadyCursor;
}

export class Dispatcher {
  constructor(private readonly parts: DispatchParts) {}

  /** One pass; messages expiring after `liveAfter` count as alive. */
  run(now: number, liveAfter: number): void {
    const { store, consumers, counts, gate, held, cursor } = this.parts;
    const { singleActiveConsumer, maxPriority } = this.parts.policy();
    // A priority queue hands out by priority: its delivered seqs are not a prefix of the queue.
    const inSeqOrder = maxPriority === undefined;
    const round = new Map<Consumer, RoundShare>();
    const { mayDeliver } = gate;
    const budget = new ByteBudget(LIMITS.maxDeliverBytes);
    let autoAcked = false;
    while (counts.ready > 0 && consumers.size > 0) {
      // Read only as many messages as the consumers have room for: an ack frees one place, and
      // must not cost a read of a whole chunk of bodies.
      const room = consumers.capacity(singleActiveConsumer, mayDeliver);
      if (room === 0) break;
      const limit = Math.min(room, LIMITS.dispatchChunk);
      const rows = inSeqOrder
        ? cursor.peek(limit, now, liveAfter)
        : store.ready(limit, now, liveAfter, held.excluded());
      if (rows.length === 0) break;
      let delivered = 0;
      const removed: number[] = [];
      for (const row of rows) {
        if (!budget.admit(answerBytes(row))) break;
        const consumer = consumers.next(singleActiveConsumer, mayDeliver);
        if (!consumer) break;
        let share = round.get(consumer);
        if (!share) {
          share = { frame: [], bytes: 0 };
          round.set(consumer, share);
        }
        this.deliver(row, consumer, share, removed, now);
        if (inSeqOrder) cursor.taken(row.seq);
        delivered++;
      }
      if (removed.length > 0) autoAcked = true;
      store.removeMany(removed);
      if (delivered < rows.length) break;
    }
    for (const [consumer, share] of round) this.sendBatch(consumer, share);
    // Auto-ack deliveries are final at once; held ones have their tags written with them.
    if (autoAcked) consumers.persistTags();
    if (budget.exhausted) gate.resumeLater();
  }

  private deliver(
    row: MessageRow,
    consumer: Consumer,
    share: RoundShare,
    removed: number[],
    now: number,
  ): void {
    const { counts, send } = this.parts;
    const deliveryTag = this.parts.consumers.takeDeliveryTag(consumer.connection);
    const bytes = row.body.byteLength;
    countHandedOut(this.parts.rates, [row]);
    if (consumer.autoAck) {
      counts.takeReady(bytes);
      removed.push(row.seq);
    } else {
      counts.handOut(bytes);
      this.parts.held.deliver({
        seq: row.seq,
        connection: consumer.connection,
        consumerTag: consumer.tag,
        deliveryTag,
        deadline: now + consumer.ackTimeoutMs,
        bytes,
      });
      consumer.unacked++;
    }
    const frame = deliverFrame(toStored(row), consumer.tag, deliveryTag);
    if (!consumer.batch) {
      send(consumer.connection, frame);
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
    this.parts.send(consumer.connection, deliverBatchFrame(consumer.tag, share.frame));
    share.frame = [];
    share.bytes = 0;
  }
}

/** deliver_get and redeliver (RabbitMQ: deliveries and gets of messages flagged redelivered). */
export function countHandedOut(rates: MessageStats<QueueEvent>, rows: readonly MessageRow[]): void {
  rates.add("deliver_get", rows.length);
  let redelivered = 0;
  for (const row of rows) if (row.redelivered === 1) redelivered++;
  rates.add("redeliver", redelivered);
}
