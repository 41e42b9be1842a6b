/**
 * What one user may do: its tags and its permissions in each vhost, as a plain value that the
 * registry hands out and the Worker caches briefly (see src/api/auth.ts), and RabbitMQ's checks
 * of one permission on one resource. Which operation needs which permission is the permission
 * table's business (src/access/operations.ts). Topic permissions (#topic-authorisation): a user
 * with no topic permission for an exchange is not restricted by topic.
 */
import { DEFAULT_EXCHANGE, DEFAULT_EXCHANGE_PATH_NAME } from "../protocol/names";
import { expandTopicRegex, permits } from "./permission-regex";

export type PermissionKind = "configure" | "write" | "read";
export type ResourceKind = "exchange" | "queue";

export interface VhostPermission {
  readonly vhost: string;
  readonly configure: string;
  readonly write: string;
  readonly read: string;
}

export interface TopicPermission {
  readonly vhost: string;
  readonly exchange: string;
  readonly write: string;
  readonly read: string;
}

export interface UserAccess {
  readonly name: string;
  /**
   * Which incarnation of the user this is: it changes when the user is deleted and created
   * again, or its password is set. A connection is bound to the identity that logged in.
   */
  readonly identity: string;
  readonly tags: readonly string[];
  readonly permissions: readonly VhostPermission[];
  readonly topicPermissions: readonly TopicPermission[];
}

/** RabbitMQ lets a user into a vhost when it has a permission entry there, whatever it says. */
export function hasVhostAccess(access: UserAccess, vhost: string): boolean {
  return access.permissions.some((p) => p.vhost === vhost);
}

/** RabbitMQ checks the default exchange under the name "amq.default". */
export function resourceName(kind: ResourceKind, name: string): string {
  return kind === "exchange" && name === DEFAULT_EXCHANGE ? DEFAULT_EXCHANGE_PATH_NAME : name;
}

export function allows(
  access: UserAccess,
  vhost: string,
  permission: PermissionKind,
  kind: ResourceKind,
  name: string,
): boolean {
  const entry = access.permissions.find((p) => p.vhost === vhost);
  return entry !== undefined && permits(entry[permission], resourceName(kind, name));
}

export function allowsTopic(
  access: UserAccess,
  vhost: string,
  permission: "write" | "read",
  exchange: string,
  routingKey: string,
): boolean {
  const entries = access.topicPermissions.filter(
    (p) => p.vhost === vhost && p.exchange === exchange,
  );
  if (entries.length === 0) return true;
  return entries.some((entry) =>
    permits(expandTopicRegex(entry[permission], access.name, vhost), routingKey),
  );
}

/** RabbitMQ's wording for a refused resource operation. */
export function refusal(
  access: UserAccess,
  vhost: string,
  permission: PermissionKind,
  kind: ResourceKind,
  name: string,
): string {
  return `${permission} access to ${kind} '${resourceName(kind, name)}' in vhost '${vhost}' refused for user '${access.name}'`;
}
