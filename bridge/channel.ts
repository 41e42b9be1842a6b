/**
 * One AMQP channel: its methods run one after another in the order they arrived (a publish
 * after a queue.declare sees the queue), management methods become broker HTTP calls, publishes
 * go to the connection's producer socket, and consumers get a consumer socket each
 * (deliveries.ts). A failure closes the channel with RabbitMQ's reply code, or the connection
 * for the spec's hard errors.
 */
import { randomBytes } from "node:crypto";
import type { BrokerSession } from "./broker-session.ts";
import { BASIC_CLASS, encodeContent, encodeMethod, type Fields, METHOD } from "./codec.ts";
import { ConfirmTracker } from "./confirms.ts";
import { Deliveries } from "./deliveries.ts";
import type { ExclusiveQueues } from "./exclusive-queues.ts";
import { toBrokerProperties } from "./properties.ts";
import { AmqpError, fromBroker, REPLY } from "./reply-codes.ts";

export interface ChannelHost {
  readonly session: BrokerSession;
  readonly frameMax: number;
  /** The client asked for basic.cancel from the server (capability consumer_cancel_notify). */
  readonly cancelNotify: boolean;
  /** How many times the client's prefetch a consumer takes from the broker (deliveries.ts). */
  readonly lookahead: number;
  readonly exclusiveQueues: ExclusiveQueues;
  readonly connectionId: string;
  write(frames: Buffer[]): void;
  /** A connection error: closes the whole connection. */
  fail(error: AmqpError, classId: number, methodId: number): void;
  channelClosed(id: number): void;
}

/** How long a closing channel waits for its publishes to be confirmed by the broker. */
const CLOSE_DRAIN_MS = 10_000;

interface Task {
  readonly run: () => void | Promise<void>;
  /** The method it handles, for the class and method ids of a channel.close. */
  readonly method: number;
}

interface IncomingContent {
  readonly fields: Fields;
  properties: Fields | null;
  size: number;
  received: number;
  readonly chunks: Buffer[];
}

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const table = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};

export class AmqpChannel {
  readonly id: number;
  private readonly host: ChannelHost;
  private state: "open" | "closing" | "closed" = "open";
  private readonly tasks: Task[] = [];
  private running = false;
  private content: IncomingContent | null = null;
  private confirms: ConfirmTracker | null = null;
  private readonly inflight = new Set<Promise<unknown>>();
  private lastQueue = "";
  /** Publishes handed to the broker so far (the connection's close waits until it settles). */
  published = 0;
  readonly deliveries: Deliveries;

  constructor(id: number, host: ChannelHost) {
    this.id = id;
    this.host = host;
    this.deliveries = new Deliveries(id, host, () => this.state === "open");
  }

  get open(): boolean {
    return this.state === "open";
  }

  // -------------------------------------------------------------------------------------------
  // Frames in

  method(id: number, fields: Fields): void {
    if (this.state === "closed") return;
    if (id === METHOD.channelCloseOk) {
      if (this.state === "closing") this.finish();
      return;
    }
    if (id === METHOD.channelClose) {
      this.enqueue(() => this.closeByClient(), id);
      return;
    }
    // After the server closed the channel, everything but close and close-ok is dropped
    // (AMQP 0-9-1, 2.2.4: the peer must discard frames until it sees close-ok).
    if (this.state !== "open") return;
    if (this.content !== null) {
      this.host.fail(
        new AmqpError(REPLY.unexpectedFrame, `expected content header for class 60, got ${id}`),
        id >>> 16,
        id & 0xffff,
      );
      return;
    }
    if (id === METHOD.basicPublish) {
      this.content = { fields, properties: null, size: 0, received: 0, chunks: [] };
      return;
    }
    this.enqueue(() => this.handle(id, fields), id);
  }

