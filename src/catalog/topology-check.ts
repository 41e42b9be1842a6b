/**
 * Checks a vhost's part of a definitions import against the vhost's catalog without changing
 * anything: redeclarations must be equivalent, the queue limit must hold, every binding's ends
 * must exist (in the file or already) and its arguments must compile. The all-or-nothing import
 * runs this for every vhost before it changes any.
 */
import { type Failure, fail } from "../errors";
import type { BindRequest } from "../protocol/bindings";
import { builtinExchange } from "../protocol/builtin-exchanges";
import {
  type ExchangeDeclaration,
  exchangeEquivalence,
  type QueueDeclaration,
  queueEquivalence,
} from "../protocol/declarations";
import { DEFAULT_EXCHANGE, describe } from "../protocol/names";
import type { Policy, PolicyKind } from "../protocol/policies";
import { routingTypeOf } from "../routing/registry";
import type { CatalogStore } from "../storage/catalog-store";

export interface Topology {
  readonly exchanges: readonly ExchangeDeclaration[];
  readonly queues: readonly QueueDeclaration[];
  readonly bindings: readonly BindRequest[];
  /** Policies and operator policies, checked by the API before (src/protocol/policies.ts). */
  readonly policies?: readonly { kind: PolicyKind; policy: Policy }[];
}

export function checkTopology(
  store: CatalogStore,
  vhost: string,
  topology: Topology,
  maxQueues: number | null,
): Failure | null {
  const exchanges = new Map<string, ExchangeDeclaration>();
  for (const exchange of topology.exchanges) {
    const current = store.getExchange(exchange.name) ?? builtinExchange(vhost, exchange.name);
    const mismatch =
      (current && exchangeEquivalence(current, exchange)) ||
      (exchanges.has(exchange.name) &&
        exchangeEquivalence(exchanges.get(exchange.name) as ExchangeDeclaration, exchange));
    if (mismatch) return mismatch;
    exchanges.set(exchange.name, exchange);
  }
  const queues = new Map<string, QueueDeclaration>();
  let added = 0;
  for (const queue of topology.queues) {
    const current = store.getQueue(queue.name);
    const earlier = queues.get(queue.name);
    const mismatch =
      (current && queueEquivalence(current, queue)) ||
      (earlier && queueEquivalence(earlier, queue));
    if (mismatch) return mismatch;
    if (!current && !earlier) added++;
    queues.set(queue.name, queue);
  }
  if (maxQueues !== null && store.countQueues() + added > maxQueues) {
    return fail(
      "bad_request",
      `PRECONDITION_FAILED - cannot import ${added} queues into vhost '${vhost}': queue limit in vhost (${maxQueues}) is reached`,
    );
  }
  const exchangeOf = (name: string) =>
    exchanges.get(name) ?? store.getExchange(name) ?? builtinExchange(vhost, name) ?? undefined;
  for (const binding of topology.bindings) {
    if (binding.source === DEFAULT_EXCHANGE || binding.destination === DEFAULT_EXCHANGE) {
      return fail(
        "access_refused",
        `operation not permitted on the default exchange in vhost '${vhost}'`,
      );
    }
    const source = exchangeOf(binding.source);
    if (!source)
      return fail(
        "bad_request",
        `binding from missing ${describe("exchange", binding.source, vhost)}`,
      );
    const destinationExists =
      binding.destinationType === "queue"
        ? queues.has(binding.destination) || store.getQueue(binding.destination) !== undefined
        : exchangeOf(binding.destination) !== undefined;
    if (!destinationExists) {
      return fail(
        "bad_request",
        `binding to missing ${describe(binding.destinationType, binding.destination, vhost)}`,
      );
    }
    const compiled = routingTypeOf(source).compile(binding.routingKey, binding.arguments);
    if (!compiled.ok) return fail("bad_request", compiled.reason);
  }
  return null;
}
