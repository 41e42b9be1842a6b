/**
 * A virtual host's catalog: one Durable Object per vhost holding the declarations of its
 * exchanges and queues and all its bindings. It is the management plane: declarations, deletions
 * and bindings go through it (one at a time, so two racing declarations cannot both "create"),
 * and it pushes each change to the exchange and queue objects that the publish path reads.
 * Nothing on the publish path calls it.
 *
 * This class is the RPC shell: it runs each operation in its turn (`exclusive`) and leaves the
 * work to the modules in src/catalog/ (declare, bind, cascade, notification-users, lifecycle,
 * definitions-import, vhost-limits, connection-limits, queue-reports).
 */
import { DurableObject } from "cloudflare:workers";
import { bind } from "../catalog/bind";
import { deleteExchange, deleteQueue, unbind } from "../catalog/cascade";
import { type CatalogContext, notFound } from "../catalog/catalog-context";
import { forceCloseConnection, openConnection } from "../catalog/connection-limits";
import { declareExchange, declareQueue } from "../catalog/declare";
import { checkImport, importTopology } from "../catalog/definitions-import";
import { create, createsOnFirstUse, destroy, exists } from "../catalog/lifecycle";
import { declareInboxes, deleteInbox } from "../catalog/notification-users";
import { QueueReports } from "../catalog/queue-reports";
import type { Topology } from "../catalog/topology-check";
import { setLimits } from "../catalog/vhost-limits";
import type { Env } from "../env";
import type { Failure, Result } from "../errors";
import type { Binding, BindRequest, DestinationType } from "../protocol/bindings";
import type { ExchangeDeclaration, QueueDeclaration } from "../protocol/declarations";
import type { NotificationUser } from "../protocol/notification";
import type { VhostLimits } from "../protocol/registry-records";
import type { QueueReport } from "../queue/queue-report";
import { SerialQueue } from "../runtime/serial-queue";
import { type BindingFilter, CATALOG_MIGRATIONS, CatalogStore } from "../storage/catalog-store";
import {
  type ConnectionInfo,
  type ConnectionRecord,
  ConnectionStore,
} from "../storage/connection-store";
import { migrate } from "../storage/migrations";
import { QueueReportStore } from "../storage/queue-report-store";

