/**
 * One AMQP 0-9-1 connection, as RabbitMQ 3.10 serves it: protocol header, connection.start
 * (PLAIN and AMQPLAIN, checked by the broker), tune (channel_max, frame_max, heartbeat), open
 * (the vhost, checked by the broker), then channels. Ends by connection.close either way, or by
 * the socket dropping; either way every channel gives back what it holds and the connection's
 * exclusive queues are deleted.
 */
import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { BrokerSession, checkLogin } from "./broker-session.ts";
import { AmqpChannel, type ChannelHost } from "./channel.ts";
import {
  encodeMethod,
  type Fields,
  FrameError,
  FrameReader,
  HEARTBEAT,
  type InboundFrame,
  METHOD,
  PROTOCOL_HEADER,
} from "./codec.ts";
import type { ExclusiveQueues } from "./exclusive-queues.ts";
import { AmqpError, REPLY } from "./reply-codes.ts";
import { parseCredentials } from "./sasl.ts";

export interface ConnectionOptions {
  readonly broker: string;
  readonly exclusiveQueues: ExclusiveQueues;
  readonly channelMax: number;
  readonly frameMax: number;
  readonly heartbeat: number;
  /** Broker-side prefetch as a multiple of the client's (deliveries.ts). */
  readonly lookahead: number;
  readonly version: string;
  readonly log: (line: string) => void;
}

/** How long the bridge waits for close-ok after it closed the connection. */
const CLOSE_OK_WAIT_MS = 3_000;

/** `draining`: the client sent connection.close; frames already on the wire are still handled. */
type Phase =
  | "header"
  | "start"
  | "tune"
  | "open"
  | "open-wait"
  | "running"
  | "draining"
  | "closing"
  | "closed";

export class AmqpConnection implements ChannelHost {
  readonly connectionId = randomUUID();
  readonly exclusiveQueues: ExclusiveQueues;
  private readonly socket: Socket;
  private readonly options: ConnectionOptions;
  private readonly reader = new FrameReader();
  private phase: Phase = "header";
  private header = Buffer.alloc(0);
  private user = "";
  private password = "";
  private sessionRef: BrokerSession | null = null;
  private readonly channels = new Map<number, AmqpChannel>();
  private channelMax: number;
  frameMax: number;
  cancelNotify = false;
  get lookahead(): number {
    return this.options.lookahead;
  }
  private heartbeat = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastReceived = Date.now();
  private wroteSinceTick = false;
  private corked = false;
  /** Resolves when the connection has ended and released everything. */
  readonly ended: Promise<void>;
  private markEnded: () => void = () => {};

  constructor(socket: Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.options = options;
    this.exclusiveQueues = options.exclusiveQueues;
    this.channelMax = options.channelMax;
    this.frameMax = options.frameMax;
    this.reader.maxFrame = options.frameMax;
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", () => {});
    socket.on("close", () => void this.end());
  }

  get session(): BrokerSession {
    if (this.sessionRef === null) throw new AmqpError(REPLY.commandInvalid, "connection not open");
    return this.sessionRef;
  }

  // -------------------------------------------------------------------------------------------
  // Bytes in

  private receive(chunk: Buffer): void {
    this.lastReceived = Date.now();
    if (this.phase === "closed") return;
    if (this.phase === "header") {
      this.header = Buffer.concat([this.header, chunk]);
      if (this.header.length < 8) return;
      if (!this.header.subarray(0, 8).equals(PROTOCOL_HEADER)) {
        // AMQP 0-9-1, 4.2.2: answer a bad header with the protocol header we speak, then close.
        this.socket.end(PROTOCOL_HEADER);
        this.phase = "closed";
        return;
      }
      chunk = this.header.subarray(8);
      this.phase = "start";
      this.sendStart();
      if (chunk.length === 0) return;
    }
    let frames: InboundFrame[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      const code = error instanceof FrameError ? error.replyCode : REPLY.frameError;
      this.fail(new AmqpError(code, (error as Error).message), 0, 0);
      return;
    }
    for (const frame of frames) {
      if ((this.phase as Phase) === "closed") return;
      this.frame(frame);
    }
  }

