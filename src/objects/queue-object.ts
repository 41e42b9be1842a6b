/**
 * A queue: one Durable Object per (vhost, queue). It stores messages in order (see
 * storage/message-store.ts), hands them out through the management API's get, to WebSocket
 * consumers it accepts with the Hibernation API (src/runtime/hibernating-object.ts: idle
 * consumers cost nothing and survive eviction), and to pull consumers under leases, with long
 * polls that answer as soon as a message arrives. This class is the RPC and socket shell: the
 * delivery rules live in QueueEngine, the rest in src/queue/ (long polls, revocation, the alarm,
 * dead-lettering, what the catalog is told).
 */
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import type { QueueDeclaration } from "../protocol/declarations";
import { errorFrame, type ServerFrame } from "../protocol/frames";
import { PING_TEXT, PONG_TEXT } from "../protocol/keepalive";
import type { PublishedMessage } from "../protocol/message";
import { type AppliedPolicy, isNoPolicy, NO_POLICY } from "../protocol/policies";
import { CatalogLink } from "../queue/catalog-link";
import { answerConsumerMessage } from "../queue/consumer-frames";
import { ConsumerRevocation } from "../queue/consumer-revocation";
import {
  type ConsumerDetail,
  type ConsumerInfo,
  consumerDetails,
  consumerInfo,
} from "../queue/consumer-views";
import { withoutCycles } from "../queue/dead-letter-cycles";
import { type DeleteOptions, deletedQueueCancel, deletionRefusal } from "../queue/queue-deletion";
import { QueueEngine, type QueuePolicy, type QueueStats } from "../queue/queue-engine";
import { QueueExpiryWatch } from "../queue/queue-expiry";
import { queuePolicy } from "../queue/queue-policy";
import type { QueueReporter } from "../queue/queue-report";
import {
  CONNECTION_FORCED,
  type EnqueueResult,
  type GetAckMode,
  type GetResult,
  type LeaseSettlement,
  type PullResult,
  type SettleResult,
} from "../queue/queue-rpc";
import { QueueUpkeep } from "../queue/queue-upkeep";
import { requestOwner, type SocketOwner, socketOwner } from "../queue/socket-access";
import { HibernatingObject, isWebSocketUpgrade } from "../runtime/hibernating-object";
import type { MessageStatsSnapshot } from "../runtime/message-stats";
import { migrate } from "../storage/migrations";
import { QueueMetaStore } from "../storage/queue-meta-store";
import { QUEUE_MIGRATIONS } from "../storage/queue-schema";

export type { ConsumerDetail, ConsumerInfo } from "../queue/consumer-views";
export type { QueueStats } from "../queue/queue-engine";
export * from "../queue/queue-rpc";

export class QueueObject extends HibernatingObject<SocketOwner> {
  private readonly meta: QueueMetaStore;
  private declaration: QueueDeclaration | null;
  private readonly engine: QueueEngine;
  private readonly upkeep: QueueUpkeep;
  private readonly revocation: ConsumerRevocation;
  private readonly catalog: CatalogLink;
  /** The policy and operator policy applied by the vhost's catalog (src/catalog/policies.ts). */
  private applied: AppliedPolicy;
  /** x-expires: when the queue was last used, and its deletion once unused for that long. */
  private readonly expiry: QueueExpiryWatch;
  /** Reports the counts to the vhost's catalog, throttled, off every message path. */
  readonly reports: QueueReporter;

  constructor(ctx: DurableObjectState, env: Env) {
    // Keep-alive pings are answered without waking the object.
    super(ctx, env, { ping: PING_TEXT, pong: PONG_TEXT, attachment: socketOwner });
    migrate(ctx.storage, QUEUE_MIGRATIONS);
    this.meta = new QueueMetaStore(ctx.storage.sql);
    this.declaration = this.meta.declaration();
    this.applied = this.meta.appliedPolicy() ?? NO_POLICY;
    const declaration = () => this.declaration;
    // Read on every enqueue, dispatch and settle: computed again only when the declaration or
    // the applied policy is replaced (both are replaced whole, never changed in place).
    let cached: {
      declaration: QueueDeclaration | null;
      applied: AppliedPolicy;
      policy: QueuePolicy;
    } | null = null;
    const policy = () => {
      if (cached?.declaration !== this.declaration || cached.applied !== this.applied) {
        cached = {
          declaration: this.declaration,
          applied: this.applied,
          policy: queuePolicy(this.declaration, this.applied),
        };
      }
      return cached.policy;
    };
    this.catalog = new CatalogLink(env, declaration, (work) => ctx.waitUntil(work));
    this.expiry = new QueueExpiryWatch(ctx.storage.sql, {
      expires: () => policy().expires,
      inUse: () => this.engine.consumers.size > 0 || this.upkeep.polled,
      wakeAt: (at) => this.upkeep.wakeAt(at),
      deleteQueue: () => this.catalog.deleteExpired(),
    });
    this.revocation = new ConsumerRevocation(env, {
      queue: declaration,
      sockets: () => this.sockets(),
      owner: (ws) => this.attachmentOf(ws),
      inTurn: (step) => this.inTurn(step),
      closed: (ws) => this.closeConnection(ws),
      checked: () => this.upkeep.dispatch(),
    });
    this.engine = new QueueEngine(
      ctx.storage.sql,
      policy,
      (connection, frame) => this.sendTo(connection, frame),
      {
        mayDeliver: (connection) => this.revocation.mayDeliver(connection),
        resumeLater: () => this.upkeep.resumeLater(),
      },
      // Held delivery state is written by a timer: while it is pending the runtime does not
      // hibernate the object (src/queue/delivery-state.ts).
      (flush, ms) => {
        setTimeout(() => ctx.storage.transactionSync(flush), ms);
      },
    );
    this.upkeep = new QueueUpkeep(env, ctx, {
      engine: this.engine,
      declaration,
      policy,
      stats: () => this.stats(),
      report: (report) => this.catalog.report(report),
      deadline: () => this.expiry.deadline(),
    });
    this.reports = this.upkeep.reports;
    // Hibernated sockets survive eviction; after a restart they are gone, and so must their
    // deliveries be: return them to the queue.
    const live = new Set(this.sockets().map((ws) => this.attachmentOf(ws).connection));
    this.engine.releaseOrphans(live, Date.now());
    this.upkeep.schedule();
  }

