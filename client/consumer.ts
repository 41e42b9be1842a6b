/**
 * Consuming over one WebSocket per queue: the handler gets each delivery and acks or nacks it
 * (or the broker acks on delivery with `ack: "auto"`). After a reconnect the consumer subscribes
 * again; deliveries of the lost connection were returned to the queue by the broker and come
 * again flagged `redelivered`, so their old ack functions do nothing.
 */
// The wire's types come from the broker's protocol module; type-only, so Node strips them and
// loads nothing of src/ at run time.
import type { FrameErrorCode } from "../src/protocol/error-codes.ts";
import type { BatchedDelivery, ConsumerFrameInput, ServerFrame } from "../src/protocol/frames.ts";
import type { BasicProperties } from "../src/protocol/properties.ts";
import { Batcher } from "./batcher.ts";
import { openReconnecting, type ReconnectOptions, type SocketConstructor } from "./sockets.ts";

type PayloadEncoding = BatchedDelivery["payload_encoding"];

export interface Delivery {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  /** The payload as text when it is UTF-8, else base64 (see payloadEncoding). */
  readonly payload: string;
  readonly payloadEncoding: PayloadEncoding;
  readonly body: Uint8Array;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  readonly deliveryTag: number;
  ack(): void;
  /** With requeue, `delayMs` holds the message back that long before it is delivered again. */
  nack(requeue?: boolean, delayMs?: number): void;
  reject(requeue?: boolean): void;
  /** Pushes this delivery's ack deadline `ms` from now. */
  extend(ms: number): void;
}

export interface ConsumeOptions {
  readonly tag?: string;
  readonly prefetch?: number;
  readonly ack?: "manual" | "auto";
  readonly exclusive?: boolean;
  readonly ackTimeoutMs?: number;
  /** Consumer arguments passed through to the broker (e.g. `x-stream-offset`). */
  readonly arguments?: Record<string, unknown>;
  readonly reconnect?: ReconnectOptions;
  /** Wait this long for more acks before sending them (default 0: the end of the tick). */
  readonly lingerMs?: number;
}

export type Handler = (delivery: Delivery) => void | Promise<void>;

/** One settlement waiting to be sent; consecutive ones of the same kind share a frame. */
interface Settlement {
  readonly type: "ack" | "nack";
  readonly requeue: boolean;
  readonly tag: number;
  readonly delayMs: number;
}

/** Tags per settling frame, inside the broker's LIMITS.maxTagsPerFrame and frame size. */
const MAX_TAGS_PER_FRAME = 4000;

function decodeBody(payload: string, encoding: PayloadEncoding): Uint8Array {
  if (encoding === "string") return new TextEncoder().encode(payload);
  return Uint8Array.from(atob(payload), (ch) => ch.charCodeAt(0));
}

export class Consumer {
  readonly tag: string;
  private readonly socket;
  private generation = 0;
  private markReady: () => void = () => {};
  private markCancelled: () => void = () => {};
  private cancelled = false;
  /** Resolves when the broker has accepted the subscription (consume_ok). */
  readonly ready: Promise<void>;
  /** Error frames from the broker (a refused consume, an unknown delivery tag, ...). */
  onError: (code: FrameErrorCode, reason: string) => void = () => {};
  /** The broker cancelled this consumer (its queue was deleted); no resubscription follows. */
  onCancel: (reason: string) => void = () => {};
  /** Each time the socket closes (a reconnect follows unless the consumer was closed). */
  onClose: (code: number, reason: string) => void = () => {};

  private readonly handlerRef: Handler;
  private readonly options: ConsumeOptions;
  private readonly settlements: Batcher<Settlement>;

  constructor(url: string, Socket: SocketConstructor, handler: Handler, options: ConsumeOptions) {
    this.handlerRef = handler;
    this.options = options;
    this.tag = options.tag ?? `ctag-${crypto.randomUUID()}`;
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.socket = openReconnecting(url, Socket, options.reconnect);
    this.settlements = new Batcher<Settlement>(
      (items) => this.sendSettlements(items),
      () => 8,
      MAX_TAGS_PER_FRAME,
      { lingerMs: options.lingerMs ?? 0 },
    );
    // Acks of a lost connection are void: its deliveries come again, flagged redelivered.
    this.socket.addEventListener("close", () => this.settlements.clear());
    this.socket.addEventListener("open", () => {
      this.generation++;
      this.settlements.clear();
      if (this.cancelled) return;
      this.send({
        type: "consume",
        tag: this.tag,
        prefetch: options.prefetch ?? 100,
        ack: options.ack ?? "manual",
        exclusive: options.exclusive ?? false,
        batch: true,
        ...(options.ackTimeoutMs === undefined ? {} : { ack_timeout_ms: options.ackTimeoutMs }),
        ...(options.arguments === undefined ? {} : { arguments: options.arguments }),
      });
    });
    this.socket.addEventListener("message", (event) => this.receive(String(event.data)));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
  }

