/** The Worker's bindings, as declared in wrangler.jsonc. */
import type { ExchangeObject } from "./objects/exchange-object";
import type { QueueObject } from "./objects/queue-object";
import type { RegistryObject } from "./objects/registry-object";
import type { VhostObject } from "./objects/vhost-object";

export interface Env {
  EXCHANGES: DurableObjectNamespace<ExchangeObject>;
  QUEUES: DurableObjectNamespace<QueueObject>;
  VHOSTS: DurableObjectNamespace<VhostObject>;
  /** One global instance: users, vhosts, permissions (management plane only). */
  REGISTRY: DurableObjectNamespace<RegistryObject>;
  /**
   * The bootstrap administrator, seeded into the registry once. The password is a secret in a
   * deploy; unset means nobody can log in.
   */
  BROKER_ADMIN_USER?: string;
  BROKER_ADMIN_PASSWORD?: string;
  MAX_MESSAGE_BYTES?: string;
}