  private frame(frame: InboundFrame): void {
    if (frame.kind === "heartbeat") return;
    if (frame.channel === 0) {
      if (frame.kind !== "method") {
        this.fail(new AmqpError(REPLY.unexpectedFrame, "content frame on channel 0"), 0, 0);
        return;
      }
      void this.connectionMethod(frame.id, frame.fields);
      return;
    }
    if (this.phase !== "running" && this.phase !== "draining") {
      if (this.phase === "closing") return;
      this.fail(new AmqpError(REPLY.channelError, "channel frame before connection.open"), 0, 0);
      return;
    }
    const channel = this.channels.get(frame.channel);
    if (frame.kind === "method" && frame.id === METHOD.channelOpen) {
      if (channel) {
        this.fail(
          new AmqpError(
            REPLY.channelError,
            `second 'channel.open' seen on channel ${frame.channel}`,
          ),
          20,
          10,
        );
      } else if (frame.channel > this.channelMax) {
        this.fail(
          new AmqpError(
            REPLY.notAllowed,
            `channel ${frame.channel} above channel_max ${this.channelMax}`,
          ),
          20,
          10,
        );
      } else {
        this.channels.set(frame.channel, new AmqpChannel(frame.channel, this));
        this.write([
          encodeMethod(METHOD.channelOpenOk, frame.channel, { channelId: Buffer.alloc(0) }),
        ]);
      }
      return;
    }
    if (!channel) {
      // A close-ok for a channel already gone is harmless; anything else is a protocol error.
      if (frame.kind === "method" && frame.id === METHOD.channelCloseOk) return;
      this.fail(
        new AmqpError(REPLY.channelError, `expected 'channel.open' on channel ${frame.channel}`),
        0,
        0,
      );
      return;
    }
    if (frame.kind === "method") channel.method(frame.id, frame.fields);
    else if (frame.kind === "header") channel.header(frame.classId, frame.size, frame.properties);
    else channel.body(frame.content);
  }

  // -------------------------------------------------------------------------------------------
  // Channel 0

  private sendStart(): void {
    this.write([
      encodeMethod(METHOD.connectionStart, 0, {
        versionMajor: 0,
        versionMinor: 9,
        serverProperties: {
          product: "workers-broker AMQP bridge",
          version: this.options.version,
          platform: `Node.js ${process.version}`,
          copyright: "workers-broker contributors",
          information: "AMQP 0-9-1 in front of workers-broker; see docs/amqp-bridge.md",
          capabilities: {
            publisher_confirms: true,
            exchange_exchange_bindings: true,
            "basic.nack": true,
            consumer_cancel_notify: true,
            "connection.blocked": false,
            consumer_priorities: false,
            authentication_failure_close: true,
            per_consumer_qos: true,
            direct_reply_to: false,
          },
        },
        mechanisms: Buffer.from("PLAIN AMQPLAIN"),
        locales: Buffer.from("en_US"),
      }),
    ]);
  }

  private async connectionMethod(id: number, f: Fields): Promise<void> {
    try {
      switch (id) {
        case METHOD.connectionStartOk:
          return await this.startOk(f);
        case METHOD.connectionTuneOk:
          return this.tuneOk(f);
        case METHOD.connectionOpen:
          return await this.open(f);
        case METHOD.connectionClose:
          return await this.closeByClient();
        case METHOD.connectionCloseOk:
          if (this.phase === "closing") this.socket.end();
          return;
        default:
          if (this.phase === "closing") return;
          throw new AmqpError(
            REPLY.commandInvalid,
            `unexpected method ${id >>> 16}/${id & 0xffff} on channel 0`,
          );
      }
    } catch (error) {
      const amqpError =
        error instanceof AmqpError
          ? error
          : new AmqpError(REPLY.internalError, (error as Error).message);
      this.fail(amqpError, id >>> 16, id & 0xffff);
    }
  }

  private async startOk(f: Fields): Promise<void> {
    if (this.phase !== "start")
      throw new AmqpError(REPLY.commandInvalid, "unexpected connection.start-ok");
    const mechanism = typeof f.mechanism === "string" ? f.mechanism : "";
    const properties = (f.clientProperties ?? {}) as Record<string, unknown>;
    const capabilities = (properties.capabilities ?? {}) as Record<string, unknown>;
    this.cancelNotify = capabilities.consumer_cancel_notify === true;
    const credentials = parseCredentials(
      mechanism,
      Buffer.isBuffer(f.response) ? f.response : Buffer.alloc(0),
    );
    const refused = new AmqpError(
      REPLY.accessRefused,
      `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`,
    );
    if (credentials === null) throw refused;
    this.phase = "tune";
    if ((await checkLogin(this.options.broker, credentials.user, credentials.password)) !== "ok") {
      this.options.log(`login refused for user '${credentials.user}'`);
      throw refused;
    }
    this.user = credentials.user;
    this.password = credentials.password;
    this.write([
      encodeMethod(METHOD.connectionTune, 0, {
        channelMax: this.options.channelMax,
        frameMax: this.options.frameMax,
        heartbeat: this.options.heartbeat,
      }),
    ]);
  }

