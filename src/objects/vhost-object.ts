/**
 * A virtual host's catalog: one Durable Object per vhost holding the declarations of its
 * exchanges and queues and all its bindings. It is the management plane: declarations, deletions
 * and bindings go through it (one at a time, so two racing declarations cannot both "create"),
 * and it pushes each change to the exchange and queue objects that the publish path reads.
 * Nothing on the publish path calls it.
 */
import { DurableObject } from "cloudflare:workers";
import { notificationsExchange } from "../catalog/notification-exchange";
import { checkTopology, type Topology } from "../catalog/topology-check";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { type Failure, fail, type Result } from "../errors";
import { exchangeStub, inboxStub, queueStub, streamStub } from "../gateway/stubs";
import {
  type Binding,
  type BindRequest,
  type DestinationType,
  propertiesKey,
} from "../protocol/bindings";
import { builtinExchanges, isBuiltinExchange } from "../protocol/builtin-exchanges";
import {
  type ExchangeDeclaration,
  exchangeEquivalence,
  type QueueDeclaration,
  queueEquivalence,
} from "../protocol/declarations";
import { DEFAULT_EXCHANGE, DEFAULT_VHOST, describe } from "../protocol/names";
import { type NotificationUser, parseUserId } from "../protocol/notification";
import type { VhostLimits } from "../protocol/registry-records";
import { isStreamDeclaration } from "../protocol/stream";
import { aged, type QueueReport, sumReports } from "../queue/queue-report";
import type { DestinationKind } from "../routing/binding-table";
import { exchangeTypes } from "../routing/registry";
import {
  type BindingFilter,
  bindingId,
  CATALOG_MIGRATIONS,
  CatalogStore,
} from "../storage/catalog-store";
import {
  type ConnectionInfo,
  type ConnectionRecord,
  ConnectionStore,
} from "../storage/connection-store";
import { migrate } from "../storage/migrations";

/** The vhost every broker has from the start; others are created with PUT /api/vhosts. */

/** Objects destroyed in parallel when a vhost is deleted. */
const DESTROY_CHUNK = 32;

const NOT_FOUND = (): Failure => fail("not_found", "Not Found");

