/**
 * Consuming over one WebSocket per queue: the handler gets each delivery and acks or nacks it
 * (or the broker acks on delivery with `ack: "auto"`). After a reconnect the consumer subscribes
 * again; deliveries of the lost connection were returned to the queue by the broker and come
 * again flagged `redelivered`, so their old ack functions do nothing.
 */
import { openReconnecting, type ReconnectOptions, type SocketConstructor } from "./sockets.ts";

export interface Delivery {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: Record<string, unknown>;
  /** The payload as text when it is UTF-8, else base64 (see payloadEncoding). */
  readonly payload: string;
  readonly payloadEncoding: "string" | "base64";
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
}

export type Handler = (delivery: Delivery) => void | Promise<void>;

interface DeliverFrame {
  type: "deliver";
  delivery_tag: number;
  redelivered: boolean;
  delivery_count: number;
  exchange: string;
  routing_key: string;
  properties: Record<string, unknown>;
  payload: string;
  payload_encoding: "string" | "base64";
}

function decodeBody(payload: string, encoding: "string" | "base64"): Uint8Array {
  if (encoding === "string") return new TextEncoder().encode(payload);
  return Uint8Array.from(atob(payload), (ch) => ch.charCodeAt(0));
}

export class Consumer {
  readonly tag: string;
  private readonly socket;
  private generation = 0;
  private markReady: () => void = () => {};
  /** Resolves when the broker has accepted the subscription (consume_ok). */
  readonly ready: Promise<void>;
  /** Error frames from the broker (a refused consume, an unknown delivery tag, ...). */
  onError: (code: string, reason: string) => void = () => {};
  /** The broker cancelled this consumer (its queue was deleted); no reconnect follows. */
  onCancel: (reason: string) => void = () => {};
  /** Each time the socket closes (a reconnect follows unless the consumer was closed). */
  onClose: (code: number, reason: string) => void = () => {};

  private cancelled = false;
  private markCancelled: () => void = () => {};

  private readonly handlerRef: Handler;
  private readonly options: ConsumeOptions;

  constructor(url: string, Socket: SocketConstructor, handler: Handler, options: ConsumeOptions) {
    this.handlerRef = handler;
    this.options = options;
    this.tag = options.tag ?? `ctag-${crypto.randomUUID()}`;
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.socket = openReconnecting(url, Socket, options.reconnect);
    this.socket.addEventListener("open", () => {
      this.generation++;
      // A cancelled consumer does not subscribe again after a reconnect.
      if (this.cancelled) return;
      this.socket.send(
        JSON.stringify({
          type: "consume",
          tag: this.tag,
          prefetch: options.prefetch ?? 100,
          ack: options.ack ?? "manual",
          exclusive: options.exclusive ?? false,
          ...(options.ackTimeoutMs === undefined ? {} : { ack_timeout_ms: options.ackTimeoutMs }),
          ...(options.arguments === undefined ? {} : { arguments: options.arguments }),
        }),
      );
    });
    this.socket.addEventListener("message", (event) => this.receive(String(event.data)));
    this.socket.addEventListener("close", (event) => this.onClose(event.code, event.reason));
  }

  /**
   * Stops deliveries but keeps the connection, so that deliveries already made can still be
   * acked (AMQP's basic.cancel); resolves on the broker's cancel_ok. close() ends it.
   */
  cancel(): Promise<void> {
    this.cancelled = true;
    const done = new Promise<void>((resolve) => {
      this.markCancelled = resolve;
    });
    if (this.socket.readyState === this.socket.OPEN) {
      this.socket.send(JSON.stringify({ type: "cancel", tag: this.tag }));
    } else {
      this.markCancelled();
    }
    return done;
  }

  /** Stops consuming and closes the connection; unacked deliveries return to the queue. */
  close(): void {
    this.socket.close(1000, "consumer closed");
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as { type: string; code?: string; reason?: string };
    if (frame.type === "consume_ok") this.markReady();
    else if (frame.type === "cancel_ok") this.markCancelled();
    else if (frame.type === "cancel") {
      this.cancelled = true;
      this.onCancel(frame.reason ?? "");
    }
    else if (frame.type === "error") this.onError(frame.code ?? "", frame.reason ?? "");
    else if (frame.type === "deliver") void this.deliver(frame as unknown as DeliverFrame);
  }

  private async deliver(frame: DeliverFrame): Promise<void> {
    const generation = this.generation;
    let settled = this.options.ack === "auto";
    const settle = (message: Record<string, unknown>) => {
      if (settled || generation !== this.generation) return;
      settled = true;
      this.socket.send(JSON.stringify({ ...message, delivery_tag: frame.delivery_tag }));
    };
    const delivery: Delivery = {
      exchange: frame.exchange,
      routingKey: frame.routing_key,
      properties: frame.properties,
      payload: frame.payload,
      payloadEncoding: frame.payload_encoding,
      body: decodeBody(frame.payload, frame.payload_encoding),
      redelivered: frame.redelivered,
      deliveryCount: frame.delivery_count,
      deliveryTag: frame.delivery_tag,
      ack: () => settle({ type: "ack" }),
      nack: (requeue = true) => settle({ type: "nack", requeue }),
      reject: (requeue = true) => settle({ type: "reject", requeue }),
      extend: (ms) => {
        if (!settled && generation === this.generation) {
          this.socket.send(JSON.stringify({ type: "extend", delivery_tag: frame.delivery_tag, ack_timeout_ms: ms }));
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
