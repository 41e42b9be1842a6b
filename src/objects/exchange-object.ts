/**
 * An exchange: one Durable Object per (vhost, exchange). It keeps the declaration and the
 * exchange's outgoing bindings in SQLite, compiles them once into a BindingTable, and on publish
 * routes each message and fans the copies out to the destination queue objects and notification
 * inbox objects (an inbox is a destination kind: docs/notifications.md). The publish path touches
 * only this object, the exchanges it is bound to and the destinations.
 *
 * Exchange-to-exchange routing is a breadth-first walk with a visited set per message, as
 * RabbitMQ's rabbit_exchange:route does, so a cycle ends and a queue reached along several paths
 * receives the message once.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import { exchangeStub, inboxStub, queueStub, streamStub } from "../gateway/stubs";
import type { ExchangeDeclaration } from "../protocol/declarations";
import type { PublishedMessage } from "../protocol/message";
import { describe } from "../protocol/names";
import { BindingTable, type Destination, type RouteResult } from "../routing/binding-table";
import type { FieldTable, RoutableMessage } from "../routing/exchange-type";
import { exchangeTypes } from "../routing/registry";
import { Coalescer } from "../runtime/coalescer";
import {
  EXCHANGE_EVENTS,
  type ExchangeEvent,
  MessageStats,
  type MessageStatsSnapshot,
} from "../runtime/message-stats";
import { EXCHANGE_MIGRATIONS } from "../storage/exchange-schema";
import { ExchangeStore } from "../storage/exchange-store";
import { migrate } from "../storage/migrations";

export type PublishResult = Result<{ routed: boolean[] }>;
export type MatchResult = Result<{ routes: RouteResult[] }>;

export interface BindingSpec {
  readonly id: string;
  readonly destination: Destination;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

export class ExchangeObject extends DurableObject<Env> {
  private readonly store: ExchangeStore;
  private declaration: ExchangeDeclaration | null = null;
  private table: BindingTable | null = null;
  /** message_stats: in-memory counters, no storage (see message-stats.ts). */
  private readonly rates = new MessageStats<ExchangeEvent>(EXCHANGE_EVENTS);
  /** Copies for each queue, group-committed: one enqueue call per queue at a time. */
  private readonly feeder = new Coalescer<PublishedMessage, boolean>(async (queue, messages) => {
    const vhost = this.declaration?.vhost;
    const stored =
      vhost !== undefined && (await queueStub(this.env, vhost, queue).enqueue(messages)).ok;
    return messages.map(() => stored);
  });
  /** The same group commit toward inbox objects (keyed by the inbox's user id). */
  private readonly inboxFeeder = new Coalescer<PublishedMessage, boolean>(
    async (inbox, messages) => {
      const vhost = this.declaration?.vhost;
      const stored =
        vhost !== undefined && (await inboxStub(this.env, vhost, inbox).deliver(messages)).ok;
      return messages.map(() => stored);
    },
  );

  /** And toward stream queues: one append (one chunk) per stream at a time. */
  private readonly streamFeeder = new Coalescer<PublishedMessage, boolean>(
    async (stream, messages) => {
      const vhost = this.declaration?.vhost;
      const stored =
        vhost !== undefined && (await streamStub(this.env, vhost, stream).append(messages)).ok;
      return messages.map(() => stored);
    },
  );

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, EXCHANGE_MIGRATIONS);
    this.store = new ExchangeStore(ctx.storage.sql);
    const declaration = this.store.declaration();
    if (declaration) this.load(declaration);
  }

  configure(declaration: ExchangeDeclaration): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.store.putDeclaration(declaration);
    this.load(declaration);
    return { ok: true, created };
  }

  stats(): Result<{ messageStats: MessageStatsSnapshot }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    return { ok: true, messageStats: this.rates.snapshot() };
  }

  destroy(): Result<{ removed: number }> {
    const removed = this.table?.size ?? 0;
    this.ctx.storage.transactionSync(() => this.store.clear());
    this.declaration = null;
    this.table = null;
    return { ok: true, removed };
  }

  bind(spec: BindingSpec): Result<object> {
    if (!this.table) {
      return fail("not_found", "Not Found");
    }
    const invalid = this.table.add(spec.id, spec.destination, spec.routingKey, spec.arguments);
    if (invalid !== null) {
      return fail("bad_request", invalid);
    }
    this.store.putBinding({
      id: spec.id,
      kind: spec.destination.kind,
      destination: spec.destination.name,
      routingKey: spec.routingKey,
      arguments: spec.arguments,
    });
    return { ok: true };
  }

  unbind(ids: readonly string[]): Result<object> {
    for (const id of ids) {
      this.table?.remove(id);
      this.store.deleteBinding(id);
    }
    return { ok: true };
  }

  /** Routes without delivering: used by an exchange bound to this one. */
  match(messages: readonly RoutableMessage[]): MatchResult {
    const table = this.table;
    if (!table) {
      return fail("not_found", "Not Found");
    }
    return { ok: true, routes: messages.map((message) => table.route(message)) };
  }

  /**
   * Routes each message and stores a copy in every destination queue and inbox. Answers only when
   * every copy is stored: `routed[i]` is true when message i reached at least one destination.
   */
  async publish(messages: readonly PublishedMessage[]): Promise<PublishResult> {
    const declaration = this.declaration;
    if (!declaration || !this.table) {
      return fail("not_found", "Not Found");
    }
    if (declaration.internal) {
      return fail(
        "access_refused",
        `cannot publish to internal ${describe("exchange", declaration.name, declaration.vhost)}`,
      );
    }
    this.rates.add("publish_in", messages.length);
    const routes = await this.resolve(declaration, messages);
    const routed = messages.map(() => false);
    const deliver = async (
      feeder: Coalescer<PublishedMessage, boolean>,
      byDestination: Map<string, number[]>,
    ) => {
      await Promise.all(
        [...byDestination].map(async ([destination, indexes]) => {
          const batch = indexes.map((i) => messages[i] as PublishedMessage);
          const [stored] = await feeder.submit(destination, batch);
          if (stored) {
            for (const i of indexes) routed[i] = true;
          }
        }),
      );
    };
    await Promise.all([
      deliver(this.feeder, groupByDestination(routes.map((r) => r.queues))),
      deliver(this.inboxFeeder, groupByDestination(routes.map((r) => r.inboxes))),
      deliver(this.streamFeeder, groupByDestination(routes.map((r) => r.streams))),
    ]);
    this.rates.add("publish_out", routed.filter(Boolean).length);
    return { ok: true, routed };
  }

  private async resolve(
    declaration: ExchangeDeclaration,
    messages: readonly PublishedMessage[],
  ): Promise<{ queues: Set<string>; inboxes: Set<string>; streams: Set<string> }[]> {
    const queues = messages.map(() => new Set<string>());
    const inboxes = messages.map(() => new Set<string>());
    const streams = messages.map(() => new Set<string>());
    const visited = messages.map(() => new Set<string>([declaration.name]));
    const inputs = messages.map((m) => ({
      routingKey: m.routingKey,
      headers: m.properties.headers,
    }));
    let frontier = new Map<string, number[]>();
    const absorb = (index: number, route: RouteResult) => {
      for (const queue of route.queues) queues[index]?.add(queue);
      for (const inbox of route.inboxes) inboxes[index]?.add(inbox);
      for (const stream of route.streams) streams[index]?.add(stream);
      for (const exchange of route.exchanges) {
        const seen = visited[index];
        if (!seen || seen.has(exchange)) continue;
        seen.add(exchange);
        const list = frontier.get(exchange);
        if (list) list.push(index);
        else frontier.set(exchange, [index]);
      }
    };
    const table = this.table as BindingTable;
    inputs.forEach((input, index) => {
      absorb(index, table.route(input));
    });
    // Each hop adds to every message's visited set, so the walk ends without a depth limit
    // (RabbitMQ's rabbit_exchange:route has none either).
    while (frontier.size > 0) {
      const current = frontier;
      frontier = new Map();
      const answers = await Promise.all(
        [...current].map(async ([exchange, indexes]) => {
          const stub = exchangeStub(this.env, declaration.vhost, exchange);
          const result = await stub.match(indexes.map((i) => inputs[i] as RoutableMessage));
          return { indexes, result };
        }),
      );
      for (const { indexes, result } of answers) {
        if (!result.ok) continue; // a bound exchange that no longer exists routes nowhere
        result.routes.forEach((route, j) => {
          absorb(indexes[j] as number, route);
        });
      }
    }
    return queues.map((set, i) => ({
      queues: set,
      inboxes: inboxes[i] ?? new Set<string>(),
      streams: streams[i] ?? new Set<string>(),
    }));
  }

  private load(declaration: ExchangeDeclaration): void {
    const alternate = declaration.arguments["alternate-exchange"];
    const table = new BindingTable(
      exchangeTypes[declaration.type],
      typeof alternate === "string" ? alternate : undefined,
    );
    for (const binding of this.store.bindings()) {
      table.add(
        binding.id,
        { kind: binding.kind, name: binding.destination },
        binding.routingKey,
        binding.arguments,
      );
    }
    this.declaration = declaration;
    this.table = table;
  }
}

/** Destination name -> indexes of the messages routed to it, in message order. */
function groupByDestination(routes: readonly Set<string>[]): Map<string, number[]> {
  const byDestination = new Map<string, number[]>();
  routes.forEach((destinations, index) => {
    for (const destination of destinations) {
      const list = byDestination.get(destination);
      if (list) list.push(index);
      else byDestination.set(destination, [index]);
    }
  });
  return byDestination;
}
