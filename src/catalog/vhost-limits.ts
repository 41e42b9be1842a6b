/**
 * A vhost's limits (PUT /api/vhost-limits): stored in the catalog's meta table, read where they
 * are enforced. max-queues is checked at declaration (here and by the definitions import),
 * max-connections when a connection opens (connection-limits.ts).
 */
import { type Failure, fail } from "../errors";
import type { VhostLimits } from "../protocol/registry-records";
import type { CatalogStore } from "../storage/catalog-store";

export type LimitName = "max-queues" | "max-connections";

export function setLimits(store: CatalogStore, limits: VhostLimits): void {
  store.setMeta("limits", JSON.stringify(limits));
}

/** The limit's value, or null when unset or negative (RabbitMQ: -1 means no limit). */
export function limit(store: CatalogStore, name: LimitName): number | null {
  const limits = JSON.parse(store.getMeta("limits") ?? "{}") as VhostLimits;
  const max = limits[name];
  return max === undefined || max < 0 ? null : max;
}

/** RabbitMQ: "cannot declare queue: queue limit in vhost is reached" (406, here 400). */
export function queueLimitFailure(
  store: CatalogStore,
  vhost: string,
  adding: number,
): Failure | null {
  const max = limit(store, "max-queues");
  if (max === null || store.countQueues() + adding <= max) return null;
  return fail(
    "bad_request",
    `PRECONDITION_FAILED - cannot declare queue in vhost '${vhost}': queue limit in vhost (${max}) is reached`,
  );
}
