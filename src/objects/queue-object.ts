/**
 * A queue: one Durable Object per (vhost, queue). It stores messages in order (see
 * storage/message-store.ts), hands them out through the management API's get, to WebSocket
 * consumers it accepts with the Hibernation API (so idle consumers cost nothing and survive
 * eviction), and to pull consumers under leases, with long polls that answer as soon as a
 * message arrives. The delivery rules live in QueueEngine; this class wires RPC, sockets and the
 * alarm that enforces ack deadlines and lease expiry.
 */
import { DurableObject } from "cloudflare:workers";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { BrokerError, fail, type Result } from "../errors";
import { publishMessages } from "../gateway/publish";
import { vhostStub } from "../gateway/stubs";
import { deadLettered, isDeadLetterCycle } from "../protocol/dead-letter";
import type { QueueDeclaration } from "../protocol/declarations";
import { errorFrame, FRAME, parseConsumerFrame, type ServerFrame } from "../protocol/frames";
import type { PublishedMessage, StoredMessage } from "../protocol/message";
import { describe } from "../protocol/names";
import { handleConsumerFrame } from "../queue/consumer-frames";
import {
  type Leased,
  QueueEngine,
  type QueuePolicy,
  type QueueStats,
  type Settlement,
} from "../queue/queue-engine";
import { type QueueReport, QueueReporter } from "../queue/queue-report";
import { SocketAccess } from "../queue/socket-access";
import type { MessageStatsSnapshot } from "../runtime/message-stats";
import { fromJsonColumn, toJsonColumn } from "../storage/json-column";
import { migrate } from "../storage/migrations";
import { QUEUE_MIGRATIONS } from "../storage/queue-schema";

export type { QueueStats } from "../queue/queue-engine";

export type GetAckMode =
  | "ack_requeue_true"
  | "reject_requeue_true"
  | "ack_requeue_false"
  | "reject_requeue_false";

export type EnqueueResult = Result<{ stored: number }>;
export type GetResult = Result<{ messages: (StoredMessage & { remaining: number })[] }>;
export type PullResult = Result<{ messages: Leased[] }>;
export type SettleResult = Result<{ results: Settlement[] }>;

export interface LeaseSettlement {
  readonly lease: string;
  readonly outcome: "ack" | "requeue" | "drop";
  readonly delayMs: number;
}

/** WebSocket close code for a connection closed by an operator: 4000 + AMQP's 320. */
export const CONNECTION_FORCED = 4320;

export interface ConsumerInfo {
  readonly connection: string;
  readonly tag: string;
  readonly prefetch: number;
  readonly ackRequired: boolean;
  readonly exclusive: boolean;
  readonly unacked: number;
}

export interface ConsumerDetail {
  readonly consumer_tag: string;
  readonly ack_required: boolean;
  readonly prefetch_count: number;
  readonly exclusive: boolean;
  readonly active: boolean;
  readonly messages_unacknowledged: number;
  readonly channel_details: { readonly connection_name: string; readonly user: string };
}

interface SocketAttachment {
  readonly connection: string;
  readonly user: string;
  /** The user's identity when it logged in (src/queue/socket-access.ts). */
  readonly identity: string;
}

interface PullWaiter {
  readonly count: number;
  readonly visibilityMs: number;
  readonly resolve: (messages: Leased[]) => void;
}

