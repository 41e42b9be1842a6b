/**
 * Authorization checks the routes call: `authorize` checks what the permission table
 * (src/access/operations.ts) says the route's operation needs (a tag, vhost access, resource
 * permissions on the names the call passes), plus vhost visibility and topic permissions.
 * Refusals are `403 access_refused` with RabbitMQ's wording (RabbitMQ's management API answers
 * some of them with 401; a 403 tells a client that its credentials were fine).
 */
import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import { type Call, grantRefusal, permitted } from "../access/operation-check";
import {
  OPERATIONS,
  type Operation,
  type OperationName,
  routeOperation,
} from "../access/operations";
import { hasTag, seesAllVhosts } from "../access/tags";
import { allowsTopic, hasVhostAccess, refusal } from "../access/user-access";
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

/** The operation of the route being answered, from the permission table. */
export function currentOperation(c: AppContext): Operation {
  const path = routePath(c);
  const found = routeOperation(c.req.method, path);
  // test/access/operations.test.ts keeps every route in the table: this is a programming error.
  if (!found) throw new Error(`${c.req.method} ${path} has no entry in the permission table`);
  return found;
}

/**
 * Checks the route's operation for this call: its tag (unless the caller owns the object and
 * the operation exempts owners), its vhost access, then its resource permissions on the names
 * the call passes, in the table's order.
 */
export function authorize(c: AppContext, call: Call = {}): void {
  enforce(c, currentOperation(c), call);
}

/** Whether the caller may perform an operation: for lists that show only what it may use. */
export function mayPerform(c: AppContext, name: OperationName, call: Call): boolean {
  return permitted(c.get("principal"), OPERATIONS[name], call);
}

function enforce(c: AppContext, operation: Operation, call: Call): void {
  const principal = c.get("principal");
  const tag = operation.tag;
  if (tag !== undefined && !hasTag(principal.tags, tag)) {
    if (!(operation.ownerExempt && call.owner === principal.name)) {
      throw new BrokerError("access_refused", `Not ${tag} user`);
    }
  }
  if (operation.vhostAccess) {
    if (call.vhost === undefined) throw new Error("an operation with vhost access needs the vhost");
    requireVhostAccess(c, call.vhost);
  }
  const refused = grantRefusal(principal, operation, call);
  if (refused?.kind === "permission") {
    const { grant, name, vhost } = refused;
    throw new BrokerError(
      "access_refused",
      refusal(principal, vhost, grant.permission, grant.on, name),
    );
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