  private tuneOk(f: Fields): void {
    if (this.phase !== "tune")
      throw new AmqpError(REPLY.commandInvalid, "unexpected connection.tune-ok");
    const channelMax = Number(f.channelMax);
    const frameMax = Number(f.frameMax);
    this.channelMax =
      channelMax > 0 ? Math.min(channelMax, this.options.channelMax) : this.options.channelMax;
    if (frameMax > this.options.frameMax) {
      throw new AmqpError(
        REPLY.syntaxError,
        `frame_max=${frameMax} > ${this.options.frameMax} max size`,
      );
    }
    this.frameMax = frameMax >= 4096 ? frameMax : this.options.frameMax;
    this.reader.maxFrame = this.frameMax;
    this.heartbeat = Number(f.heartbeat) || 0;
    this.phase = "open";
    if (this.heartbeat > 0) {
      // Heartbeats as RabbitMQ sends them: at half the interval when nothing else was sent;
      // a client silent for two intervals is gone (AMQP 0-9-1, 4.2.7).
      const tick = (this.heartbeat * 1000) / 2;
      this.heartbeatTimer = setInterval(() => {
        if (!this.wroteSinceTick) this.socket.write(HEARTBEAT);
        this.wroteSinceTick = false;
        if (Date.now() - this.lastReceived > this.heartbeat * 2000) {
          this.options.log(`missed heartbeats from client, timeout: ${this.heartbeat}s`);
          this.socket.destroy();
        }
      }, tick);
      this.heartbeatTimer.unref();
    }
  }

  private async open(f: Fields): Promise<void> {
    if (this.phase !== "open")
      throw new AmqpError(REPLY.commandInvalid, "unexpected connection.open");
    this.phase = "open-wait";
    const vhost = typeof f.virtualHost === "string" && f.virtualHost !== "" ? f.virtualHost : "/";
    const session = new BrokerSession(this.options.broker, this.user, this.password, vhost);
    await session.openVhost();
    if (this.phase !== "open-wait") return;
    this.sessionRef = session;
    this.phase = "running";
    this.write([encodeMethod(METHOD.connectionOpenOk, 0, { knownHosts: "" })]);
  }

  private async closeByClient(): Promise<void> {
    if (this.phase !== "running") {
      if (this.phase === "closing" || this.phase === "closed" || this.phase === "draining") return;
      this.phase = "closing";
    } else {
      this.phase = "draining";
      // Publishes made before connection.close are answered by the broker before close-ok, so
      // a client that closes right after publishing loses nothing. amqplib may write channel 0's
      // close ahead of content frames it still had queued: those are handled too.
      // Best effort: wait until no publish has arrived for three rounds in a row.
      let before = this.pendingPublishes();
      let quiet = 0;
      for (let round = 0; round < 100 && quiet < 3; round++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        await Promise.all([...this.channels.values()].map((channel) => channel.drain()));
        const now = this.pendingPublishes();
        quiet = now === before ? quiet + 1 : 0;
        before = now;
      }
      this.phase = "closing";
    }
    this.write([encodeMethod(METHOD.connectionCloseOk, 0, {})]);
    this.socket.end();
    await this.end();
  }

  private pendingPublishes(): number {
    let count = 0;
    for (const channel of this.channels.values()) count += channel.published;
    return count;
  }

  // -------------------------------------------------------------------------------------------
  // ChannelHost

  write(frames: Buffer[]): void {
    if (this.phase === "closed" || this.socket.destroyed) return;
    if (!this.corked) {
      // Frames written in the same turn leave in one TCP write.
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (const frame of frames) this.socket.write(frame);
    this.wroteSinceTick = true;
  }

  /** A connection error: connection.close with the reply code; the socket ends after close-ok. */
  fail(error: AmqpError, classId: number, methodId: number): void {
    if (this.phase === "closing" || this.phase === "closed") return;
    this.options.log(`closing connection: ${error.replyCode} ${error.replyText}`);
    const beforeOpen = this.phase !== "running";
    this.phase = "closing";
    for (const channel of this.channels.values()) channel.release();
    this.write([
      encodeMethod(METHOD.connectionClose, 0, {
        replyCode: error.replyCode,
        replyText: error.replyText,
        classId,
        methodId,
      }),
    ]);
    const timer = setTimeout(() => this.socket.destroy(), beforeOpen ? 500 : CLOSE_OK_WAIT_MS);
    timer.unref();
  }

  /** The server closes the connection (the bridge is stopping). */
  shutdown(): void {
    this.fail(
      new AmqpError(
        REPLY.connectionForced,
        "broker forced connection closure with reason 'shutdown'",
      ),
      0,
      0,
    );
  }

  channelClosed(id: number): void {
    this.channels.delete(id);
  }

  private async end(): Promise<void> {
    if (this.phase === "closed") return;
    this.phase = "closed";
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const channel of this.channels.values()) channel.release();
    this.channels.clear();
    const session = this.sessionRef;
    if (session) {
      const owned = this.exclusiveQueues.release(this.connectionId);
      await Promise.all(
        owned.map((queue) => session.deleteQueue(queue.name, false, false).catch(() => 0)),
      );
      session.close();
    }
    if (!this.socket.destroyed) this.socket.destroy();
    this.markEnded();
  }
}
