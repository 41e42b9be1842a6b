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
  nack(requeue?: boolean): void;
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
      if ("deliveries" in frame) for (const delivery of frame.deliveries) void this.deliver(delivery);
      else void this.deliver(frame);
    }
  }

  /** Sends waiting settlements: each run of the same kind as one frame with a tag list. */
  private sendSettlements(items: Settlement[]): void {
    let start = 0;
    while (start < items.length) {
      const first = items[start] as Settlement;
      let end = start + 1;
      while (end < items.length && items[end]?.type === first.type && items[end]?.requeue === first.requeue) end++;
      const tags = items.slice(start, end).map((item) => item.tag);
      this.send(first.type === "ack" ? { type: "ack", delivery_tags: tags } : { type: "nack", delivery_tags: tags, requeue: first.requeue });
      start = end;
    }
  }

  private async deliver(frame: BatchedDelivery): Promise<void> {
    const generation = this.generation;
    let settled = this.options.ack === "auto";
    let body: Uint8Array | undefined;
    const settle = (type: "ack" | "nack", requeue: boolean) => {
      if (settled || generation !== this.generation) return;
      settled = true;
      this.settlements.add({ type, requeue, tag: frame.delivery_tag });
    };
    const delivery: Delivery = {
      exchange: frame.exchange,
      routingKey: frame.routing_key,
      properties: frame.properties,
      payload: frame.payload,
      payloadEncoding: frame.payload_encoding,
      // Decoded on first use: most handlers read `payload` and never pay for the bytes.
      get body() {
        body ??= decodeBody(frame.payload, frame.payload_encoding);
        return body;
      },
      redelivered: frame.redelivered,
      deliveryCount: frame.delivery_count,
      deliveryTag: frame.delivery_tag,
      ack: () => settle("ack", false),
      nack: (requeue = true) => settle("nack", requeue),
      // reject is a nack of one delivery (AMQP basic.reject): same frame, same effect.
      reject: (requeue = true) => settle("nack", requeue),
      extend: (ms) => {
        if (!settled && generation === this.generation) {
          this.settlements.flush(); // keep the order of this connection's frames
          this.send({ type: "extend", delivery_tag: frame.delivery_tag, ack_timeout_ms: ms });
        }
      },
    };
    try {
      await this.handlerRef(delivery);
    } catch {
      // A handler that throws has not processed the message: give it back for another try.
      delivery.nack(true);
    }
  }
}
