/**
 * What a channel delivers and what it is owed acks for: consumers (one broker consumer socket
 * each, through the client's Consumer), basic.get, channel delivery tags, basic.qos and the
 * acks, nacks, rejects and recovers that settle them.
 *
 * Prefetch: per consumer (basic.qos global=false, RabbitMQ's meaning since 3.3) is the broker
 * consumer's own prefetch; per channel (global=true) is kept here: deliveries beyond it wait in
 * the bridge, unacked at the broker, until the client acks enough. Every delivery the client
 * has not acked is returned to its queue by the broker when its socket closes (channel or
 * connection closed, or dropped), flagged redelivered.
 */
import { randomBytes } from "node:crypto";
import type { Consumer, Delivery } from "../client/index.ts";
import type { PulledMessage } from "./broker-session.ts";
import type { ChannelHost } from "./channel.ts";
import { encodeContent, encodeMethod, type Fields, METHOD } from "./codec.ts";
import { fromBrokerProperties } from "./properties.ts";
import { AmqpError, REPLY } from "./reply-codes.ts";

interface Link {
  readonly tag: string;
  readonly queue: string;
  readonly noAck: boolean;
  consumer: Consumer | null;
  started: boolean;
  cancelled: boolean;
  /** Deliveries the client has and has not acked. */
  outstanding: number;
  /** The client's per-consumer prefetch when it subscribed (0: unlimited). */
  readonly limit: number;
  /** Deliveries taken from the broker ahead of the client's prefetch, in order. */
  readonly held: Delivery[];
}

type Unacked =
  | { readonly kind: "delivery"; readonly link: Link; readonly delivery: Delivery }
  | { readonly kind: "lease"; readonly queue: string; readonly lease: string };

/** How long a consumer's acks wait for more before leaving in one broker frame. */
const ACK_LINGER_MS = 3;

/** The most deliveries a consumer holds beyond its client's prefetch (memory bound). */
const MAX_LOOKAHEAD_EXTRA = 1000;

/** The broker's highest prefetch (LIMITS.maxPrefetch). */
const MAX_BROKER_PREFETCH = 65535;

/**
 * The broker-side prefetch of a consumer whose client has `client` (0: unlimited). Taking more
 * than the client may hold keeps deliveries on their way while the client acks: else every
 * client round trip waits for a broker round trip, and the AMQP client's prefetch (100 in most
 * code) bounds the rate. Prefetch 1 stays exact: it asks for one-at-a-time fair dispatch.
 */
export function brokerPrefetch(client: number, lookahead: number): number {
  if (client <= 1) return client;
  const extra = Math.min(client * (lookahead - 1), MAX_LOOKAHEAD_EXTRA);
  return Math.min(client + extra, MAX_BROKER_PREFETCH);
}

/** How long basic.consume and basic.cancel wait for the broker's answer. */
const CONSUME_TIMEOUT_MS = 30_000;

const str = (value: unknown): string => (typeof value === "string" ? value : "");

function bodyOf(message: { payload: string; payload_encoding: "string" | "base64" }): Buffer {
  return Buffer.from(message.payload, message.payload_encoding === "string" ? "utf8" : "base64");
}

