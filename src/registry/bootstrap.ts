/**
 * What the registry holds from its first start: the default vhost `/` and, when
 * BROKER_ADMIN_USER and BROKER_ADMIN_PASSWORD are configured, the bootstrap administrator with
 * full permissions on `/` (RabbitMQ's default_user). Each is seeded once; afterwards the registry
 * is the truth (change the administrator's password through the API).
 */
import { hashPassword, NATIVE_ALGORITHM } from "../access/passwords";
import type { BrokerConfig } from "../config";
import { DEFAULT_VHOST } from "../protocol/names";
import type { VhostRecord } from "../protocol/registry-records";
import type { RegistryStore } from "../storage/registry-store";

export const FULL_PERMISSIONS = { configure: ".*", write: ".*", read: ".*" } as const;

export function defaultVhostRecord(name: string): VhostRecord {
  return {
    name,
    description: name === DEFAULT_VHOST ? "Default virtual host" : "",
    tags: [],
    default_queue_type: "classic",
    limits: {},
  };
}

export function needsSeed(store: RegistryStore): boolean {
  return store.getMeta("default_vhost_seeded") !== "1" || store.getMeta("admin_seeded") !== "1";
}

/** Seeds what is missing; with no administrator password configured nobody can log in. */
export async function seed(
  store: RegistryStore,
  storage: DurableObjectStorage,
  config: BrokerConfig,
): Promise<void> {
  if (store.getMeta("default_vhost_seeded") !== "1") {
    store.putVhost(defaultVhostRecord(DEFAULT_VHOST));
    store.setMeta("default_vhost_seeded", "1");
  }
  if (store.getMeta("admin_seeded") === "1" || config.adminPassword === undefined) return;
  // Hashing is deliberately slow: done before the transaction, which must not await.
  const hash = await hashPassword(config.adminPassword);
  storage.transactionSync(() => {
    store.putUser({
      name: config.adminUser,
      password_hash: hash,
      hashing_algorithm: NATIVE_ALGORITHM,
      tags: ["administrator"],
      limits: {},
    });
    if (store.getVhost(DEFAULT_VHOST)) {
      store.putPermission({ user: config.adminUser, vhost: DEFAULT_VHOST, ...FULL_PERMISSIONS });
    }
    store.setMeta("admin_seeded", "1");
  });
}
