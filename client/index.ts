/**
 * A small typed client for the broker: the management calls the seed articles make (declare,
 * bind, publish, get), publishing with confirms and consuming with acks over WebSockets that
 * reconnect with backoff and resubscribe.
 *
 *   const broker = new BrokerClient("http://guest:guest@localhost:8787/%2F");
 *   await broker.declareQueue("product_inventory");
 *   const publisher = broker.publisher();
 *   await publisher.publish("", "product_inventory", JSON.stringify(order));
 *   broker.consume("product_inventory", (d) => { handle(d.payload); d.ack(); });
 */
import { parseConnectionUrl, socketOrigin, type ConnectionInfo } from "./connection-url.ts";
import { type ConsumeOptions, Consumer, type Handler } from "./consumer.ts";
import { BrokerApiError } from "./errors.ts";
import { encodeBody, type MessageProperties, Publisher, type PublisherOptions } from "./publisher.ts";
import { authorizedWebSocket, type ReconnectOptions, type SocketConstructor } from "./sockets.ts";

export { BrokerApiError, PublishRefusedError } from "./errors.ts";
export type { Delivery, ConsumeOptions, Handler } from "./consumer.ts";
export type { MessageProperties, PublisherOptions } from "./publisher.ts";
export type { BatchOptions } from "./batcher.ts";
export { Consumer } from "./consumer.ts";
export { Publisher } from "./publisher.ts";
export { parseConnectionUrl } from "./connection-url.ts";

export interface ClientOptions {
  /** fetch to use (default: the global one). */
  readonly fetch?: (request: Request) => Promise<Response>;
  /** WebSocket constructor (default: the global one, with the credentials as a header). */
  readonly WebSocket?: SocketConstructor;
  readonly reconnect?: ReconnectOptions;
}

export interface GotMessage {
  readonly payload: string;
  readonly payload_encoding: "string" | "base64";
  readonly routing_key: string;
  readonly exchange: string;
  readonly redelivered: boolean;
  readonly message_count: number;
  readonly properties: Record<string, unknown>;
}

const seg = encodeURIComponent;

export class BrokerClient {
  readonly vhost: string;
  private readonly info: ConnectionInfo;
  private readonly fetcher: (request: Request) => Promise<Response>;
  private readonly Socket: SocketConstructor;
  private readonly reconnect: ReconnectOptions;

  constructor(url: string, options: ClientOptions = {}) {
    this.info = parseConnectionUrl(url);
    this.vhost = this.info.vhost;
    this.fetcher = options.fetch ?? ((request) => fetch(request));
    this.Socket = options.WebSocket ?? authorizedWebSocket(this.info.authorization);
    this.reconnect = options.reconnect ?? {};
  }

  /** Any management API call; a non-2xx answer throws BrokerApiError with the broker's reason. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T | null> {
    const headers: Record<string, string> = { Authorization: this.info.authorization };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await this.fetcher(
      new Request(`${this.info.origin}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    const text = await response.text();
    if (!response.ok) {
      let error = "error";
      let reason = text;
      try {
        ({ error, reason } = JSON.parse(text) as { error: string; reason: string });
      } catch {
        // Not the broker's JSON (a proxy in between): keep the raw text as the reason.
      }
      throw new BrokerApiError(response.status, error, reason);
    }
    return text === "" ? null : (JSON.parse(text) as T);
  }

  async declareExchange(name: string, type: string, options: { durable?: boolean; auto_delete?: boolean; internal?: boolean; arguments?: Record<string, unknown> } = {}): Promise<void> {
    await this.request("PUT", `/api/exchanges/${seg(this.vhost)}/${seg(name)}`, { type, ...options });
  }

  async declareQueue(name: string, options: { durable?: boolean; auto_delete?: boolean; arguments?: Record<string, unknown> } = {}): Promise<void> {
    await this.request("PUT", `/api/queues/${seg(this.vhost)}/${seg(name)}`, { durable: true, ...options });
  }

  async deleteQueue(name: string): Promise<void> {
    await this.request("DELETE", `/api/queues/${seg(this.vhost)}/${seg(name)}`);
  }

  async bindQueue(exchange: string, queue: string, routingKey = "", args: Record<string, unknown> = {}): Promise<void> {
    await this.request("POST", `/api/bindings/${seg(this.vhost)}/e/${seg(exchange)}/q/${seg(queue)}`, {
      routing_key: routingKey,
      arguments: args,
    });
  }

  /**
   * One publish over HTTP; for many, use publisher(). `delayed`: a delayed exchange holds the
   * message (x-delay) and routes it when due.
   */
  async publish(
    exchange: string,
    routingKey: string,
    payload: string | Uint8Array,
    properties: MessageProperties = {},
  ): Promise<{ routed: boolean; delayed?: true }> {
    const path = `/api/exchanges/${seg(this.vhost)}/${seg(exchange || "amq.default")}/publish`;
    const answer = await this.request<{ routed: boolean; delayed?: boolean }>("POST", path, {
      properties,
      routing_key: routingKey,
      ...encodeBody(payload),
    });
    const routed = answer?.routed === true;
    return answer?.delayed === true ? { routed, delayed: true } : { routed };
  }

  async get(queue: string, count = 1, ackmode = "ack_requeue_false"): Promise<GotMessage[]> {
    const path = `/api/queues/${seg(this.vhost)}/${seg(queue)}/get`;
    return (await this.request<GotMessage[]>("POST", path, { count, ackmode, encoding: "auto" })) ?? [];
  }

  async queueInfo(queue: string): Promise<{ messages: number; messages_ready: number; messages_unacknowledged: number; consumers: number }> {
    const info = await this.request<{ messages: number; messages_ready: number; messages_unacknowledged: number; consumers: number }>(
      "GET",
      `/api/queues/${seg(this.vhost)}/${seg(queue)}`,
    );
    if (!info) throw new BrokerApiError(500, "error", "empty answer");
    return info;
  }

  /**
   * A producer connection with publisher confirms. Publishes made in the same tick (or within
   * `lingerMs`) travel in one frame of at most `maxFrameBytes`; each keeps its own confirm.
   */
  publisher(options: PublisherOptions = {}): Publisher {
    return new Publisher(`${socketOrigin(this.info.origin)}/api/publish/${seg(this.vhost)}`, this.Socket, this.reconnect, options);
  }

  /** Subscribes `handler` to a queue; the returned consumer's `ready` resolves on consume_ok. */
  consume(queue: string, handler: Handler, options: ConsumeOptions = {}): Consumer {
    const url = `${socketOrigin(this.info.origin)}/api/queues/${seg(this.vhost)}/${seg(queue)}/consume`;
    return new Consumer(url, this.Socket, handler, { reconnect: this.reconnect, ...options });
  }
}
