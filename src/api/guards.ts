/**
 * Authorization checks the routes call: vhost visibility, resource permissions (RabbitMQ's
 * access-control table, src/access/user-access.ts), topic permissions and the administrator tag.
 * Refusals are `403 access_refused` with RabbitMQ's wording (RabbitMQ's management API answers
 * some of them with 401; a 403 tells a client that its credentials were fine).
 */
import { createMiddleware } from "hono/factory";
import { isAdministrator, seesAllVhosts } from "../access/tags";
import {
  allows,
  allowsTopic,
  hasVhostAccess,
  type PermissionKind,
  type ResourceKind,
  refusal,
} from "../access/user-access";
import { BrokerError } from "../errors";
import { vhostRecords } from "../gateway/access-cache";
import type { VhostRecord } from "../protocol/registry-records";
import type { AppContext, AppEnv } from "./context";

export const loadVhosts = createMiddleware<AppEnv>(async (c, next) => {
  c.set("vhosts", await vhostRecords(c.env));
  await next();
});

export function vhostRecord(c: AppContext, vhost: string): VhostRecord | undefined {
  return c.get("vhosts").find((record) => record.name === vhost);
}

/** Whether the caller may see the vhost at all: monitoring and administrators see every one. */
export function seesVhost(c: AppContext, vhost: string): boolean {
  const principal = c.get("principal");
  return seesAllVhosts(principal.tags) || hasVhostAccess(principal, vhost);
}

/** The vhosts the caller sees, for the lists that span vhosts. */
export function knownVhosts(c: AppContext): string[] {
  return c
    .get("vhosts")
    .map((record) => record.name)
    .filter((vhost) => seesVhost(c, vhost));
}

/** Unknown vhost: 404; a vhost the caller cannot see: 403. */
export function requireVisibleVhost(c: AppContext, vhost: string): void {
  if (!vhostRecord(c, vhost)) throw new BrokerError("not_found", "Not Found");
  if (!seesVhost(c, vhost)) {
    throw new BrokerError(
      "access_refused",
      `access to vhost '${vhost}' refused for user '${c.get("principal").name}'`,
    );
  }
}

/** A connection's check: the user has a permission entry in the vhost. */
export function requireVhostAccess(c: AppContext, vhost: string): void {
  requireVisibleVhost(c, vhost);
  const principal = c.get("principal");
  if (!hasVhostAccess(principal, vhost)) {
    throw new BrokerError(
      "access_refused",
      `access to vhost '${vhost}' refused for user '${principal.name}'`,
    );
  }
}

export function requirePermission(
  c: AppContext,
  vhost: string,
  permission: PermissionKind,
  kind: ResourceKind,
  name: string,
): void {
  const principal = c.get("principal");
  if (!allows(principal, vhost, permission, kind, name)) {
    throw new BrokerError("access_refused", refusal(principal, vhost, permission, kind, name));
  }
}

/** Topic permissions apply to topic exchanges only; the caller knows the exchange's type. */
export function requireTopicPermission(
  c: AppContext,
  vhost: string,
  permission: "write" | "read",
  exchange: string,
  routingKey: string,
): void {
  const principal = c.get("principal");
  if (!allowsTopic(principal, vhost, permission, exchange, routingKey)) {
    throw new BrokerError(
      "access_refused",
      `${permission} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${principal.name}'`,
    );
  }
}

export function requireAdministrator(c: AppContext): void {
  if (!isAdministrator(c.get("principal").tags)) {
    throw new BrokerError("access_refused", "Not administrator user");
  }
}
