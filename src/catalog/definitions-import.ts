/**
 * A vhost's part of a definitions import (POST /api/definitions): checked as a whole first
 * (topology-check.ts, which the import also runs for every vhost before it changes any), then
 * declared and bound: exchanges, then queues, then bindings, each kind with bounded parallelism
 * (every new queue and exchange starts its own object, which is most of an import's time). A name
 * the file lists twice is declared once in the parallel pass and checked again, in file order,
 * afterwards, as a sequential import would.
 */
import { LIMITS } from "../config";
import type { Result } from "../errors";
import { mapLimited } from "../runtime/map-limited";
import { bind } from "./bind";
import type { CatalogContext } from "./catalog-context";
import { declareExchange, declareQueue } from "./declare";
import { checkTopology, type Topology } from "./topology-check";
import { limit } from "./vhost-limits";

/** Checks a topology against the catalog, changing nothing. */
export function checkImport(
  { store }: CatalogContext,
  vhost: string,
  topology: Topology,
): Result<object> {
  return checkTopology(store, vhost, topology, limit(store, "max-queues")) ?? { ok: true };
}

/** Checks the topology again (the catalog may have changed since), then creates everything. */
export async function importTopology(
  catalog: CatalogContext,
  vhost: string,
  topology: Topology,
): Promise<Result<object>> {
  const checked = checkImport(catalog, vhost, topology);
  if (!checked.ok) return checked;
  // Policies first, so the queues declared next get theirs at once.
  for (const { kind, policy } of topology.policies ?? []) {
    await catalog.policies.put(kind, policy);
  }
  const exchanges = await declareEach(topology.exchanges, (e) => declareExchange(catalog, e));
  if (!exchanges.ok) return exchanges;
  const queues = await declareEach(topology.queues, (q) => declareQueue(catalog, q));
  if (!queues.ok) return queues;
  // A binding is keyed by its ends, key and arguments, so binding twice is idempotent.
  const bound = await mapLimited(topology.bindings, LIMITS.importConcurrency, (b) =>
    bind(catalog, vhost, b),
  );
  return firstFailure(bound);
}

/**
 * Declares the first of each name with bounded parallelism, then the repeats one by one (each
 * checked for equivalence against what the first declared). Answers the first failure in file
 * order.
 */
async function declareEach<D extends { name: string }>(
  declarations: readonly D[],
  declare: (declaration: D) => Promise<Result<object>>,
): Promise<Result<object>> {
  const seen = new Set<string>();
  const first: D[] = [];
  const repeats: D[] = [];
  for (const declaration of declarations) {
    (seen.has(declaration.name) ? repeats : first).push(declaration);
    seen.add(declaration.name);
  }
  const done = firstFailure(await mapLimited(first, LIMITS.importConcurrency, declare));
  if (!done.ok) return done;
  for (const declaration of repeats) {
    const again = await declare(declaration);
    if (!again.ok) return again;
  }
  return { ok: true };
}

function firstFailure(results: readonly Result<object>[]): Result<object> {
  return results.find((result) => !result.ok) ?? { ok: true };
}
