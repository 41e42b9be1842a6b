/**
 * The broker side of one AMQP connection: a BrokerClient logged in as the AMQP user, in the
 * vhost of connection.open. Management methods become the broker's HTTP calls; publishing and
 * consuming go through the client's WebSocket Publisher and Consumer (client/), so the bridge
 * gets whatever framing the client uses. Failures come back as AmqpError.
 */
import {
  BrokerApiError,
  BrokerClient,
  type ConsumeOptions,
  type Consumer,
  type Handler,
  type Publisher,
} from "../client/index.ts";
import { AmqpError, fromBroker, REPLY } from "./reply-codes.ts";

const seg = encodeURIComponent;

export interface QueueCounts {
  readonly messageCount: number;
  readonly consumerCount: number;
}

export interface PulledMessage {
  readonly lease: string;
  readonly redelivered: boolean;
  readonly exchange: string;
  readonly routing_key: string;
  readonly properties: Record<string, unknown>;
  readonly payload: string;
  readonly payload_encoding: "string" | "base64";
}

/** How long a basic.get without no-ack holds its message before the broker takes it back. */
const GET_LEASE_MS = 30 * 60 * 1000;

export function connectionUrl(
  broker: string,
  user: string,
  password: string,
  vhost: string,
): string {
  const url = new URL(broker);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = `/${encodeURIComponent(vhost)}`;
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** The exchange name in a broker path: the default exchange is `amq.default`. */
function exchangePath(name: string): string {
  return seg(name === "" ? "amq.default" : name);
}

export type LoginOutcome = "ok" | "refused";

/** Checks a user name and password with the broker (connection.start-ok). */
export async function checkLogin(
  broker: string,
  user: string,
  password: string,
): Promise<LoginOutcome> {
  const client = new BrokerClient(connectionUrl(broker, user, password, "/"));
  try {
    await client.request("GET", "/api/whoami");
    return "ok";
  } catch (error) {
    if (error instanceof BrokerApiError && (error.status === 401 || error.status === 429)) {
      return "refused";
    }
    throw fromBroker(error);
  }
}

export class BrokerSession {
  readonly vhost: string;
  readonly user: string;
  readonly client: BrokerClient;
  private publisherRef: Publisher | null = null;
  private readonly consumers = new Set<Consumer>();

  constructor(broker: string, user: string, password: string, vhost: string) {
    this.vhost = vhost;
    this.user = user;
    this.client = new BrokerClient(connectionUrl(broker, user, password, vhost));
  }

  /** connection.open: may this user use this vhost? */
  async openVhost(): Promise<void> {
    try {
      await this.client.request("GET", `/api/aliveness-test/${seg(this.vhost)}`);
    } catch (error) {
      if (error instanceof BrokerApiError && (error.status === 403 || error.status === 404)) {
        throw new AmqpError(
          REPLY.notAllowed,
          error.status === 404
            ? `vhost ${this.vhost} not found`
            : `access to vhost '${this.vhost}' refused for user '${this.user}'`,
        );
      }
      throw fromBroker(error);
    }
  }

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    notFound?: string,
  ): Promise<T | null> {
    try {
      return await this.client.request<T>(method, path, body);
    } catch (error) {
      throw fromBroker(error, notFound);
    }
  }

  async declareExchange(
    name: string,
    declaration: {
      type: string;
      durable: boolean;
      auto_delete: boolean;
      internal: boolean;
      arguments: Record<string, unknown>;
    },
    passive: boolean,
  ): Promise<void> {
    const path = `/api/exchanges/${seg(this.vhost)}/${exchangePath(name)}`;
    const notFound = `no exchange '${name}' in vhost '${this.vhost}'`;
    if (passive) await this.call("GET", path, undefined, notFound);
    else await this.call("PUT", path, declaration, notFound);
  }

  async deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    const query = ifUnused ? "?if-unused=true" : "";
    await this.call(
      "DELETE",
      `/api/exchanges/${seg(this.vhost)}/${exchangePath(name)}${query}`,
      undefined,
      `no exchange '${name}' in vhost '${this.vhost}'`,
    );
  }

  async queueCounts(name: string): Promise<QueueCounts> {
    const info = await this.call<{ messages_ready?: number; consumers?: number }>(
      "GET",
      `/api/queues/${seg(this.vhost)}/${seg(name)}`,
      undefined,
      `no queue '${name}' in vhost '${this.vhost}'`,
    );
    return { messageCount: info?.messages_ready ?? 0, consumerCount: info?.consumers ?? 0 };
  }

  async declareQueue(
    name: string,
    declaration: { durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> },
    passive: boolean,
  ): Promise<QueueCounts> {
    if (!passive) {
      await this.call(
        "PUT",
        `/api/queues/${seg(this.vhost)}/${seg(name)}`,
        declaration,
        `no queue '${name}' in vhost '${this.vhost}'`,
      );
    }
    return this.queueCounts(name);
  }

  async deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean): Promise<number> {
    const { messageCount } = await this.queueCounts(name);
    const query = new URLSearchParams();
    if (ifUnused) query.set("if-unused", "true");
    if (ifEmpty) query.set("if-empty", "true");
    const suffix = query.size > 0 ? `?${query}` : "";
    await this.call(
      "DELETE",
      `/api/queues/${seg(this.vhost)}/${seg(name)}${suffix}`,
      undefined,
      `no queue '${name}' in vhost '${this.vhost}'`,
    );
    return messageCount;
  }

  async purgeQueue(name: string): Promise<number> {
    const { messageCount } = await this.queueCounts(name);
    await this.call(
      "DELETE",
      `/api/queues/${seg(this.vhost)}/${seg(name)}/contents`,
      undefined,
      `no queue '${name}' in vhost '${this.vhost}'`,
    );
    return messageCount;
  }

  private bindingPath(destinationType: "q" | "e", destination: string, source: string): string {
    return `/api/bindings/${seg(this.vhost)}/e/${exchangePath(source)}/${destinationType}/${seg(destination)}`;
  }

  private bindNotFound(destinationType: "q" | "e", destination: string, source: string): string {
    return `no exchange '${source}' or ${destinationType === "q" ? "queue" : "exchange"} '${destination}' in vhost '${this.vhost}'`;
  }

  async bind(
    destinationType: "q" | "e",
    destination: string,
    source: string,
    routingKey: string,
    args: Record<string, unknown>,
  ): Promise<void> {
    await this.call(
      "POST",
      this.bindingPath(destinationType, destination, source),
      { routing_key: routingKey, arguments: args },
      this.bindNotFound(destinationType, destination, source),
    );
  }

  /** Unbinding a binding that is not there succeeds, as in RabbitMQ. */
  async unbind(
    destinationType: "q" | "e",
    destination: string,
    source: string,
    routingKey: string,
    args: Record<string, unknown>,
  ): Promise<void> {
    const path = this.bindingPath(destinationType, destination, source);
    const notFound = this.bindNotFound(destinationType, destination, source);
    const bindings =
      (await this.call<
        { routing_key: string; arguments: Record<string, unknown>; properties_key: string }[]
      >("GET", path, undefined, notFound)) ?? [];
    const wanted = canonical(args);
    const match = bindings.find(
      (b) => b.routing_key === routingKey && canonical(b.arguments) === wanted,
    );
    if (match)
      await this.call("DELETE", `${path}/${seg(match.properties_key)}`, undefined, notFound);
  }

  /** The connection's one producer socket, opened on the first publish. */
  publisher(): Publisher {
    this.publisherRef ??= this.client.publisher();
    return this.publisherRef;
  }

  consume(queue: string, handler: Handler, options: ConsumeOptions): Consumer {
    const consumer = this.client.consume(queue, handler, options);
    this.consumers.add(consumer);
    return consumer;
  }

  closeConsumer(consumer: Consumer): void {
    this.consumers.delete(consumer);
    consumer.close();
  }

  /** basic.get with acks: a lease the broker takes back if it is not settled in time. */
  async pull(queue: string): Promise<PulledMessage | null> {
    const answer = await this.call<{ messages: PulledMessage[] }>(
      "POST",
      `/api/queues/${seg(this.vhost)}/${seg(queue)}/pull`,
      { count: 1, visibility_timeout_ms: GET_LEASE_MS, encoding: "auto" },
      `no queue '${queue}' in vhost '${this.vhost}'`,
    );
    return answer?.messages[0] ?? null;
  }

  /** basic.get with no-ack: taken from the queue at once. */
  async take(queue: string): Promise<(PulledMessage & { message_count: number }) | null> {
    const answer = await this.call<(PulledMessage & { message_count: number })[]>(
      "POST",
      `/api/queues/${seg(this.vhost)}/${seg(queue)}/get`,
      { count: 1, ackmode: "ack_requeue_false", encoding: "auto" },
      `no queue '${queue}' in vhost '${this.vhost}'`,
    );
    return answer?.[0] ?? null;
  }

  async settleLeases(
    queue: string,
    acks: string[],
    nacks: { lease: string; requeue: boolean }[],
  ): Promise<void> {
    if (acks.length === 0 && nacks.length === 0) return;
    await this.call(
      "POST",
      `/api/queues/${seg(this.vhost)}/${seg(queue)}/ack`,
      { acks, nacks },
      `no queue '${queue}' in vhost '${this.vhost}'`,
    );
  }

  /** Closes every socket: the broker returns unacked deliveries to their queues. */
  close(): void {
    for (const consumer of this.consumers) consumer.close();
    this.consumers.clear();
    this.publisherRef?.close();
    this.publisherRef = null;
  }
}

/** A field table as text with sorted keys, to compare binding arguments. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : 1,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
