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
 *
 * A delayed exchange (x-delayed-message) holds each message with a positive x-delay in its own
 * SQLite and routes it when due, from its alarm (exchange/delayed-messages.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import { DelayedMessages } from "../exchange/delayed-messages";
import { exchangeStub, inboxStub, queueStub, streamStub } from "../gateway/stubs";
import type { ExchangeDeclaration } from "../protocol/declarations";
import type { PublishedMessage } from "../protocol/message";
import { describe } from "../protocol/names";
import { combineRouted, DELAYED, type Routed, refusedBy } from "../protocol/publish-outcome";
import { BindingTable, type Destination, type RouteResult } from "../routing/binding-table";
import { DELAYED_MESSAGE_TYPE, delayOf, releaseTime } from "../routing/delayed";
import type { FieldTable, RoutableMessage } from "../routing/exchange-type";
import { routingTypeOf } from "../routing/registry";
import { Coalescer } from "../runtime/coalescer";
import {
  EXCHANGE_EVENTS,
  type ExchangeEvent,
  MessageStats,
  type MessageStatsSnapshot,
} from "../runtime/message-stats";
import { DelayedStore, type HeldMessage } from "../storage/delayed-store";
import { EXCHANGE_MIGRATIONS } from "../storage/exchange-schema";
import { ExchangeStore } from "../storage/exchange-store";
import { migrate } from "../storage/migrations";

export type PublishResult = Result<{ routed: Routed[] }>;
/** `held`: the messages a delayed exchange will hold when sent them (`hold`), not route now. */
export type MatchResult = Result<{ routes: RouteResult[]; held?: number[] }>;

const NO_ROUTE: RouteResult = { queues: [], exchanges: [], inboxes: [], streams: [] };

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
  /** Held messages of a delayed exchange (empty for any other type). */
  private readonly delayed: DelayedMessages;
  /** message_stats: in-memory counters, no storage (see message-stats.ts). */
  private readonly rates = new MessageStats<ExchangeEvent>(EXCHANGE_EVENTS);
  /** Copies for each queue, group-committed: one enqueue call per queue at a time. */
  private readonly feeder = new Coalescer<PublishedMessage, Routed>(async (queue, messages) => {
    const vhost = this.declaration?.vhost;
    if (vhost === undefined) return messages.map(() => false);
    const result = await queueStub(this.env, vhost, queue).enqueue(messages);
    if (!result.ok) return messages.map(() => false);
    const refused = new Set(result.refused ?? []);
    return messages.map((_, i) => (refused.has(i) ? refusedBy(queue, vhost) : true));
  });
  /** The same group commit toward inbox objects (keyed by the inbox's user id). */
  private readonly inboxFeeder = new Coalescer<PublishedMessage, Routed>(
    async (inbox, messages) => {
      const vhost = this.declaration?.vhost;
      const stored =
        vhost !== undefined && (await inboxStub(this.env, vhost, inbox).deliver(messages)).ok;
      return messages.map(() => stored);
    },
  );

  /** And toward stream queues: one append (one chunk) per stream at a time. */
  private readonly streamFeeder = new Coalescer<PublishedMessage, Routed>(
    async (stream, messages) => {
      const vhost = this.declaration?.vhost;
      const stored =
        vhost !== undefined && (await streamStub(this.env, vhost, stream).append(messages)).ok;
      return messages.map(() => stored);
    },
  );

  /** And toward delayed exchanges reached through a binding: one `hold` per exchange at a time. */
  private readonly holdFeeder = new Coalescer<PublishedMessage, Routed>(
    async (exchange, messages) => {
      const vhost = this.declaration?.vhost;
      const held =
        vhost !== undefined && (await exchangeStub(this.env, vhost, exchange).hold(messages)).ok;
      return messages.map(() => (held ? DELAYED : false));
    },
  );

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, EXCHANGE_MIGRATIONS);
    this.store = new ExchangeStore(ctx.storage.sql);
    this.delayed = new DelayedMessages(ctx.storage, new DelayedStore(ctx.storage.sql));
    const declaration = this.store.declaration();
    if (declaration) this.load(declaration);
    if (declaration?.type === DELAYED_MESSAGE_TYPE) {
      void ctx.blockConcurrencyWhile(() => this.delayed.ensureArmed());
    }
  }

  configure(declaration: ExchangeDeclaration): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.store.putDeclaration(declaration);
    this.load(declaration);
    return { ok: true, created };
  }

  /** message_stats, and for a delayed exchange how many messages it holds (`messages_delayed`). */
  stats(): Result<{ messageStats: MessageStatsSnapshot; messagesDelayed?: number }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    const messageStats = this.rates.snapshot();
    if (this.declaration.type !== DELAYED_MESSAGE_TYPE) return { ok: true, messageStats };
    return { ok: true, messageStats, messagesDelayed: this.delayed.count };
  }

  /** Deletes the exchange: its bindings, and the messages a delayed exchange still held. */
  async destroy(): Promise<Result<{ removed: number }>> {
    const removed = this.table?.size ?? 0;
    this.ctx.storage.transactionSync(() => this.store.clear());
    this.declaration = null;
    this.table = null;
    await this.delayed.clear();
    return { ok: true, removed };
  }

  /** Releases the held messages that are due (a delayed exchange's only use of the alarm). */
  override async alarm(): Promise<void> {
    if (!this.declaration || !this.table) {
      await this.delayed.clear();
      return;
    }
    await this.delayed.releaseDue(async (messages) => {
      const routed = await this.fanOut(messages);
      this.rates.add("publish_out", routed.filter((r) => r === true).length);
      return routed;
    });
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

  /**
   * Routes without delivering: used by an exchange bound to this one. A delayed exchange answers
   * the messages with a positive x-delay as `held` (RabbitMQ's plugin delays a message reaching
   * it through an exchange-to-exchange binding too); the caller then sends them to `hold`.
   */
  match(messages: readonly RoutableMessage[]): MatchResult {
    const table = this.table;
    if (!table) {
      return fail("not_found", "Not Found");
    }
    if (this.declaration?.type !== DELAYED_MESSAGE_TYPE) {
      return { ok: true, routes: messages.map((message) => table.route(message)) };
    }
    const held: number[] = [];
    const routes = messages.map((message, i) => {
      if (delayOf(message.headers) === 0) return table.route(message);
      held.push(i);
      return NO_ROUTE;
    });
    return { ok: true, routes, held };
  }

  /** Holds messages that reached this delayed exchange through a binding (see `match`). */
  async hold(messages: readonly PublishedMessage[]): Promise<Result<object>> {
    if (this.declaration?.type !== DELAYED_MESSAGE_TYPE) return fail("not_found", "Not Found");
    this.rates.add("publish_in", messages.length);
    await this.delayed.hold(heldAt(Date.now(), messages));
    return { ok: true };
  }

  /**
   * Routes each message and stores a copy in every destination queue and inbox. Answers only when
   * every copy is stored: `routed[i]` is true when message i reached at least one destination.
   * A delayed exchange first stores, in one transaction, every message with a positive x-delay:
   * those answer "delayed" and are routed when due.
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
    let now = messages;
    let held: ReadonlySet<number> = new Set();
    if (declaration.type === DELAYED_MESSAGE_TYPE) {
      const indexes = new Set<number>();
      messages.forEach((message, i) => {
        if (delayOf(message.properties.headers) > 0) indexes.add(i);
      });
      await this.delayed.hold(
        heldAt(
          Date.now(),
          messages.filter((_, i) => indexes.has(i)),
        ),
      );
      held = indexes;
      now = messages.filter((_, i) => !indexes.has(i));
    }
    const routedNow = now.length > 0 ? await this.fanOut(now) : [];
    this.rates.add("publish_out", routedNow.filter((r) => r === true).length);
    let next = 0;
    const routed = messages.map((_, i) => (held.has(i) ? DELAYED : (routedNow[next++] ?? false)));
    return { ok: true, routed };
  }

  /**
   * Routes messages through the bindings and stores each copy in its destinations, one call per
   * destination for the whole batch; rejects when a destination failed to answer.
   */
  private async fanOut(messages: readonly PublishedMessage[]): Promise<Routed[]> {
    const declaration = this.declaration;
    if (!declaration || !this.table) return messages.map(() => false);
    const routes = await this.resolve(declaration, messages);
    const routed: Routed[] = messages.map(() => false);
    const deliver = async (
      feeder: Coalescer<PublishedMessage, Routed>,
      byDestination: Map<string, number[]>,
    ) => {
      await Promise.all(
        [...byDestination].map(async ([destination, indexes]) => {
          const batch = indexes.map((i) => messages[i] as PublishedMessage);
          const outcomes = await feeder.submit(destination, batch);
          indexes.forEach((i, j) => {
            routed[i] = combineRouted(routed[i] as Routed, outcomes[j] ?? false);
          });
        }),
      );
    };
    await Promise.all([
      deliver(this.feeder, groupByDestination(routes.map((r) => r.queues))),
      deliver(this.inboxFeeder, groupByDestination(routes.map((r) => r.inboxes))),
      deliver(this.streamFeeder, groupByDestination(routes.map((r) => r.streams))),
      deliver(this.holdFeeder, groupByDestination(routes.map((r) => r.holders))),
    ]);
    return routed;
  }

  private async resolve(
    declaration: ExchangeDeclaration,
    messages: readonly PublishedMessage[],
  ): Promise<
    { queues: Set<string>; inboxes: Set<string>; streams: Set<string>; holders: Set<string> }[]
  > {
    const queues = messages.map(() => new Set<string>());
    const inboxes = messages.map(() => new Set<string>());
    const streams = messages.map(() => new Set<string>());
    /** Delayed exchanges along the way that hold the message (they route it when due). */
    const holders = messages.map(() => new Set<string>());
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
          return { exchange, indexes, result };
        }),
      );
      for (const { exchange, indexes, result } of answers) {
        if (!result.ok) continue; // a bound exchange that no longer exists routes nowhere
        for (const j of result.held ?? []) holders[indexes[j] as number]?.add(exchange);
        result.routes.forEach((route, j) => {
          absorb(indexes[j] as number, route);
        });
      }
    }
    return queues.map((set, i) => ({
      queues: set,
      inboxes: inboxes[i] ?? new Set<string>(),
      streams: streams[i] ?? new Set<string>(),
      holders: holders[i] ?? new Set<string>(),
    }));
  }

  private load(declaration: ExchangeDeclaration): void {
    const alternate = declaration.arguments["alternate-exchange"];
    const table = new BindingTable(
      routingTypeOf(declaration),
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

/** What a delayed exchange stores for messages arriving at `now`: each with its due time. */
function heldAt(now: number, messages: readonly PublishedMessage[]): HeldMessage[] {
  return messages.map((message) => ({
    releaseAt: releaseTime(now, delayOf(message.properties.headers)),
    message,
  }));
}