  header(classId: number, size: number, properties: Fields): void {
    if (this.state !== "open") return;
    const content = this.content;
    if (content === null || content.properties !== null || classId !== BASIC_CLASS) {
      this.host.fail(
        new AmqpError(REPLY.unexpectedFrame, "content header without basic.publish"),
        0,
        0,
      );
      return;
    }
    content.properties = properties;
    content.size = size;
    if (size === 0) this.contentDone(content);
  }

  body(chunk: Buffer): void {
    if (this.state !== "open") return;
    const content = this.content;
    if (content === null || content.properties === null) {
      this.host.fail(new AmqpError(REPLY.unexpectedFrame, "content body without header"), 0, 0);
      return;
    }
    content.chunks.push(chunk);
    content.received += chunk.length;
    if (content.received > content.size) {
      this.host.fail(
        new AmqpError(REPLY.frameError, "content body longer than its header said"),
        0,
        0,
      );
      return;
    }
    if (content.received === content.size) this.contentDone(content);
  }

  private contentDone(content: IncomingContent): void {
    this.content = null;
    const body =
      content.chunks.length === 1 ? (content.chunks[0] as Buffer) : Buffer.concat(content.chunks);
    this.enqueue(
      () => this.publish(content.fields, content.properties ?? {}, body),
      METHOD.basicPublish,
    );
  }

  // -------------------------------------------------------------------------------------------
  // In order, one at a time

  private enqueue(run: () => void | Promise<void>, method: number): void {
    this.tasks.push({ run, method });
    if (!this.running) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    while (this.tasks.length > 0) {
      const task = this.tasks.shift() as Task;
      try {
        const result = task.run();
        if (result !== undefined) await result;
      } catch (error) {
        this.error(fromBroker(error), task.method >>> 16, task.method & 0xffff);
      }
    }
    this.running = false;
  }

  private reply(id: (typeof METHOD)[keyof typeof METHOD], fields: Fields, nowait = false): void {
    if (!nowait && this.state === "open") this.host.write([encodeMethod(id, this.id, fields)]);
  }