/** The default exchange is `""` on the wire; the broker may name it `amq.default`. */
const wireExchange = (name: string): string => (name === "amq.default" ? "" : name);

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((resolve) => {
      timer = setTimeout(() => resolve(fallback), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class Deliveries {
  private readonly channel: number;
  private readonly host: ChannelHost;
  private readonly isOpen: () => boolean;
  private lastTag = 0;
  private readonly unacked = new Map<number, Unacked>();
  /** Links with held deliveries, in the order they got their first one (round-robin drain). */
  private readonly waiting = new Set<Link>();
  private readonly links = new Map<string, Link>();
  /** Cancelled consumers whose sockets stay open until their deliveries are settled. */
  private readonly draining = new Set<Link>();
  private perConsumer = 0;
  private perChannel = 0;
  private consumerUnacked = 0;

  constructor(channel: number, host: ChannelHost, isOpen: () => boolean) {
    this.channel = channel;
    this.host = host;
    this.isOpen = isOpen;
  }

  qos(count: number, global: boolean): void {
    if (global) {
      this.perChannel = count;
      this.drainHeld();
    } else {
      this.perConsumer = count;
    }
  }

  /** The prefetch the client sees for a new consumer: the smaller non-zero of both. */
  private clientPrefetch(): number {
    if (this.perChannel === 0) return this.perConsumer;
    return this.perConsumer === 0 ? this.perChannel : Math.min(this.perConsumer, this.perChannel);
  }

  async consume(queue: string, f: Fields, nowait: boolean): Promise<void> {
    const session = this.host.session;
    const tag = str(f.consumerTag) || `amq.ctag-${randomBytes(16).toString("base64url")}`;
    if (this.links.has(tag))
      throw new AmqpError(REPLY.notAllowed, `attempt to reuse consumer tag '${tag}'`);
    await session.queueCounts(queue); // NOT_FOUND before any socket is opened
    const noAck = f.noAck === true;
    const link: Link = {
      tag,
      queue,
      noAck,
      consumer: null,
      started: false,
      cancelled: false,
      outstanding: 0,
      limit: noAck ? 0 : this.perConsumer,
      held: [],
    };
    this.links.set(tag, link);
    const args =
      f.arguments !== null && typeof f.arguments === "object"
        ? (f.arguments as Record<string, unknown>)
        : {};
    const clientPrefetch = noAck ? 0 : this.clientPrefetch();
    const prefetch = noAck ? 0 : brokerPrefetch(clientPrefetch, this.host.lookahead);
    const consumer = session.consume(queue, (delivery) => this.onDelivery(link, delivery, nowait), {
      tag,
      prefetch,
      ack: noAck ? "auto" : "manual",
      // AMQP clients ack one delivery per frame, a few per TCP read: acks wait up to ACK_LINGER_MS
      // to share a broker frame (Kafka's linger.ms), else each frame carries about one ack and
      // the broker's per-frame cost bounds the rate. At prefetch 1 nothing else could join.
      lingerMs: clientPrefetch === 1 ? 0 : ACK_LINGER_MS,
      exclusive: f.exclusive === true,
      ...(Object.keys(args).length > 0 ? { arguments: args } : {}),
    });
    link.consumer = consumer;
    let settled = false;
    const outcome = await withTimeout(
      new Promise<"ready" | "closed" | { code: string; reason: string }>((resolve) => {
        void consumer.ready.then(() => resolve("ready"));
        consumer.onError = (code, reason) => {
          if (!settled) resolve({ code, reason });
        };
        consumer.onClose = () => {
          if (!settled) resolve("closed");
        };
      }),
      CONSUME_TIMEOUT_MS,
      "closed" as const,
    );
    settled = true;
    consumer.onError = () => {};
    consumer.onClose = () => {};
    if (outcome !== "ready") {
      this.links.delete(tag);
      session.closeConsumer(consumer);
      const where = `queue '${queue}' in vhost '${session.vhost}'`;
      if (
        outcome !== "closed" &&
        outcome.code === "access_refused" &&
        /exclusive/i.test(outcome.reason)
      ) {
        throw new AmqpError(REPLY.accessRefused, `${where} in exclusive use`);
      }
      if (outcome !== "closed") throw new AmqpError(REPLY.preconditionFailed, outcome.reason);
      // The broker refused the consumer socket: the queue exists (checked above), so the user
      // may not read it (the upgrade's 403), unless it was deleted meanwhile.
      await session.queueCounts(queue);
      throw new AmqpError(
        REPLY.accessRefused,
        `access to ${where} refused for user '${session.user}'`,
      );
    }
    consumer.onCancel = () => this.brokerCancelled(link);
    // A dropped broker socket voids what the bridge held: the broker gives those deliveries back
    // and the consumer subscribes again, so they come again under new tags.
    consumer.onClose = () => this.dropHeld(link, false);
    this.start(link, nowait);
  }

  /** basic.consume-ok, once, before the consumer's first delivery. */
  private start(link: Link, nowait: boolean): void {
    if (link.started) return;
    link.started = true;
    if (!nowait && this.isOpen()) {
      this.host.write([
        encodeMethod(METHOD.basicConsumeOk, this.channel, { consumerTag: link.tag }),
      ]);
    }
  }

  private onDelivery(link: Link, delivery: Delivery, nowait: boolean): void {
    if (!this.isOpen()) return; // the channel is closing: its sockets give everything back
    if (this.links.get(link.tag) !== link) {
      // On its way when the consumer was cancelled: back to the queue now, not when the
      // cancelled consumer's socket closes after the client settled the rest.
      if (!link.noAck) delivery.nack(true);
      return;
    }
    this.start(link, nowait);
    if (link.noAck || (link.held.length === 0 && this.hasRoom(link))) {
      this.deliver(link, delivery);
      return;
    }
    link.held.push(delivery);
    this.waiting.add(link);
  }

  /** May the client get one more delivery of this consumer (both prefetch limits)? */
  private hasRoom(link: Link): boolean {
    return (
      (link.limit === 0 || link.outstanding < link.limit) &&
      (this.perChannel === 0 || this.consumerUnacked < this.perChannel)
    );
  }

  private deliver(link: Link, delivery: Delivery): void {
    const deliveryTag = ++this.lastTag;
    if (!link.noAck) {
      this.unacked.set(deliveryTag, { kind: "delivery", link, delivery });
      link.outstanding += 1;
      this.consumerUnacked += 1;
    }
    const body = Buffer.from(
      delivery.body.buffer,
      delivery.body.byteOffset,
      delivery.body.byteLength,
    );
    this.host.write(
      encodeContent(
        METHOD.basicDeliver,
        this.channel,
        {
          consumerTag: link.tag,
          deliveryTag,
          redelivered: delivery.redelivered,
          exchange: wireExchange(delivery.exchange),
          routingKey: delivery.routingKey,
        },
        fromBrokerProperties(delivery.properties),
        body,
        this.host.frameMax,
      ),
    );
  }

  /** Hands held deliveries to the client as acks make room, one per consumer in turn. */
  private drainHeld(): void {
    let progress = true;
    while (progress && this.waiting.size > 0) {
      progress = false;
      for (const link of this.waiting) {
        if (!this.hasRoom(link)) continue;
        this.deliver(link, link.held.shift() as Delivery);
        progress = true;
        if (link.held.length === 0) this.waiting.delete(link);
      }
    }
  }

  /** Held deliveries never reached the client: back to the queue (or gone with the socket). */
  private dropHeld(link: Link, requeue: boolean): void {
    if (requeue) for (const delivery of link.held) delivery.nack(true);
    link.held.length = 0;
    this.waiting.delete(link);
  }

  /** The broker cancelled a consumer (its queue was deleted): basic.cancel to the client. */
  private brokerCancelled(link: Link): void {
    if (this.links.get(link.tag) !== link) return;
    this.links.delete(link.tag);
    this.dropHeld(link, false);
    if (this.host.cancelNotify && this.isOpen()) {
      this.host.write([
        encodeMethod(METHOD.basicCancel, this.channel, { consumerTag: link.tag, nowait: true }),
      ]);
    }
    if (link.consumer) this.host.session.closeConsumer(link.consumer);
  }

  async cancel(tag: string, nowait: boolean): Promise<void> {
    const link = this.links.get(tag);
    if (link?.consumer) {
      this.links.delete(tag);
      link.cancelled = true;
      this.draining.add(link);
      this.waiting.delete(link); // held deliveries stop here; given back after cancel-ok
      await withTimeout(link.consumer.cancel(), CONSUME_TIMEOUT_MS, undefined);
      this.dropHeld(link, true);
      this.closeIfDrained(link);
    }
    if (!nowait && this.isOpen()) {
      this.host.write([encodeMethod(METHOD.basicCancelOk, this.channel, { consumerTag: tag })]);
    }
  }

  private closeIfDrained(link: Link): void {
    if (link.cancelled && link.outstanding === 0 && link.consumer) {
      this.draining.delete(link);
      this.host.session.closeConsumer(link.consumer);
    }
  }

  async get(queue: string, noAck: boolean): Promise<void> {
    const session = this.host.session;
    let message: PulledMessage | null;
    let messageCount: number;
    if (noAck) {
      const taken = await session.take(queue);
      message = taken;
      messageCount = taken?.message_count ?? 0;
    } else {
      message = await session.pull(queue);
      messageCount = message ? (await session.queueCounts(queue)).messageCount : 0;
    }
    if (!this.isOpen()) {
      if (message && !noAck)
        void session
          .settleLeases(queue, [], [{ lease: message.lease, requeue: true }])
          .catch(() => {});
      return;
    }
    if (message === null) {
      this.host.write([encodeMethod(METHOD.basicGetEmpty, this.channel, { clusterId: "" })]);
      return;
    }
    const deliveryTag = ++this.lastTag;
    if (!noAck) this.unacked.set(deliveryTag, { kind: "lease", queue, lease: message.lease });
    this.host.write(
      encodeContent(
        METHOD.basicGetOk,
        this.channel,
        {
          deliveryTag,
          redelivered: message.redelivered,
          exchange: wireExchange(message.exchange),
          routingKey: message.routing_key,
          messageCount,
        },
        fromBrokerProperties(message.properties),
        bodyOf(message),
        this.host.frameMax,
      ),
    );
  }

  /** basic.ack (outcome ack), basic.nack and basic.reject (outcome nack). */
  async settle(
    outcome: "ack" | "nack",
    deliveryTag: number,
    multiple: boolean,
    requeue: boolean,
  ): Promise<void> {
    const entries: [number, Unacked][] = [];
    if (multiple) {
      for (const entry of this.unacked) {
        if (deliveryTag !== 0 && entry[0] > deliveryTag) break;
        entries.push(entry);
      }
    } else {
      const entry = this.unacked.get(deliveryTag);
      if (entry) entries.push([deliveryTag, entry]);
    }
    if (entries.length === 0 && !(multiple && deliveryTag === 0)) {
      throw new AmqpError(REPLY.preconditionFailed, `unknown delivery tag ${deliveryTag}`);
    }
    await this.settleEntries(entries, outcome, requeue);
  }

  private async settleEntries(
    entries: [number, Unacked][],
    outcome: "ack" | "nack",
    requeue: boolean,
  ): Promise<void> {
    const leases = new Map<
      string,
      { acks: string[]; nacks: { lease: string; requeue: boolean }[] }
    >();
    for (const [tag, entry] of entries) {
      this.unacked.delete(tag);
      if (entry.kind === "delivery") {
        if (outcome === "ack") entry.delivery.ack();
        else entry.delivery.nack(requeue);
        entry.link.outstanding -= 1;
        this.consumerUnacked -= 1;
        this.closeIfDrained(entry.link);
      } else {
        const group = leases.get(entry.queue) ?? { acks: [], nacks: [] };
        if (outcome === "ack") group.acks.push(entry.lease);
        else group.nacks.push({ lease: entry.lease, requeue });
        leases.set(entry.queue, group);
      }
    }
    this.drainHeld();
    for (const [queue, group] of leases) {
      await this.host.session.settleLeases(queue, group.acks, group.nacks);
    }
  }

  /** basic.recover requeue=true: every unacked delivery goes back to its queue. */
  async recover(): Promise<void> {
    await this.settleEntries([...this.unacked], "nack", true);
  }

  /** The channel is closing: close consumer sockets (the broker requeues), return gets. */
  release(): void {
    const session = this.host.session;
    for (const link of [...this.links.values(), ...this.draining]) {
      if (link.consumer) session.closeConsumer(link.consumer);
    }
    for (const link of this.waiting) this.dropHeld(link, false);
    this.links.clear();
    this.draining.clear();
    const leases = new Map<string, { lease: string; requeue: boolean }[]>();
    for (const entry of this.unacked.values()) {
      if (entry.kind !== "lease") continue;
      leases.set(entry.queue, [
        ...(leases.get(entry.queue) ?? []),
        { lease: entry.lease, requeue: true },
      ]);
    }
    this.unacked.clear();
    this.consumerUnacked = 0;
    for (const [queue, nacks] of leases) {
      // Best effort: a lease not given back expires and its message returns anyway.
      void session.settleLeases(queue, [], nacks).catch(() => {});
    }
  }
}
