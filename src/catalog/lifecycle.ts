/**
 * A vhost's life in its catalog object: created with its built-in exchanges (PUT /api/vhosts,
 * or on first use for the default vhost), deleted with every object in it (DELETE /api/vhosts).
 * The default vhost, once deleted, stays deleted.
 */
import { exchangeStub, queueStub } from "../gateway/stubs";
import { builtinExchanges } from "../protocol/builtin-exchanges";
import { DEFAULT_VHOST } from "../protocol/names";
import type { CatalogStore } from "../storage/catalog-store";
import type { CatalogContext } from "./catalog-context";

/** Objects destroyed in parallel when a vhost is deleted. */
const DESTROY_CHUNK = 32;

export function exists(store: CatalogStore, vhost: string): boolean {
  return store.getMeta("vhost") === vhost;
}

/** Whether an operation on a vhost with no catalog yet may create it: the default vhost, once. */
export function createsOnFirstUse(store: CatalogStore, vhost: string): boolean {
  return vhost === DEFAULT_VHOST && store.getMeta("dropped") !== "1";
}

export async function create({ env, store }: CatalogContext, vhost: string): Promise<void> {
  for (const declaration of builtinExchanges(vhost)) {
    await exchangeStub(env, vhost, declaration.name).configure(declaration);
    store.putExchange(declaration);
  }
  store.setMeta("vhost", vhost);
  store.setMeta("dropped", "0");
}

/**
 * Destroys every queue object (with its messages) and every exchange object (with its
 * bindings), in chunks, then empties the catalog in one transaction. Idempotent, so a deletion
 * interrupted half way can be repeated.
 */
export async function destroy(
  { env, store }: CatalogContext,
  storage: DurableObjectStorage,
  vhost: string,
): Promise<{ queues: number; exchanges: number }> {
  const queues = store.listQueues().map((q) => q.name);
  const exchanges = store.listExchanges().map((e) => e.name);
  for (let i = 0; i < queues.length; i += DESTROY_CHUNK) {
    await Promise.all(
      queues
        .slice(i, i + DESTROY_CHUNK)
        .map((name) => queueStub(env, vhost, name).destroy({ ifEmpty: false, ifUnused: false })),
    );
  }
  for (let i = 0; i < exchanges.length; i += DESTROY_CHUNK) {
    await Promise.all(
      exchanges.slice(i, i + DESTROY_CHUNK).map((name) => exchangeStub(env, vhost, name).destroy()),
    );
  }
  storage.transactionSync(() => {
    store.clear();
    // The default vhost is created on first use; once deleted it must stay deleted.
    store.setMeta("dropped", "1");
  });
  return { queues: queues.length, exchanges: exchanges.length };
}
