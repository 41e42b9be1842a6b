/**
 * What a catalog operation works on: the vhost catalog object's environment (to reach the
 * exchange, queue and inbox objects it keeps in step) and its stores. The vhost object builds
 * one and runs every operation inside its turn (VhostObject.exclusive), so the modules in
 * src/catalog/ hold no state and need no locking of their own.
 */
import type { Env } from "../env";
import { type Failure, fail } from "../errors";
import type { CatalogStore } from "../storage/catalog-store";
import type { ConnectionStore } from "../storage/connection-store";

export interface CatalogContext {
  readonly env: Env;
  readonly store: CatalogStore;
  readonly connections: ConnectionStore;
}

export const notFound = (): Failure => fail("not_found", "Not Found");