  private async handle(id: number, f: Fields): Promise<void> {
    const session = this.host.session;
    const nowait = f.nowait === true;
    switch (id) {
      case METHOD.exchangeDeclare: {
        await session.declareExchange(
          str(f.exchange),
          {
            type: str(f.type),
            durable: f.durable === true,
            auto_delete: f.autoDelete === true,
            internal: f.internal === true,
            arguments: table(f.arguments),
          },
          f.passive === true,
        );
        return this.reply(METHOD.exchangeDeclareOk, {}, nowait);
      }
      case METHOD.exchangeDelete:
        await session.deleteExchange(str(f.exchange), f.ifUnused === true);
        return this.reply(METHOD.exchangeDeleteOk, {}, nowait);
      case METHOD.exchangeBind:
      case METHOD.exchangeUnbind: {
        const operation = id === METHOD.exchangeBind ? "bind" : "unbind";
        await session[operation](
          "e",
          str(f.destination),
          str(f.source),
          str(f.routingKey),
          table(f.arguments),
        );
        return this.reply(
          id === METHOD.exchangeBind ? METHOD.exchangeBindOk : METHOD.exchangeUnbindOk,
          {},
          nowait,
        );
      }
      case METHOD.queueDeclare:
        return this.declareQueue(f, nowait);
      case METHOD.queueBind:
      case METHOD.queueUnbind: {
        const queue = this.queueName(f.queue);
        this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
        const operation = id === METHOD.queueBind ? "bind" : "unbind";
        await session[operation](
          "q",
          queue,
          str(f.exchange),
          str(f.routingKey),
          table(f.arguments),
        );
        return this.reply(
          id === METHOD.queueBind ? METHOD.queueBindOk : METHOD.queueUnbindOk,
          {},
          id === METHOD.queueBind && nowait,
        );
      }
      case METHOD.queuePurge: {
        const queue = this.queueName(f.queue);
        this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
        const messageCount = await session.purgeQueue(queue);
        return this.reply(METHOD.queuePurgeOk, { messageCount }, nowait);
      }
      case METHOD.queueDelete: {
        const queue = this.queueName(f.queue);
        this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
        const messageCount = await session.deleteQueue(
          queue,
          f.ifUnused === true,
          f.ifEmpty === true,
        );
        this.host.exclusiveQueues.forget(session.vhost, queue);
        return this.reply(METHOD.queueDeleteOk, { messageCount }, nowait);
      }
      case METHOD.basicQos:
        if (Number(f.prefetchSize) !== 0) {
          throw new AmqpError(REPLY.notImplemented, `prefetch_size!=0 (${String(f.prefetchSize)})`);
        }
        this.deliveries.qos(Number(f.prefetchCount), f.global === true);
        return this.reply(METHOD.basicQosOk, {});
      case METHOD.basicConsume: {
        const queue = this.queueName(f.queue);
        this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
        return this.deliveries.consume(queue, f, nowait);
      }
      case METHOD.basicCancel:
        return this.deliveries.cancel(str(f.consumerTag), nowait);
      case METHOD.basicGet: {
        const queue = this.queueName(f.queue);
        this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
        return this.deliveries.get(queue, f.noAck === true);
      }
      case METHOD.basicAck:
        return this.deliveries.settle("ack", Number(f.deliveryTag), f.multiple === true, false);
      case METHOD.basicNack:
        return this.deliveries.settle(
          "nack",
          Number(f.deliveryTag),
          f.multiple === true,
          f.requeue !== false,
        );
      case METHOD.basicReject:
        return this.deliveries.settle("nack", Number(f.deliveryTag), false, f.requeue !== false);
      case METHOD.basicRecover:
      case METHOD.basicRecoverAsync:
        // RabbitMQ refuses requeue=false (rabbit_channel: not_implemented "requeue=false").
        if (f.requeue === false) throw new AmqpError(REPLY.notImplemented, "requeue=false");
        await this.deliveries.recover();
        if (id === METHOD.basicRecover) this.reply(METHOD.basicRecoverOk, {});
        return;
      case METHOD.confirmSelect:
        this.confirms ??= new ConfirmTracker((outcome, tag, multiple) => {
          if (this.state !== "open") return;
          const method = outcome === "ack" ? METHOD.basicAck : METHOD.basicNack;
          const fields: Fields = { deliveryTag: tag, multiple };
          if (outcome === "nack") fields.requeue = false;
          this.host.write([encodeMethod(method, this.id, fields)]);
        });
        return this.reply(METHOD.confirmSelectOk, {}, nowait);
      case METHOD.channelFlow:
        // Only flow=true is meaningful from a client (RabbitMQ refuses active=false too).
        if (f.active === false) throw new AmqpError(REPLY.notImplemented, "active=false");
        return this.reply(METHOD.channelFlowOk, { active: true });
      case METHOD.accessRequest:
        return this.reply(METHOD.accessRequestOk, { ticket: 1 });
      case METHOD.txSelect:
      case METHOD.txCommit:
      case METHOD.txRollback:
        throw new AmqpError(
          REPLY.notImplemented,
          "transactions (tx.select) are not supported by the bridge; use publisher confirms",
        );
      default:
        this.host.fail(
          new AmqpError(
            REPLY.commandInvalid,
            `unexpected method ${id >>> 16}/${id & 0xffff} on channel ${this.id}`,
          ),
          id >>> 16,
          id & 0xffff,
        );
    }
  }

  /** `""` names the queue this channel declared last, as RabbitMQ allows. */
  private queueName(value: unknown): string {
    const name = str(value);
    if (name !== "") return name;
    if (this.lastQueue === "") throw new AmqpError(REPLY.notFound, "no previously declared queue");
    return this.lastQueue;
  }

