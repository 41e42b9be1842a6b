/**
 * Checks one call of an operation (src/access/operations.ts) against what a user may do: its tags,
 * its vhost access and its resource permissions, in that order, answering the first refusal.
 * Pure: the Worker's routes and sockets turn a refusal into their answer (src/api/guards.ts).
 * Topic permissions are checked by the callers, which know the exchange's type.
 */
import type { Grant, Operation, Target } from "./operations";
import { hasTag, type RequiredTag } from "./tags";
import { allows, hasVhostAccess, type UserAccess } from "./user-access";

/** What one call names: its vhost, the targets its grants are checked on, its object's owner. */
export type Call = { readonly vhost?: string; readonly owner?: string } & Partial<
  Readonly<Record<Target, string>>
>;

export type Refusal =
  | { readonly kind: "tag"; readonly tag: RequiredTag }
  | { readonly kind: "vhost"; readonly vhost: string }
  | {
      readonly kind: "permission";
      readonly vhost: string;
      readonly grant: Grant;
      readonly name: string;
    };

export function refusalOf(access: UserAccess, operation: Operation, call: Call): Refusal | null {
  const tag = operation.tag;
  if (tag !== undefined && !hasTag(access.tags, tag)) {
    const owns = operation.ownerExempt === true && call.owner === access.name;
    if (!owns) return { kind: "tag", tag };
  }
  if (operation.vhostAccess && !hasVhostAccess(access, vhostOf(call))) {
    return { kind: "vhost", vhost: vhostOf(call) };
  }
  return grantRefusal(access, operation, call);
}

/** The resource permissions alone (the tag and vhost checked elsewhere). */
export function grantRefusal(access: UserAccess, operation: Operation, call: Call): Refusal | null {
  for (const grant of operation.grants ?? []) {
    if (grant.when !== undefined && call[grant.when] === undefined) continue;
    const name = call[grant.target];
    if (name === undefined) {
      // A programming error, not a refusal: the route did not pass what its operation checks.
      throw new Error(`the call names no '${grant.target}' for a ${grant.permission} check`);
    }
    const vhost = vhostOf(call);
    if (!allows(access, vhost, grant.permission, grant.on, name)) {
      return { kind: "permission", vhost, grant, name };
    }
  }
  return null;
}

export function permitted(access: UserAccess, operation: Operation, call: Call): boolean {
  return refusalOf(access, operation, call) === null;
}

function vhostOf(call: Call): string {
  if (call.vhost === undefined) throw new Error("the call names no vhost");
  return call.vhost;
}