  /** Creates the queue, with the policy that applies to it (the catalog decides). */
  configure(
    declaration: QueueDeclaration,
    applied: AppliedPolicy = NO_POLICY,
  ): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.meta.setDeclaration(declaration);
    this.declaration = declaration;
    // A new queue has no stored policy (destroy clears the meta table): write one only if any.
    if (!isNoPolicy(applied) || !isNoPolicy(this.applied)) this.meta.setAppliedPolicy(applied);
    this.applied = applied;
    this.expiry.used();
    this.expiry.schedule();
    return { ok: true, created };
  }

  /**
   * A policy or operator policy now applies (or no longer does): its settings take effect at
   * once, as in RabbitMQ: a lower length limit drops (or dead-letters) the head, an expiry
   * starts counting, a TTL applies to messages that arrive from now on.
   */
  applyPolicy(applied: AppliedPolicy): Result<object> {
    if (!this.declaration) return notFound();
    this.meta.setAppliedPolicy(applied);
    this.applied = applied;
    this.ctx.storage.transactionSync(() => this.engine.limitsChanged(Date.now()));
    this.upkeep.schedule();
    return { ok: true };
  }

  /** A redeclaration (the catalog calls this): the queue counts as used (x-expires). */
  redeclared(): Result<object> {
    if (!this.declaration) return notFound();
    this.expiry.used();
    this.expiry.schedule();
    return { ok: true };
  }

  stats(): Result<{
    stats: QueueStats;
    messageStats: MessageStatsSnapshot;
    applied: AppliedPolicy;
  }> {
    if (!this.declaration) return notFound();
    // Counts never include a message that has expired, even before its alarm has run.
    this.engine.sweepExpired(Date.now());
    this.upkeep.flushDeadLetters();
    return {
      ok: true,
      stats: this.engine.stats(),
      messageStats: this.engine.rates.snapshot(),
      applied: this.applied,
    };
  }

  /** The queue's consumers as RabbitMQ's queue page lists them (`consumer_details`). */
  consumerDetails(): Result<{ consumers: ConsumerDetail[] }> {
    if (!this.declaration) return notFound();
    const users = new Map(
      this.sockets().map((ws) => [this.attachmentOf(ws).connection, this.attachmentOf(ws).user]),
    );
    const single = queuePolicy(this.declaration).singleActiveConsumer;
    return { ok: true, consumers: consumerDetails(this.engine.consumers.all(), users, single) };
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
    const { accepted, original } = withoutCycles(messages, declaration.name);
    const refused = this.ctx.storage
      .transactionSync(() => this.engine.enqueue(accepted, now))
      .map(original);
    this.upkeep.published(now);
    if (refused.length === 0) return { ok: true, stored: accepted.length };
    return { ok: true, stored: accepted.length - refused.length, refused };
  }

  get(count: number, ackmode: GetAckMode): GetResult {
    if (!this.declaration) return notFound();
    this.expiry.used();
    const requeue = ackmode === "ack_requeue_true" || ackmode === "reject_requeue_true";
    const reject = ackmode === "reject_requeue_false";
    const messages = this.engine.get(count, requeue, Date.now(), reject);
    this.upkeep.schedule();
    return { ok: true, messages };
  }

  /** Leases messages to a pull consumer, waiting up to `waitMs` for one to arrive. */
  async pull(count: number, visibilityMs: number, waitMs: number): Promise<PullResult> {
    if (!this.declaration) return notFound();
    this.expiry.used();
    const messages = this.engine.pull(count, visibilityMs, Date.now());
    this.upkeep.schedule();
    if (messages.length > 0 || waitMs <= 0) return { ok: true, messages };
    const waited = await this.upkeep.waitForMessages(count, visibilityMs, waitMs);
    // The long poll ended: x-expires counts from now.
    this.expiry.used();
    this.upkeep.schedule();
    return { ok: true, messages: waited };
  }

  settle(settlements: readonly LeaseSettlement[]): SettleResult {
    if (!this.declaration) return notFound();
    const now = Date.now();
    const results = settlements.map((s) =>
      this.engine.settleLease(s.lease, s.outcome, s.delayMs, now),
    );
    this.upkeep.dispatch();
    return { ok: true, results };
  }

  purge(): Result<{ purged: number }> {
    if (!this.declaration) return notFound();
    const purged = this.engine.purge();
    this.reports.changed();
    return { ok: true, purged };
  }

  /** Deletes the queue and its messages; consumers get a cancel frame and their sockets close. */
  destroy(options: DeleteOptions): Result<{ removed: number }> {
    const declaration = this.declaration;
    if (!declaration) return notFound();
    const stats = this.engine.stats();
    const refusal = deletionRefusal(declaration, stats, options);
    if (refusal) return refusal;
    for (const { connection, tag } of this.engine.consumers.all()) {
      this.sendTo(connection, deletedQueueCancel(tag));
    }
    for (const ws of this.sockets()) ws.close(1000, "queue deleted");
    this.ctx.storage.transactionSync(() => {
      this.engine.clear();
      this.meta.clear();
    });
    this.declaration = null;
    this.applied = NO_POLICY;
    this.upkeep.stop();
    return { ok: true, removed: stats.messages };
  }

  /** Which of these consumer connections are still open here (for the vhost's connection count). */
  liveConnections(ids: readonly string[]): string[] {
    const live = new Set(this.sockets().map((ws) => this.attachmentOf(ws).connection));
    return ids.filter((id) => live.has(id));
  }

  /** This queue's consumers, for /api/consumers and /api/channels. */
  consumerList(): Result<{ consumers: ConsumerInfo[] }> {
    if (!this.declaration) return notFound();
    return { ok: true, consumers: consumerInfo(this.engine.consumers.all()) };
  }

  /**
   * Closes a consumer connection from the management API (DELETE /api/connections/{name}), in
   * turn with its frames: its consumers go, and their unacknowledged deliveries return to the
   * queue, as when RabbitMQ force-closes a connection (320 CONNECTION_FORCED).
   */
  async forceClose(connection: string, reason: string): Promise<Result<object>> {
    await this.inTurn(async () => {
      for (const ws of this.sockets(connection)) {
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
    if (!isWebSocketUpgrade(request)) {
      return Response.json(
        { error: "bad_request", reason: "expected a WebSocket upgrade" },
        { status: 426 },
      );
    }
    if (!this.declaration) {
      return Response.json({ error: "Object Not Found", reason: "Not Found" }, { status: 404 });
    }
    const owner = requestOwner(request);
    const { response } = this.accept(owner, [owner.connection]);
    this.revocation.admit(owner.connection, Date.now());
    return response;
  }

  /** A consumer frame, in turn (the access check before it may wait for the registry). */
  protected override async onMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const { connection } = this.attachmentOf(ws);
    const declaration = this.declaration;
    if (!(await this.revocation.admitsFrame(ws))) return;
    const context = declaration && {
      engine: this.engine,
      queue: declaration.name,
      send: (frame: ServerFrame) => this.sendTo(connection, frame),
      cancelled: () => this.catalog.autoDeleteIfUnused(this.engine.consumers.size),
    };
    const consumers = this.engine.consumers.size;
    const reply = answerConsumerMessage(context, connection, message, Date.now());
    if (reply) ws.send(JSON.stringify(reply));
    // A consume or a cancel uses the queue (x-expires).
    if (this.engine.consumers.size !== consumers) this.expiry.used();
    this.upkeep.schedule();
  }

  /** A socket closed or failed: its consumers go and its deliveries return to the queue. */
  protected override onClose(ws: WebSocket): void {
    this.closeConnection(ws);
  }

  override async alarm(): Promise<void> {
    this.upkeep.alarm();
    this.expiry.expireIfDue();
  }

  private closeConnection(ws: WebSocket): void {
    const { connection } = this.attachmentOf(ws);
    this.revocation.forget(connection);
    this.catalog.connectionClosed(connection);
    const now = Date.now();
    const hadConsumers = this.engine.consumers.size > 0;
    this.engine.closeConnection(connection, now);
    if (hadConsumers) this.expiry.used();
    this.upkeep.wake(now);
    this.upkeep.schedule();
    if (hadConsumers) this.catalog.autoDeleteIfUnused(this.engine.consumers.size);
  }

  private sendTo(connection: string, frame: ServerFrame): void {
    // A socket that is closing misses nothing: its close handler returns its deliveries.
    const sockets = this.sockets(connection);
    if (sockets.length === 0) return;
    const text = JSON.stringify(frame);
    for (const ws of sockets) this.sendText(ws, text);
  }
}

function notFound() {
  return fail("not_found", "Not Found");
}