  private async declareQueue(f: Fields, nowait: boolean): Promise<void> {
    const session = this.host.session;
    const exclusive = f.exclusive === true;
    const passive = f.passive === true;
    let queue = str(f.queue);
    // Server-named queues: the broker reserves the `amq.` prefix for itself, so not amq.gen-.
    if (queue === "" && !passive) queue = `bridge.gen-${randomBytes(16).toString("base64url")}`;
    else if (queue === "") queue = this.queueName(queue);
    this.host.exclusiveQueues.check(session.vhost, queue, this.host.connectionId);
    const counts = await session.declareQueue(
      queue,
      {
        durable: f.durable === true,
        auto_delete: f.autoDelete === true,
        arguments: table(f.arguments),
      },
      passive,
    );
    if (exclusive && !passive)
      this.host.exclusiveQueues.claim(session.vhost, queue, this.host.connectionId);
    this.lastQueue = queue;
    this.reply(METHOD.queueDeclareOk, { queue, ...counts }, nowait);
  }

  // -------------------------------------------------------------------------------------------
  // Publishing

  private publish(f: Fields, properties: Fields, body: Buffer): void {
    if (f.immediate === true) throw new AmqpError(REPLY.notImplemented, "immediate=true");
    const exchange = str(f.exchange);
    const routingKey = str(f.routingKey);
    const mandatory = f.mandatory === true;
    const tag = this.confirms?.next() ?? 0;
    let payload: string | Uint8Array = body;
    try {
      // Text goes as text: no base64 on either side of the socket.
      payload = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      // not UTF-8: sent as bytes
    }
    const sent = this.host.session
      .publisher()
      .publish(exchange, routingKey, payload, toBrokerProperties(properties))
      .then(
        ({ routed }) => {
          if (this.state !== "open") return;
          if (mandatory && !routed) {
            // basic.return goes out before the confirm of the same message, as in RabbitMQ.
            this.host.write(
              encodeContent(
                METHOD.basicReturn,
                this.id,
                { replyCode: REPLY.noRoute, replyText: "NO_ROUTE", exchange, routingKey },
                properties,
                body,
                this.host.frameMax,
              ),
            );
          }
          if (tag > 0) this.confirms?.settle(tag, "ack");
        },
        (error: unknown) => {
          if (this.state !== "open") return;
          const amqpError = fromBroker(
            error,
            `no exchange '${exchange}' in vhost '${this.host.session.vhost}'`,
          );
          // Refusals RabbitMQ answers with a channel error close the channel here too; anything
          // else (the broker failing to take the message) is a basic.nack: nothing was stored.
          if (amqpError.replyCode === REPLY.internalError && tag > 0)
            this.confirms?.settle(tag, "nack");
          else this.error(amqpError, BASIC_CLASS, 40);
        },
      );
    this.published += 1;
    this.inflight.add(sent);
    void sent.finally(() => this.inflight.delete(sent));
  }

  /** Waits (bounded) until the broker has answered every publish of this channel. */
  async drain(): Promise<void> {
    if (this.inflight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, CLOSE_DRAIN_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  // -------------------------------------------------------------------------------------------
  // Closing

  private async closeByClient(): Promise<void> {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closing";
    if (wasOpen) await this.drain();
    this.release();
    this.host.write([encodeMethod(METHOD.channelCloseOk, this.id, {})]);
    this.finish();
  }

  /** A channel error: RabbitMQ's channel.close; the client answers close-ok. */
  error(error: AmqpError, classId: number, methodId: number): void {
    if (this.state !== "open") return;
    if (error.hard) {
      this.host.fail(error, classId, methodId);
      return;
    }
    this.state = "closing";
    this.tasks.length = 0;
    this.release();
    this.host.write([
      encodeMethod(METHOD.channelClose, this.id, {
        replyCode: error.replyCode,
        replyText: error.replyText,
        classId,
        methodId,
      }),
    ]);
  }

  /** Gives back what the channel holds: consumers close (their deliveries return), gets return. */
  release(): void {
    this.content = null;
    this.deliveries.release();
  }

  private finish(): void {
    this.state = "closed";
    this.tasks.length = 0;
    this.host.channelClosed(this.id);
  }
}