export class VhostObject extends DurableObject<Env> {
  private readonly store: CatalogStore;
  private readonly connections: ConnectionStore;
  /** Each queue's latest report (src/queue/queue-report.ts), loaded from storage on first use. */
  private reports: Map<string, { report: QueueReport; at: number }> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, CATALOG_MIGRATIONS);
    this.store = new CatalogStore(ctx.storage.sql);
    this.connections = new ConnectionStore(ctx.storage.sql);
  }

  /** Answers whether the vhost exists, creating the default vhost on first use. */
  async ensure(vhost: string): Promise<Result<object>> {
    return this.exclusive(vhost, async () => ({ ok: true }));
  }

  async getExchange(
    vhost: string,
    name: string,
  ): Promise<Result<{ exchange: ExchangeDeclaration }>> {
    return this.exclusive(vhost, async () => {
      const exchange = this.store.getExchange(name);
      return exchange ? { ok: true, exchange } : NOT_FOUND();
    });
  }

  async listExchanges(vhost: string): Promise<Result<{ exchanges: ExchangeDeclaration[] }>> {
    return this.exclusive(vhost, async () => ({ ok: true, exchanges: this.store.listExchanges() }));
  }

  async getQueue(vhost: string, name: string): Promise<Result<{ queue: QueueDeclaration }>> {
    return this.exclusive(vhost, async () => {
      const queue = this.store.getQueue(name);
      return queue ? { ok: true, queue } : NOT_FOUND();
    });
  }

  async listQueues(vhost: string): Promise<Result<{ queues: QueueDeclaration[] }>> {
    return this.exclusive(vhost, async () => ({ ok: true, queues: this.store.listQueues() }));
  }

  async listBindings(
    vhost: string,
    filter: BindingFilter,
  ): Promise<Result<{ bindings: Binding[] }>> {
    return this.exclusive(vhost, async () => ({
      ok: true,
      bindings: this.store.listBindings(vhost, filter),
    }));
  }

  async declareExchange(declaration: ExchangeDeclaration): Promise<Result<{ created: boolean }>> {
    return this.exclusive(declaration.vhost, () => this.declareExchangeNow(declaration));
  }

  private async declareExchangeNow(
    declaration: ExchangeDeclaration,
  ): Promise<Result<{ created: boolean }>> {
    const current = this.store.getExchange(declaration.name);
    if (current) {
      const mismatch = exchangeEquivalence(current, declaration);
      return mismatch ?? { ok: true, created: false };
    }
    await exchangeStub(this.env, declaration.vhost, declaration.name).configure(declaration);
    this.store.putExchange(declaration);
    return { ok: true, created: true };
  }

  async deleteExchange(
    vhost: string,
    name: string,
    options: { ifUnused: boolean },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      if (!this.store.getExchange(name)) {
        return NOT_FOUND();
      }
      if (isBuiltinExchange(name)) {
        return fail(
          "access_refused",
          `deletion of system ${describe("exchange", name, vhost)} refused`,
        );
      }
      if (options.ifUnused && this.store.countBindingsFrom(name) > 0) {
        return fail(
          "bad_request",
          `PRECONDITION_FAILED - ${describe("exchange", name, vhost)} in use`,
        );
      }
      await exchangeStub(this.env, vhost, name).destroy();
      const outgoing = this.store.listBindings(vhost, { source: name });
      const incoming = this.store.listBindings(vhost, {
        destinationType: "exchange",
        destination: name,
      });
      for (const binding of outgoing) this.store.deleteBinding(binding);
      await this.removeBindings(vhost, incoming);
      this.store.deleteExchange(name);
      return { ok: true };
    });
  }

  async declareQueue(declaration: QueueDeclaration): Promise<Result<{ created: boolean }>> {
    return this.exclusive(declaration.vhost, () => this.declareQueueNow(declaration));
  }

  private async declareQueueNow(
    declaration: QueueDeclaration,
  ): Promise<Result<{ created: boolean }>> {
    const current = this.store.getQueue(declaration.name);
    if (current) {
      const mismatch = queueEquivalence(current, declaration);
      return mismatch ?? { ok: true, created: false };
    }
    const overLimit = this.queueLimitFailure(declaration.vhost, 1);
    if (overLimit) return overLimit;
    // A stream queue is a log in its own kind of object (docs/streams.md).
    const target = isStreamDeclaration(declaration.arguments)
      ? streamStub(this.env, declaration.vhost, declaration.name)
      : queueStub(this.env, declaration.vhost, declaration.name);
    await target.configure(declaration);
    this.store.putQueue(declaration);
    return { ok: true, created: true };
  }

  async deleteQueue(
    vhost: string,
    name: string,
    options: { ifEmpty: boolean; ifUnused: boolean },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      const queue = this.store.getQueue(name);
      if (!queue) {
        return NOT_FOUND();
      }
      const destroyed = isStreamDeclaration(queue.arguments)
        ? await streamStub(this.env, vhost, name).destroy()
        : await queueStub(this.env, vhost, name).destroy(options);
      if (!destroyed.ok && destroyed.code !== "not_found") {
        return destroyed;
      }
      const bindings = this.store.listBindings(vhost, {
        destinationType: "queue",
        destination: name,
      });
      await this.removeBindings(vhost, bindings);
      this.store.deleteQueue(name);
      this.dropReport(name);
      return { ok: true };
    });
  }

  async bind(vhost: string, request: BindRequest): Promise<Result<{ binding: Binding }>> {
    return this.exclusive(vhost, async () => this.bindNow(vhost, request));
  }

  /**
   * Creates notification users, or renames them: records each, configures its inbox object and
   * binds the inbox to the `notifications` exchange by the user's id (declaring the exchange,
   * direct and durable, the first time). The inbox and exchange calls run in parallel, so a
   * thousand users take one round of calls, not a thousand. With `onlyIfAbsent` an existing user
   * is left as it is (local development's idempotent seeding). Answers the ids it created.
   */
  async declareInboxes(
    vhost: string,
    users: readonly NotificationUser[],
    options: { onlyIfAbsent?: boolean } = {},
  ): Promise<Result<{ created: number[] }>> {
    return this.exclusive(vhost, async () => {
      const exchange = notificationsExchange(vhost);
      // An existing user is left alone unless renamed, or unless its binding was removed (say,
      // with the notifications exchange): declaring it again repairs that.
      const changes = users.filter((user) => {
        const current = this.store.getInbox(user.id);
        const unchanged = current && (options.onlyIfAbsent || current.name === user.name);
        return !(unchanged && this.inboxBound(vhost, exchange.name, user.id));
      });
      const created = changes.filter((user) => !this.store.getInbox(user.id)).map((u) => u.id);
      if (changes.length === 0) return { ok: true, created };
      const existing = this.store.getExchange(exchange.name);
      if (existing && existing.type !== "direct" && existing.type !== "topic") {
        // A fanout or headers exchange would hand every user's notifications to every inbox.
        return fail(
          "bad_request",
          `${describe("exchange", exchange.name, vhost)} is ${existing.type}: inboxes need a direct or topic exchange`,
        );
      }
      if (!existing) {
        await exchangeStub(this.env, vhost, exchange.name).configure(exchange);
        this.store.putExchange(exchange);
      }
      await Promise.all(
        changes.map((user) => inboxStub(this.env, vhost, String(user.id)).configure(user)),
      );
      for (const user of changes) this.store.putInbox(user);
      const bound = await Promise.all(
        changes.map((user) =>
          this.bindNow(vhost, {
            source: exchange.name,
            destinationType: "inbox",
            destination: String(user.id),
            routingKey: String(user.id),
            arguments: {},
          }),
        ),
      );
      const failed = bound.find((result) => !result.ok);
      return failed && !failed.ok ? failed : { ok: true, created };
    });
  }

  async getInbox(vhost: string, id: number): Promise<Result<{ user: NotificationUser }>> {
    return this.exclusive(vhost, async () => {
      const user = this.store.getInbox(id);
      return user ? { ok: true, user } : NOT_FOUND();
    });
  }

  async listInboxes(vhost: string): Promise<Result<{ users: NotificationUser[] }>> {
    return this.exclusive(vhost, async () => ({ ok: true, users: this.store.listInboxes() }));
  }

  /** Deletes a user: its bindings, its inbox object's notifications and sockets, its record. */
  async deleteInbox(vhost: string, id: number): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      if (!this.store.getInbox(id)) {
        return NOT_FOUND();
      }
      const bindings = this.store.listBindings(vhost, {
        destinationType: "inbox",
        destination: String(id),
      });
      await this.removeBindings(vhost, bindings);
      await inboxStub(this.env, vhost, String(id)).destroy();
      this.store.deleteInbox(id);
      return { ok: true };
    });
  }

  private async bindNow(
    vhost: string,
    request: BindRequest,
  ): Promise<Result<{ binding: Binding }>> {
    if (request.source === DEFAULT_EXCHANGE || request.destination === DEFAULT_EXCHANGE) {
      return fail(
        "access_refused",
        `operation not permitted on the default ${describe("exchange", DEFAULT_EXCHANGE, vhost)}`,
      );
    }
    const source = this.store.getExchange(request.source);
    const destinationExists = this.destinationExists(request.destinationType, request.destination);
    if (!source || !destinationExists) {
      return NOT_FOUND();
    }
    // Validate before anything is stored: an invalid x-match must leave no trace.
    const compiled = exchangeTypes[source.type].compile(request.routingKey, request.arguments);
    if (!compiled.ok) {
      return fail("bad_request", compiled.reason);
    }
    const binding: Binding = {
      source: request.source,
      vhost,
      destination: request.destination,
      destination_type: request.destinationType,
      routing_key: request.routingKey,
      arguments: request.arguments,
      properties_key: await propertiesKey(request.routingKey, request.arguments),
    };
    const bound = await exchangeStub(this.env, vhost, binding.source).bind({
      id: bindingId(binding),
      destination: { kind: this.destinationKind(binding), name: binding.destination },
      routingKey: binding.routing_key,
      arguments: binding.arguments,
    });
    if (!bound.ok) {
      return bound;
    }
    this.store.putBinding(binding);
    return { ok: true, binding };
  }

  /** The exchange delivers to a stream queue's log object, not to a queue object. */
  private destinationKind(binding: Binding): DestinationKind {
    const queue = binding.destination_type === "queue" && this.store.getQueue(binding.destination);
    return queue && isStreamDeclaration(queue.arguments) ? "stream" : binding.destination_type;
  }

  private inboxBound(vhost: string, exchange: string, id: number): boolean {
    return this.store
      .listBindings(vhost, { source: exchange, destinationType: "inbox", destination: String(id) })
      .some((binding) => binding.routing_key === String(id));
  }

  private destinationExists(type: DestinationType, name: string): boolean {
    switch (type) {
      case "queue":
        return this.store.getQueue(name) !== undefined;
      case "exchange":
        return this.store.getExchange(name) !== undefined;
      case "inbox": {
        const id = parseUserId(name);
        return id !== null && this.store.getInbox(id) !== undefined;
      }
    }
  }

  async unbind(
    vhost: string,
    filter: Required<Omit<BindingFilter, "destinationType">> & { destinationType: DestinationType },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      const bindings = this.store.listBindings(vhost, filter);
      if (bindings.length === 0) {
        return NOT_FOUND();
      }
      await this.removeBindings(vhost, bindings);
      return { ok: true };
    });
  }

  /**
   * Removes bindings from the catalog and from their source exchanges, then deletes any
   * auto-delete exchange left with no bindings (RabbitMQ: "exchange is deleted when last queue
   * is unbound from it").
   */
  private async removeBindings(vhost: string, bindings: readonly Binding[]): Promise<void> {
    const bySource = new Map<string, Binding[]>();
    for (const binding of bindings) {
      const list = bySource.get(binding.source);
      if (list) list.push(binding);
      else bySource.set(binding.source, [binding]);
    }
    for (const [source, list] of bySource) {
      await exchangeStub(this.env, vhost, source).unbind(list.map(bindingId));
      for (const binding of list) this.store.deleteBinding(binding);
      const exchange = this.store.getExchange(source);
      if (exchange?.auto_delete && this.store.countBindingsFrom(source) === 0) {
        await exchangeStub(this.env, vhost, source).destroy();
        const incoming = this.store.listBindings(vhost, {
          destinationType: "exchange",
          destination: source,
        });
        this.store.deleteExchange(source);
        await this.removeBindings(vhost, incoming);
      }
    }
  }

  /**
   * Creates this vhost's catalog and built-in exchanges (PUT /api/vhosts). Idempotent: an
   * existing vhost keeps everything it has.
   */
  async createVhost(vhost: string): Promise<Result<{ created: boolean }>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      if (this.exists(vhost)) return { ok: true, created: false };
      await this.create(vhost);
      return { ok: true, created: true };
    });
  }

  /**
   * Deletes everything in the vhost (DELETE /api/vhosts): every queue object with its messages,
   * every exchange object with its bindings, then the catalog itself. Idempotent, so a deletion
   * interrupted half way can be repeated.
   */
  async destroyVhost(vhost: string): Promise<Result<{ queues: number; exchanges: number }>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const queues = this.store.listQueues().map((q) => q.name);
      const exchanges = this.store.listExchanges().map((e) => e.name);
      for (let i = 0; i < queues.length; i += DESTROY_CHUNK) {
        await Promise.all(
          queues
            .slice(i, i + DESTROY_CHUNK)
            .map((name) =>
              queueStub(this.env, vhost, name).destroy({ ifEmpty: false, ifUnused: false }),
            ),
        );
      }
      for (let i = 0; i < exchanges.length; i += DESTROY_CHUNK) {
        await Promise.all(
          exchanges
            .slice(i, i + DESTROY_CHUNK)
            .map((name) => exchangeStub(this.env, vhost, name).destroy()),
        );
      }
      this.reports = null;
      this.ctx.storage.transactionSync(() => {
        this.store.clear();
        // The default vhost is created on first use; once deleted it must stay deleted.
        this.store.setMeta("dropped", "1");
      });
      return { ok: true, queues: queues.length, exchanges: exchanges.length };
    });
  }

  /**
   * Checks a definitions import's topology for this vhost against what exists, changing nothing
   * (the all-or-nothing import checks every vhost before it changes any).
   */
  async checkTopology(vhost: string, topology: Topology): Promise<Result<object>> {
    return this.ctx.blockConcurrencyWhile(async () => {
      const failure = checkTopology(this.store, vhost, topology, this.limit("max-queues"));
      return failure ?? { ok: true };
    });
  }

  /** Imports a topology: checks it again, then declares and binds everything in it. */
  async importTopology(vhost: string, topology: Topology): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      const failure = checkTopology(this.store, vhost, topology, this.limit("max-queues"));
      if (failure) return failure;
      for (const exchange of topology.exchanges) {
        const done = await this.declareExchangeNow(exchange);
        if (!done.ok) return done;
      }
      for (const queue of topology.queues) {
        const done = await this.declareQueueNow(queue);
        if (!done.ok) return done;
      }
      for (const binding of topology.bindings) {
        const done = await this.bindNow(vhost, binding);
        if (!done.ok) return done;
      }
      return { ok: true };
    });
  }

  /** Stores the vhost's limits; max-queues is enforced here, at declaration. */
  async setLimits(vhost: string, limits: VhostLimits): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      this.store.setMeta("limits", JSON.stringify(limits));
      return { ok: true };
    });
  }

  /**
   * Counts a new WebSocket connection against the vhost's max-connections. Before refusing, it
   * asks the queues holding consumer connections which of them still exist and forgets producer
   * connections that stopped refreshing, so a lost close event cannot leak a place for good.
   */
  async openConnection(
    vhost: string,
    id: string,
    holder: string,
    info?: ConnectionInfo,
  ): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      const now = Date.now();
      const max = this.limit("max-connections");
      if (max !== null && this.connections.count() >= max) {
        this.connections.dropSilentProducers(now - LIMITS.producerSilenceMs);
        for (const [queue, ids] of this.connections.heldBy()) {
          const live = new Set(await queueStub(this.env, vhost, queue).liveConnections(ids));
          this.connections.remove(ids.filter((known) => !live.has(known)));
        }
        if (this.connections.count() >= max) {
          return fail(
            "access_refused",
            `access to vhost '${vhost}' refused: connection limit (${max}) is reached`,
          );
        }
      }
      this.connections.add(id, holder, now, info);
      return { ok: true };
    });
  }

  /**
   * A queue object reports its counts (at most once a second, only when they changed). A report
   * from a queue the catalog no longer has (one sent just before its deletion) is dropped.
   */
  reportQueue(name: string, report: QueueReport): Result<object> {
    if (!this.store.getQueue(name)) return NOT_FOUND();
    const at = Date.now();
    this.loadedReports().set(name, { report, at });
    // One upsert per report: a restarted catalog answers with what the queues last said.
    this.ctx.storage.sql.exec(
      "INSERT INTO queue_reports (name, report, at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET report = excluded.report, at = excluded.at",
      name,
      JSON.stringify(report),
      at,
    );
    return { ok: true };
  }

  /** The vhost's queue totals from the queues' latest reports: exact for any number of queues. */
  async queueTotals(vhost: string): Promise<Result<{ queues: number; totals: QueueReport }>> {
    return this.exclusive(vhost, async () => ({
      ok: true,
      queues: this.store.countQueues(),
      totals: sumReports(this.currentReports().values()),
    }));
  }

  /** Every queue's latest report, by name (a list sorted by a count or a rate). */
  async queueReports(vhost: string): Promise<Result<{ reports: Record<string, QueueReport> }>> {
    return this.exclusive(vhost, async () => ({
      ok: true,
      reports: Object.fromEntries(this.currentReports()),
    }));
  }

  private loadedReports(): Map<string, { report: QueueReport; at: number }> {
    if (this.reports === null) {
      const rows = this.ctx.storage.sql
        .exec<{ name: string; report: string; at: number }>(
          "SELECT name, report, at FROM queue_reports",
        )
        .toArray();
      this.reports = new Map(
        rows.map((row) => [
          row.name,
          { report: JSON.parse(row.report) as QueueReport, at: row.at },
        ]),
      );
    }
    return this.reports;
  }

  /** The reports with their rates aged to now (a quiet queue's rates fall to 0). */
  private currentReports(): Map<string, QueueReport> {
    const now = Date.now();
    const out = new Map<string, QueueReport>();
    for (const [name, { report, at }] of this.loadedReports())
      out.set(name, aged(report, now - at));
    return out;
  }

  private dropReport(name: string): void {
    this.reports?.delete(name);
    this.ctx.storage.sql.exec("DELETE FROM queue_reports WHERE name = ?", name);
  }

  /** Open WebSocket connections counted against max-connections (the overview's total). */
  connectionCount(): Result<{ connections: number }> {
    return { ok: true, connections: this.connections.count() };
  }

  closeConnection(id: string): Result<object> {
    this.connections.remove([id]);
    return { ok: true };
  }

  /** A producer connection's heartbeat; `close` when DELETE /api/connections asked for it. */
  touchConnection(id: string): Result<{ close: boolean }> {
    this.connections.touch(id, Date.now());
    return { ok: true, close: this.connections.get(id)?.closing ?? false };
  }

  /** The vhost's open connections, for /api/connections (read-only: no catalog turn needed). */
  listConnections(): Result<{ connections: ConnectionRecord[] }> {
    return { ok: true, connections: this.connections.list() };
  }

  /**
   * Closes a connection as RabbitMQ's DELETE /api/connections/{name} does. A consumer
   * connection is closed by the queue object holding it (its unacked deliveries return to the
   * queue); a producer connection lives in a Worker, which closes it at its next heartbeat.
   */
  async forceCloseConnection(id: string, reason: string): Promise<Result<object>> {
    const record = this.connections.get(id);
    if (!record) return NOT_FOUND();
    const vhost = this.store.getMeta("vhost");
    if (record.holder === "" || vhost === undefined) {
      this.connections.markClosing(id);
      return { ok: true };
    }
    await queueStub(this.env, vhost, record.holder).forceClose(id, reason);
    this.connections.remove([id]);
    return { ok: true };
  }

  private limit(name: "max-queues" | "max-connections"): number | null {
    const limits = JSON.parse(this.store.getMeta("limits") ?? "{}") as VhostLimits;
    const max = limits[name];
    return max === undefined || max < 0 ? null : max;
  }

  /** RabbitMQ: "cannot declare queue: queue limit in vhost is reached" (406, here 400). */
  private queueLimitFailure(vhost: string, adding: number): Failure | null {
    const max = this.limit("max-queues");
    if (max === null || this.store.countQueues() + adding <= max) return null;
    return fail(
      "bad_request",
      `PRECONDITION_FAILED - cannot declare queue in vhost '${vhost}': queue limit in vhost (${max}) is reached`,
    );
  }

  private exists(vhost: string): boolean {
    return this.store.getMeta("vhost") === vhost;
  }

  /**
   * Runs a catalog operation alone: no other event reaches this object until it finishes, even
   * while it awaits the exchange and queue objects it updates.
   */
  private async exclusive<T extends { ok: boolean }>(
    vhost: string,
    operation: () => Promise<T | Failure>,
  ): Promise<T | Failure> {
    return this.ctx.blockConcurrencyWhile(async () => {
      if (!this.exists(vhost)) {
        if (vhost !== DEFAULT_VHOST || this.store.getMeta("dropped") === "1") {
          return NOT_FOUND();
        }
        await this.create(vhost);
      }
      return operation();
    });
  }

  private async create(vhost: string): Promise<void> {
    for (const declaration of builtinExchanges(vhost)) {
      await exchangeStub(this.env, vhost, declaration.name).configure(declaration);
      this.store.putExchange(declaration);
    }
    this.store.setMeta("vhost", vhost);
    this.store.setMeta("dropped", "0");
  }
}
