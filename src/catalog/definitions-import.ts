/**
 * A vhost's part of a definitions import (POST /api/definitions): checked as a whole first
 * (topology-check.ts, which the import also runs for every vhost before it changes any), then
 * declared and bound in file order: exchanges, queues, bindings.
 */
import type { Result } from "../errors";
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
  for (const exchange of topology.exchanges) {
    const done = await declareExchange(catalog, exchange);
    if (!done.ok) return done;
  }
  for (const queue of topology.queues) {
    const done = await declareQueue(catalog, queue);
    if (!done.ok) return done;
  }
  for (const binding of topology.bindings) {
    const done = await bind(catalog, vhost, binding);
    if (!done.ok) return done;
  }
  return { ok: true };
}