export class QueueObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private declaration: QueueDeclaration | null;
  private readonly engine: QueueEngine;
  private readonly waiters: PullWaiter[] = [];
  private alarmAt: number | null = null;
  private readonly access: SocketAccess;
  private frames: Promise<void> = Promise.resolve();
  private accessCheckQueued = false;
  private resumeQueued = false;
  private deadLetterFlush: Promise<void> | null = null;
  private deadLetterAgain = false;
  /** Reports the counts to the vhost's catalog, throttled, off every message path. */
  readonly reports: QueueReporter;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.access = new SocketAccess(env);
    migrate(ctx.storage, QUEUE_MIGRATIONS);
    const row = this.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'declaration'")
      .toArray()[0];
    this.declaration = row ? fromJsonColumn<QueueDeclaration | null>(row.value, null) : null;
    this.engine = new QueueEngine(
      this.sql,
      () => this.policy(),
      (connection, frame) => this.sendTo(connection, frame),
      {
        mayDeliver: (connection) => this.mayDeliver(connection),
        resumeLater: () => this.resumeLater(),
      },
    );
    this.reports = new QueueReporter(
      () => {
        const stats = this.stats();
        return stats.ok ? { ...stats.stats, message_stats: stats.messageStats } : null;
      },
      (report) => this.sendReport(report),
    );
    // Keep-alive pings are answered without waking the object.
    ctx.setWebSocketAutoResponse(
      new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'),
    );
    // Hibernated sockets survive eviction; after a restart they are gone, and so must their
    // deliveries be: return them to the queue.
    const live = new Set(ctx.getWebSockets().map((ws) => attachmentOf(ws).connection));
    this.engine.releaseOrphans(live, Date.now());
    this.schedule();
  }

  configure(declaration: QueueDeclaration): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('declaration', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      toJsonColumn(declaration),
    );
    this.declaration = declaration;
    return { ok: true, created };
  }

  stats(): Result<{ stats: QueueStats; messageStats: MessageStatsSnapshot }> {
    if (!this.declaration) return notFound();
    // Counts never include a message that has expired, even before its alarm has run.
    this.engine.sweepExpired(Date.now());
    if (this.engine.deadLettersPending) this.flushDeadLetters();
    return { ok: true, stats: this.engine.stats(), messageStats: this.engine.rates.snapshot() };
  }

  /** The queue's consumers as RabbitMQ's queue page lists them (`consumer_details`). */
  consumerDetails(): Result<{ consumers: ConsumerDetail[] }> {
    if (!this.declaration) return notFound();
    const users = new Map(
      this.ctx.getWebSockets().map((ws) => [attachmentOf(ws).connection, attachmentOf(ws).user]),
    );
    const single = this.policy().singleActiveConsumer;
    const consumers = this.engine.consumers.all().map((consumer, index) => ({
      consumer_tag: consumer.tag,
      ack_required: !consumer.autoAck,
      prefetch_count: consumer.prefetch,
      exclusive: consumer.exclusive,
      active: !single || index === 0,
      messages_unacknowledged: consumer.unacked,
      channel_details: {
        connection_name: consumer.connection,
        user: users.get(consumer.connection) ?? "",
      },
    }));
    return { ok: true, consumers };
  }

  /**
   * Stores a batch in order, atomically, then hands what it can to consumers and long polls.
   * Nothing here waits for another object: dispatch delivers only to sockets whose access check
   * is current and asks for the others to be checked off this path (src/queue/socket-access.ts).
   */
  enqueue(messages: readonly PublishedMessage[]): EnqueueResult {
    const declaration = this.declaration;
    if (!declaration) return notFound();
    const now = Date.now();
    // RabbitMQ's cycle rule, for copies arriving from a dead-letter exchange.
    const accepted = messages.some((m) => m.deadLettered)
      ? messages.filter((m) => !isDeadLetterCycle(m, declaration.name))
      : messages;
    this.ctx.storage.transactionSync(() => this.engine.enqueue(accepted, now));
    this.wakeWaiters(now);
    // Without consumers, only an expiry earlier than the alarm set needs an alarm (a publish
    // then costs no query for the next wake-up).
    const expiry = this.engine.expiryDue;
    const expiresSooner = expiry !== null && (this.alarmAt === null || expiry < this.alarmAt);
    if (this.engine.consumers.size > 0 || expiresSooner) this.schedule();
    if (this.engine.deadLettersPending) this.flushDeadLetters();
    this.reports.changed();
    return { ok: true, stored: accepted.length };
  }

  get(count: number, ackmode: GetAckMode): GetResult {
    if (!this.declaration) return notFound();
    const requeue = ackmode === "ack_requeue_true" || ackmode === "reject_requeue_true";
    const messages = this.engine.get(
      count,
      requeue,
      Date.now(),
      ackmode === "reject_requeue_false",
    );
    this.schedule();
    return { ok: true, messages };
  }

  /** Leases messages to a pull consumer, waiting up to `waitMs` for one to arrive. */
  async pull(count: number, visibilityMs: number, waitMs: number): Promise<PullResult> {
    if (!this.declaration) return notFound();
    const messages = this.engine.pull(count, visibilityMs, Date.now());
    this.schedule();
    if (messages.length > 0 || waitMs <= 0) return { ok: true, messages };
    const waited = await new Promise<Leased[]>((resolve) => {
      const waiter: PullWaiter = { count, visibilityMs, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        resolve([]);
      }, waitMs);
    });
    return { ok: true, messages: waited };
  }

  settle(settlements: readonly LeaseSettlement[]): SettleResult {
    if (!this.declaration) return notFound();
    const now = Date.now();
    const results = settlements.map((s) =>
      this.engine.settleLease(s.lease, s.outcome, s.delayMs, now),
    );
    this.engine.dispatch(now);
    this.wakeWaiters(now);
    this.schedule();
    return { ok: true, results };
  }

  purge(): Result<{ purged: number }> {
    if (!this.declaration) return notFound();
    const purged = this.engine.purge();
    this.reports.changed();
    return { ok: true, purged };
  }

  /** Deletes the queue and its messages; consumers get a cancel frame and their sockets close. */
  destroy(options: { ifEmpty: boolean; ifUnused: boolean }): Result<{ removed: number }> {
    const declaration = this.declaration;
    if (!declaration) return notFound();
    const name = describe("queue", declaration.name, declaration.vhost);
    const stats = this.engine.stats();
    if (options.ifEmpty && stats.messages > 0) {
      return fail("bad_request", `PRECONDITION_FAILED - ${name} not empty`);
    }
    if (options.ifUnused && stats.consumers > 0) {
      return fail("bad_request", `PRECONDITION_FAILED - ${name} in use`);
    }
    for (const consumer of this.engine.consumers.all()) {
      this.sendTo(consumer.connection, {
        type: FRAME.cancel,
        tag: consumer.tag,
        reason: "queue deleted",
      });
    }
    for (const ws of this.ctx.getWebSockets()) ws.close(1000, "queue deleted");
    for (const waiter of this.waiters.splice(0)) waiter.resolve([]);
    this.ctx.storage.transactionSync(() => {
      this.engine.clear();
      this.sql.exec("DELETE FROM meta");
    });
    this.declaration = null;
    this.reports.stop();
    void this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
    return { ok: true, removed: stats.messages };
  }

  /** Which of these consumer connections are still open here (for the vhost's connection count). */
  liveConnections(ids: readonly string[]): string[] {
    const live = new Set(this.ctx.getWebSockets().map((ws) => attachmentOf(ws).connection));
    return ids.filter((id) => live.has(id));
  }

  /** This queue's consumers, for /api/consumers and /api/channels. */
  consumerList(): Result<{ consumers: ConsumerInfo[] }> {
    if (!this.declaration) return notFound();
    return {
      ok: true,
      consumers: this.engine.consumers.all().map((consumer) => ({
        connection: consumer.connection,
        tag: consumer.tag,
        prefetch: consumer.prefetch,
        ackRequired: !consumer.autoAck,
        exclusive: consumer.exclusive,
        unacked: consumer.unacked,
      })),
    };
  }

  /**
   * Closes a consumer connection from the management API (DELETE /api/connections/{name}), in
   * turn with its frames: its consumers go, and their unacknowledged deliveries return to the
   * queue, as when RabbitMQ force-closes a connection (320 CONNECTION_FORCED).
   */
  async forceClose(connection: string, reason: string): Promise<Result<object>> {
    await this.inTurn(async () => {
      for (const ws of this.ctx.getWebSockets(connection)) {
        try {
          ws.send(JSON.stringify(errorFrame("connection_forced", reason)));
          ws.close(CONNECTION_FORCED, reason.slice(0, 120));
        } catch {
          // Already closing.
        }
        this.closeConnection(ws);
      }
    });
    return { ok: true };
  }

  /** A consumer connection: the Worker has authenticated the upgrade and forwards it here. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: "bad_request", reason: "expected a WebSocket upgrade" },
        { status: 426 },
      );
    }
    if (!this.declaration) {
      return Response.json({ error: "Object Not Found", reason: "Not Found" }, { status: 404 });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const connection = request.headers.get("X-Broker-Connection") ?? crypto.randomUUID();
    this.ctx.acceptWebSocket(server, [connection]);
    const attachment: SocketAttachment = {
      connection,
      user: request.headers.get("X-Broker-User") ?? "",
      identity: request.headers.get("X-Broker-Identity") ?? "",
    };
    server.serializeAttachment(attachment);
    this.access.admit(connection, Date.now());
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Frames (and the close) are handled strictly in arrival order: the access check may wait for
   * the registry, and without this chain a later frame could overtake an earlier one.
   */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    return this.inTurn(() => this.receive(ws, message));
  }

  private async receive(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const { connection } = attachmentOf(ws);
    const declaration = this.declaration;
    if (declaration && !this.access.isCurrent(connection, Date.now())) {
      let revoked: Set<string>;
      try {
        revoked = await this.checkSockets();
        // A check already running when this socket went stale may not have covered it.
        if (!this.access.isCurrent(connection, Date.now())) revoked = await this.checkSockets();
      } catch (error) {
        console.error("checking a consumer's access failed", error);
        ws.send(JSON.stringify(errorFrame("unavailable", "access could not be checked: retry")));
        return;
      }
      if (revoked.has(connection)) return;
    }
    if (typeof message !== "string") {
      ws.send(JSON.stringify(errorFrame("bad_frame", "frames are JSON text, not binary")));
      return;
    }
    const parsed = parseConsumerFrame(message);
    if (!parsed.ok) {
      ws.send(JSON.stringify(errorFrame(parsed.code, parsed.reason)));
      return;
    }
    const reply = declaration
      ? handleConsumerFrame(
          {
            engine: this.engine,
            queue: declaration.name,
            send: (frame) => this.sendTo(connection, frame),
            cancelled: () => this.autoDeleteIfUnused(),
          },
          connection,
          parsed.frame,
          Date.now(),
        )
      : errorFrame("not_found", "the queue no longer exists");
    if (reply) ws.send(JSON.stringify(reply));
    this.schedule();
  }

  /** A close waits for the connection's frames before it: acks sent just before count. */
  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    await this.inTurn(async () => {
      this.closeConnection(ws);
      try {
        ws.close(code === 1005 ? 1000 : code, reason);
      } catch {
        // Already closed: nothing to answer.
      }
    });
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.inTurn(async () => this.closeConnection(ws));
  }

  private inTurn(step: () => Promise<void>): Promise<void> {
    const turn = this.frames.then(step);
    this.frames = turn.catch(() => undefined);
    return turn;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    this.alarmAt = null;
    this.engine.expire(now);
    this.wakeWaiters(now);
    this.schedule();
  }

  /**
   * Dispatch asks this before each delivery: a map lookup while the socket's access check holds.
   * A socket that is not current gets nothing now; its check runs, then dispatch runs again.
   */
  private mayDeliver(connection: string): boolean {
    if (this.access.isCurrent(connection, Date.now())) return true;
    this.requestAccessCheck();
    return false;
  }

  private requestAccessCheck(): void {
    if (this.accessCheckQueued) return;
    this.accessCheckQueued = true;
    void this.inTurn(async () => {
      this.accessCheckQueued = false;
      try {
        await this.checkSockets();
      } catch (error) {
        // The registry did not answer: the sockets stay unchecked (no deliveries); try again.
        console.error("checking consumers' access failed", error);
        setTimeout(() => this.requestAccessCheck(), ACCESS_RETRY_MS);
        return;
      }
      const now = Date.now();
      this.engine.dispatch(now);
      this.wakeWaiters(now);
      this.schedule();
    });
  }

  /** Checks the sockets whose access is not current; ends the revoked ones and answers them. */
  private async checkSockets(): Promise<Set<string>> {
    const declaration = this.declaration;
    if (!declaration) return new Set();
    const sockets = this.ctx.getWebSockets();
    const revoked = await this.access.refresh(
      sockets.map(attachmentOf),
      declaration.vhost,
      declaration.name,
    );
    for (const ws of sockets) {
      const { connection, user } = attachmentOf(ws);
      if (revoked.has(connection)) this.expel(ws, user);
    }
    return revoked;
  }

  /** A dispatch pass stopped at its byte budget: the next one runs a turn later. */
  private resumeLater(): void {
    if (this.resumeQueued) return;
    this.resumeQueued = true;
    setTimeout(() => {
      this.resumeQueued = false;
      const now = Date.now();
      this.engine.dispatch(now);
      this.schedule();
    }, 0);
  }

  private expel(ws: WebSocket, user: string): void {
    const reason = `user '${user}' may no longer read this queue (deleted, password changed or permission revoked)`;
    try {
      ws.send(JSON.stringify(errorFrame("access_refused", reason)));
      ws.close(4003, "access refused");
    } catch {
      // Already closing.
    }
    this.closeConnection(ws);
  }

  private closeConnection(ws: WebSocket): void {
    const { connection } = attachmentOf(ws);
    this.access.forget(connection);
    this.forgetConnection(connection);
    const now = Date.now();
    const hadConsumers = this.engine.consumers.size > 0;
    this.engine.closeConnection(connection, now);
    this.wakeWaiters(now);
    this.schedule();
    if (hadConsumers) this.autoDeleteIfUnused();
  }

  /**
   * An auto-delete queue is deleted when its last consumer goes (RabbitMQ: "a queue that has had
   * at least one consumer is deleted when the last consumer unsubscribes"). Through the catalog,
   * so bindings go too; with if-unused, so a consumer arriving meanwhile keeps it.
   */
  private autoDeleteIfUnused(): void {
    const declaration = this.declaration;
    if (!declaration?.auto_delete || this.engine.consumers.size > 0) return;
    const { vhost, name } = declaration;
    this.ctx.waitUntil(
      vhostStub(this.env, vhost)
        .deleteQueue(vhost, name, { ifEmpty: false, ifUnused: true })
        .then(() => undefined),
    );
  }

  /** Frees the connection's place in the vhost's max-connections count. */
  private forgetConnection(connection: string): void {
    const vhost = this.declaration?.vhost;
    if (vhost === undefined) return;
    this.ctx.waitUntil(
      vhostStub(this.env, vhost)
        .closeConnection(connection)
        .then(() => undefined),
    );
  }

  private sendReport(report: QueueReport): Promise<unknown> {
    const declaration = this.declaration;
    if (!declaration) return Promise.resolve();
    const sent = vhostStub(this.env, declaration.vhost).reportQueue(declaration.name, report);
    this.ctx.waitUntil(
      sent.then(
        () => undefined,
        () => undefined,
      ),
    );
    return sent;
  }

  /** Hands ready messages to long polls, oldest waiter first. */
  private wakeWaiters(now: number): void {
    while (this.waiters.length > 0 && this.engine.stats().messages_ready > 0) {
      const waiter = this.waiters[0] as PullWaiter;
      const messages = this.engine.pull(waiter.count, waiter.visibilityMs, now);
      if (messages.length === 0) break;
      this.waiters.shift();
      waiter.resolve(messages);
    }
  }

  private sendTo(connection: string, frame: ServerFrame): void {
    for (const ws of this.ctx.getWebSockets(connection)) {
      try {
        ws.send(JSON.stringify(frame));
      } catch {
        // The socket is closing; its close handler returns its deliveries.
      }
    }
  }

  /**
   * Sends the messages set aside for the dead-letter exchange, a batch per publish, one flush at
   * a time. Each batch leaves this queue only once publishing it answered (its copies stored in
   * their queues): at-least-once. A dead-letter exchange that does not exist drops them, as in
   * RabbitMQ; any other failure is retried, also after a restart (the rows stay set aside).
   */
  private flushDeadLetters(): void {
    if (this.deadLetterFlush) {
      this.deadLetterAgain = true;
      return;
    }
    this.deadLetterFlush = this.sendDeadLetters()
      .catch((error) => {
        console.error("dead-lettering failed; retrying", error);
        setTimeout(() => this.flushDeadLetters(), DEAD_LETTER_RETRY_MS);
      })
      .finally(() => {
        this.deadLetterFlush = null;
        if (this.deadLetterAgain) {
          this.deadLetterAgain = false;
          if (this.engine.deadLettersPending) this.flushDeadLetters();
        }
      });
    this.ctx.waitUntil(this.deadLetterFlush);
  }

  private async sendDeadLetters(): Promise<void> {
    for (;;) {
      const declaration = this.declaration;
      const target = this.policy().deadLetter;
      if (!declaration || !target) return;
      const batch = this.engine.pendingDeadLetters(LIMITS.deadLetterChunk);
      if (batch.length === 0) return;
      const now = Date.now();
      const copies = batch.map(({ message, reason }) =>
        deadLettered(message, declaration.name, reason, target, now),
      );
      try {
        await publishMessages(this.env, declaration.vhost, target.exchange, copies);
      } catch (error) {
        if (!(error instanceof BrokerError && error.code === "not_found")) throw error;
      }
      this.engine.forgetDeadLetters(batch.map((entry) => entry.seq));
    }
  }

  /** Sets the alarm for the earliest ack deadline, lease expiry, delayed message or expiry. */
  private schedule(): void {
    // Every path that changes counts (deliveries, acks, leases, expiry, closes) ends here.
    this.reports.changed();
    if (this.engine.deadLettersPending) this.flushDeadLetters();
    const next = this.engine.nextWakeup(Date.now());
    if (next === null) return;
    if (this.alarmAt === null || next < this.alarmAt) {
      this.alarmAt = next;
      void this.ctx.storage.setAlarm(next);
    }
  }

  private policy(): QueuePolicy {
    const args = this.declaration?.arguments ?? {};
    const limit = args["x-delivery-limit"];
    const ttl = args["x-message-ttl"];
    const dlx = args["x-dead-letter-exchange"];
    const dlrk = args["x-dead-letter-routing-key"];
    const maxLength = args["x-max-length"];
    const maxLengthBytes = args["x-max-length-bytes"];
    // reject-publish and reject-publish-dlx are not applied yet (docs/queue-features.md): their
    // queues take no length limit rather than silently dropping from the head.
    const dropHead = (args["x-overflow"] ?? "drop-head") === "drop-head";
    return {
      maxLength: dropHead && typeof maxLength === "number" ? maxLength : undefined,
      maxLengthBytes: dropHead && typeof maxLengthBytes === "number" ? maxLengthBytes : undefined,
      deadLetter:
        typeof dlx === "string"
          ? { exchange: dlx, routingKey: typeof dlrk === "string" ? dlrk : undefined }
          : undefined,
      messageTtl: typeof ttl === "number" ? ttl : undefined,
      singleActiveConsumer: args["x-single-active-consumer"] === true,
      deliveryLimit: typeof limit === "number" ? limit : undefined,
    };
  }
}

/** After a failed dead-letter publish (another object did not answer), the next try. */
const DEAD_LETTER_RETRY_MS = 1000;

/** After a failed access check (the registry did not answer), the next try. */
const ACCESS_RETRY_MS = 1000;

function attachmentOf(ws: WebSocket): SocketAttachment {
  const attachment = ws.deserializeAttachment() as Partial<SocketAttachment> | null;
  return {
    connection: attachment?.connection ?? "",
    user: attachment?.user ?? "",
    // A socket accepted before identities existed matches none: it is closed at its next check.
    identity: attachment?.identity ?? "",
  };
}

function notFound() {
  return fail("not_found", "Not Found");
}