  /**
   * Stops the subscription (basic.cancel) and resolves once the broker confirms; deliveries
   * already on their way still reach the handler and can be acked. The connection stays open
   * until close(). After a cancel the consumer does not subscribe again on reconnect.
   */
  cancel(): Promise<void> {
    this.cancelled = true;
    this.settlements.flush();
    return new Promise((resolve) => {
      this.markCancelled = resolve;
      this.send({ type: "cancel", tag: this.tag });
    });
  }

  /** Stops consuming and closes the connection; unacked deliveries return to the queue. */
  close(): void {
    this.settlements.flush(); // acks made before the close count (the broker handles them first)
    this.socket.close(1000, "consumer closed");
  }

  private send(frame: ConsumerFrameInput): void {
    this.socket.send(JSON.stringify(frame));
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as ServerFrame;
    if (frame.type === "consume_ok") this.markReady();
    else if (frame.type === "cancel_ok") this.markCancelled();
    else if (frame.type === "cancel") {
      this.cancelled = true;
      this.onCancel(frame.reason);
    }
    else if (frame.type === "error") this.onError(frame.code, frame.reason);
    else if (frame.type === "deliver") {
      // A batched frame carries a dispatch round's deliveries: the handler still sees one at a time, in order.
      if ("deliveries" in frame) for (const delivery of frame.deliveries) this.deliver(delivery);
      else this.deliver(frame);
    }
  }

  /** Sends waiting settlements: each run of the same kind as one frame with a tag list. */
  private sendSettlements(items: Settlement[]): void {
    let start = 0;
    while (start < items.length) {
      const first = items[start] as Settlement;
      let end = start + 1;
      while (end < items.length && items[end]?.type === first.type && items[end]?.requeue === first.requeue && items[end]?.delayMs === first.delayMs) end++;
      const tags = items.slice(start, end).map((item) => item.tag);
      this.send(
        first.type === "ack"
          ? { type: "ack", delivery_tags: tags }
          : { type: "nack", delivery_tags: tags, requeue: first.requeue, ...(first.delayMs > 0 ? { delay_ms: first.delayMs } : {}) },
      );
      start = end;
    }
  }

  private deliver(frame: BatchedDelivery): void {
    const delivery = new ReceivedDelivery(frame, this, this.generation, this.options.ack === "auto");
    // Called at once, in order; a handler that throws (or whose promise rejects) has not
    // processed the message: it goes back for another try. A sync handler costs no promise.
    let result: void | Promise<void>;
    try {
      result = this.handlerRef(delivery);
    } catch {
      delivery.nack(true);
      return;
    }
    if (result !== undefined) Promise.resolve(result).catch(() => delivery.nack(true));
  }

  /** A delivery's settlement, unless its connection is gone (its message comes again). */
  settle(generation: number, settlement: Settlement): boolean {
    if (generation !== this.generation) return false;
    this.settlements.add(settlement);
    return true;
  }

  /** An extend, sent after the settlements waiting (this connection's frames keep their order). */
  extendDelivery(generation: number, deliveryTag: number, ms: number): void {
    if (generation !== this.generation) return;
    this.settlements.flush();
    this.send({ type: "extend", delivery_tag: deliveryTag, ack_timeout_ms: ms });
  }
}

/**
 * One delivery as the handler sees it: the frame's fields, and settling methods on the prototype
 * (one object per delivery, no closures: consuming at prefetch 1 makes one per round trip).
 */
class ReceivedDelivery implements Delivery {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  readonly payload: string;
  readonly payloadEncoding: PayloadEncoding;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
  readonly deliveryTag: number;
  private decoded: Uint8Array | undefined;
  private settled: boolean;
  private readonly consumer: Consumer;
  private readonly generation: number;

  // No parameter properties: Node runs client/ by stripping types, which cannot rewrite them.
  constructor(frame: BatchedDelivery, consumer: Consumer, generation: number, autoAck: boolean) {
    this.exchange = frame.exchange;
    this.routingKey = frame.routing_key;
    this.properties = frame.properties;
    this.payload = frame.payload;
    this.payloadEncoding = frame.payload_encoding;
    this.redelivered = frame.redelivered;
    this.deliveryCount = frame.delivery_count;
    this.deliveryTag = frame.delivery_tag;
    this.consumer = consumer;
    this.generation = generation;
    this.settled = autoAck;
  }

  /** Decoded on first use: most handlers read `payload` and never pay for the bytes. */
  get body(): Uint8Array {
    this.decoded ??= decodeBody(this.payload, this.payloadEncoding);
    return this.decoded;
  }

  ack(): void {
    this.settle("ack", false, 0);
  }

  nack(requeue = true, delayMs = 0): void {
    this.settle("nack", requeue, delayMs);
  }

  /** A nack of one delivery (AMQP basic.reject): same frame, same effect. */
  reject(requeue = true): void {
    this.settle("nack", requeue, 0);
  }

  extend(ms: number): void {
    if (!this.settled) this.consumer.extendDelivery(this.generation, this.deliveryTag, ms);
  }

  private settle(type: "ack" | "nack", requeue: boolean, delayMs: number): void {
    if (this.settled) return;
    const tag = this.deliveryTag;
    if (this.consumer.settle(this.generation, { type, requeue, tag, delayMs })) this.settled = true;
  }
}