export class VhostObject extends DurableObject<Env> {
  private readonly catalog: CatalogContext;
  /** Each queue's latest report (src/queue/queue-report.ts), loaded from storage on first use. */
  private readonly reports: QueueReports;
  /** Catalog operations, one at a time in arrival order. */
  private readonly serial = new SerialQueue();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, CATALOG_MIGRATIONS);
    this.catalog = {
      env,
      store: new CatalogStore(ctx.storage.sql),
      connections: new ConnectionStore(ctx.storage.sql),
    };
    this.reports = new QueueReports(new QueueReportStore(ctx.storage.sql));
  }

  private get store(): CatalogStore {
    return this.catalog.store;
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
      return exchange ? { ok: true, exchange } : notFound();
    });
  }

  async listExchanges(vhost: string): Promise<Result<{ exchanges: ExchangeDeclaration[] }>> {
    return this.exclusive(vhost, async () => ({ ok: true, exchanges: this.store.listExchanges() }));
  }

  async getQueue(vhost: string, name: string): Promise<Result<{ queue: QueueDeclaration }>> {
    return this.exclusive(vhost, async () => {
      const queue = this.store.getQueue(name);
      return queue ? { ok: true, queue } : notFound();
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
    return this.exclusive(declaration.vhost, () => declareExchange(this.catalog, declaration));
  }

  async deleteExchange(
    vhost: string,
    name: string,
    options: { ifUnused: boolean },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, () => deleteExchange(this.catalog, vhost, name, options));
  }

  async declareQueue(declaration: QueueDeclaration): Promise<Result<{ created: boolean }>> {
    return this.exclusive(declaration.vhost, () => declareQueue(this.catalog, declaration));
  }

  async deleteQueue(
    vhost: string,
    name: string,
    options: { ifEmpty: boolean; ifUnused: boolean },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      const deleted = await deleteQueue(this.catalog, vhost, name, options);
      if (deleted.ok) this.reports.drop(name);
      return deleted;
    });
  }

  async bind(vhost: string, request: BindRequest): Promise<Result<{ binding: Binding }>> {
    return this.exclusive(vhost, () => bind(this.catalog, vhost, request));
  }

  async unbind(
    vhost: string,
    filter: Required<Omit<BindingFilter, "destinationType">> & { destinationType: DestinationType },
  ): Promise<Result<object>> {
    return this.exclusive(vhost, () => unbind(this.catalog, vhost, filter));
  }

  /** Creates or renames notification users (src/catalog/notification-users.ts). */
  async declareInboxes(
    vhost: string,
    users: readonly NotificationUser[],
    options: { onlyIfAbsent?: boolean } = {},
  ): Promise<Result<{ created: number[] }>> {
    return this.exclusive(vhost, () => declareInboxes(this.catalog, vhost, users, options));
  }

  async getInbox(vhost: string, id: number): Promise<Result<{ user: NotificationUser }>> {
    return this.exclusive(vhost, async () => {
      const user = this.store.getInbox(id);
      return user ? { ok: true, user } : notFound();
    });
  }

  async listInboxes(vhost: string): Promise<Result<{ users: NotificationUser[] }>> {
    return this.exclusive(vhost, async () => ({ ok: true, users: this.store.listInboxes() }));
  }

  /** Deletes a user: its bindings, its inbox object's notifications and sockets, its record. */
  async deleteInbox(vhost: string, id: number): Promise<Result<object>> {
    return this.exclusive(vhost, () => deleteInbox(this.catalog, vhost, id));
  }

  /**
   * Creates this vhost's catalog and built-in exchanges (PUT /api/vhosts). Idempotent: an
   * existing vhost keeps everything it has.
   */
  async createVhost(vhost: string): Promise<Result<{ created: boolean }>> {
    return this.serial.run(async () => {
      if (exists(this.store, vhost)) return { ok: true, created: false };
      await create(this.catalog, vhost);
      return { ok: true, created: true };
    });
  }

  /** Deletes everything in the vhost (DELETE /api/vhosts), then the catalog itself. */
  async destroyVhost(vhost: string): Promise<Result<{ queues: number; exchanges: number }>> {
    return this.serial.run(async () => {
      const destroyed = await destroy(this.catalog, this.ctx.storage, vhost);
      this.reports.reset();
      return { ok: true, ...destroyed };
    });
  }

  /**
   * Checks a definitions import's topology for this vhost against what exists, changing nothing
   * (the all-or-nothing import checks every vhost before it changes any).
   */
  async checkTopology(vhost: string, topology: Topology): Promise<Result<object>> {
    return this.serial.run(async () => checkImport(this.catalog, vhost, topology));
  }

  /** Imports a topology: checks it again, then declares and binds everything in it. */
  async importTopology(vhost: string, topology: Topology): Promise<Result<object>> {
    return this.exclusive(vhost, () => importTopology(this.catalog, vhost, topology));
  }

  /** Stores the vhost's limits; max-queues is enforced here, at declaration. */
  async setLimits(vhost: string, limits: VhostLimits): Promise<Result<object>> {
    return this.exclusive(vhost, async () => {
      setLimits(this.store, limits);
      return { ok: true };
    });
  }

  /** Counts a new WebSocket connection against max-connections (catalog/connection-limits.ts). */
  async openConnection(
    vhost: string,
    id: string,
    holder: string,
    info?: ConnectionInfo,
  ): Promise<Result<object>> {
    return this.exclusive(vhost, () => openConnection(this.catalog, vhost, id, holder, info));
  }

  /**
   * A queue object reports its counts (at most once a second, only when they changed). A report
   * from a queue the catalog no longer has (one sent just before its deletion) is dropped.
   */
  reportQueue(name: string, report: QueueReport): Result<object> {
    if (!this.store.getQueue(name)) return notFound();
    this.reports.put(name, report, Date.now());
    return { ok: true };
  }

  /** The vhost's queue totals from the queues' latest reports: exact for any number of queues. */
  async queueTotals(vhost: string): Promise<Result<{ queues: number; totals: QueueReport }>> {
    return this.exclusive(vhost, async () => ({
      ok: true,
      queues: this.store.countQueues(),
      totals: this.reports.totals(Date.now()),
    }));
  }

  /** Every queue's latest report, by name (a list sorted by a count or a rate). */
  async queueReports(vhost: string): Promise<Result<{ reports: Record<string, QueueReport> }>> {
    return this.exclusive(vhost, async () => ({
      ok: true,
      reports: Object.fromEntries(this.reports.current(Date.now())),
    }));
  }

  /** Open WebSocket connections counted against max-connections (the overview's total). */
  connectionCount(): Result<{ connections: number }> {
    return { ok: true, connections: this.catalog.connections.count() };
  }

  closeConnection(id: string): Result<object> {
    this.catalog.connections.remove([id]);
    return { ok: true };
  }

  /** A producer connection's heartbeat; `close` when DELETE /api/connections asked for it. */
  touchConnection(id: string): Result<{ close: boolean }> {
    this.catalog.connections.touch(id, Date.now());
    return { ok: true, close: this.catalog.connections.get(id)?.closing ?? false };
  }

  /** The vhost's open connections, for /api/connections (read-only: no catalog turn needed). */
  listConnections(): Result<{ connections: ConnectionRecord[] }> {
    return { ok: true, connections: this.catalog.connections.list() };
  }

  /** Closes a connection as DELETE /api/connections/{name} does (catalog/connection-limits.ts). */
  async forceCloseConnection(id: string, reason: string): Promise<Result<object>> {
    return forceCloseConnection(this.catalog, id, reason);
  }

  /**
   * Runs a catalog operation alone: every other catalog operation waits until it finishes, even
   * while it awaits the exchange and queue objects it updates (runtime/serial-queue.ts).
   */
  private async exclusive<T extends { ok: boolean }>(
    vhost: string,
    operation: () => Promise<T | Failure>,
  ): Promise<T | Failure> {
    return this.serial.run(async () => {
      if (!exists(this.store, vhost)) {
        if (!createsOnFirstUse(this.store, vhost)) return notFound();
        await create(this.catalog, vhost);
      }
      return operation();
    });
  }
}
