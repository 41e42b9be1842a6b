/**
 * The records the registry keeps, shaped as RabbitMQ's definitions file spells them
 * (GET /api/definitions), so export is a projection and import a validation.
 */

export interface UserRecord {
  readonly name: string;
  /** Never leaves the broker except in a definitions export (as RabbitMQ's does). */
  readonly password_hash: string;
  readonly hashing_algorithm: string;
  readonly tags: readonly string[];
  readonly limits: Record<string, number>;
}

export const VHOST_LIMIT_NAMES = ["max-queues", "max-connections"] as const;
export type VhostLimitName = (typeof VHOST_LIMIT_NAMES)[number];
export type VhostLimits = Partial<Record<VhostLimitName, number>>;

export interface VhostRecord {
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly default_queue_type: string;
  readonly limits: VhostLimits;
}

export interface PermissionRecord {
  readonly user: string;
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface TopicPermissionRecord {
  readonly user: string;
  readonly vhost: string;
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

/** Everything the registry holds, as one definitions fragment. */
export interface RegistryDefinitions {
  readonly users: readonly UserRecord[];
  readonly vhosts: readonly VhostRecord[];
  readonly permissions: readonly PermissionRecord[];
  readonly topic_permissions: readonly TopicPermissionRecord[];
}
