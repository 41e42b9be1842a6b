/**
 * The rules for writing the registry's records beyond what their tables enforce: a new user
 * needs a password, the creator of a vhost gets full permissions in it (as RabbitMQ's management
 * API grants them), a permission must name a user and a vhost that exist, a ticket is issued
 * only for an existing user and vhost.
 */
import { type Failure, fail, type Result } from "../errors";
import type {
  PermissionRecord,
  TopicPermissionRecord,
  UserRecord,
  VhostLimitName,
  VhostLimits,
  VhostRecord,
} from "../protocol/registry-records";
import type { RegistryStore } from "../storage/registry-store";
import { FULL_PERMISSIONS } from "./bootstrap";

const notFound = (): Failure => fail("not_found", "Not Found");

/** Creates or updates a user; `keepPassword` keeps the stored hash of an existing user. */
export function putUser(
  store: RegistryStore,
  user: UserRecord,
  keepPassword: boolean,
): Result<{ created: boolean }> {
  const current = store.getUser(user.name);
  if (!current && keepPassword) {
    return fail("bad_request", "password or password_hash must be set");
  }
  const record =
    current && keepPassword
      ? {
          ...user,
          password_hash: current.password_hash,
          hashing_algorithm: current.hashing_algorithm,
        }
      : user;
  store.putUser(record);
  if (!keepPassword) store.clearFailures(user.name);
  return { ok: true, created: !current };
}

/**
 * Creates or updates a vhost record, keeping its limits. The user creating a vhost gets full
 * permissions in it, so an administrator can use what it just created.
 */
export function putVhost(
  store: RegistryStore,
  storage: DurableObjectStorage,
  vhost: Omit<VhostRecord, "limits">,
  creator: string | null,
): Result<{ created: boolean }> {
  const current = store.getVhost(vhost.name);
  storage.transactionSync(() => {
    store.putVhost({ ...vhost, limits: current?.limits ?? {} });
    if (!current && creator && store.getUser(creator)) {
      store.putPermission({ user: creator, vhost: vhost.name, ...FULL_PERMISSIONS });
    }
  });
  return { ok: true, created: !current };
}

/** Sets one limit (or removes it, `value` null) and answers the vhost's limits. */
export function setVhostLimit(
  store: RegistryStore,
  name: string,
  limit: VhostLimitName,
  value: number | null,
): Result<{ limits: VhostLimits }> {
  const current = store.getVhost(name);
  if (!current || (value === null && current.limits[limit] === undefined)) {
    return notFound();
  }
  const limits: VhostLimits = { ...current.limits };
  if (value === null) delete limits[limit];
  else limits[limit] = value;
  store.putVhost({ ...current, limits });
  return { ok: true, limits };
}

export function putPermission(
  store: RegistryStore,
  permission: PermissionRecord,
): Result<{ created: boolean }> {
  const missing = missingReference(store, permission.user, permission.vhost);
  if (missing) return missing;
  const created = store.listPermissions(permission).length === 0;
  store.putPermission(permission);
  return { ok: true, created };
}

export function putTopicPermission(
  store: RegistryStore,
  permission: TopicPermissionRecord,
): Result<{ created: boolean }> {
  const missing = missingReference(store, permission.user, permission.vhost);
  if (missing) return missing;
  const created = !store
    .listTopicPermissions(permission)
    .some((p) => p.exchange === permission.exchange);
  store.putTopicPermission(permission);
  return { ok: true, created };
}

/** Stores a connection ticket (tickets expire; expired ones are pruned on the way). */
export function issueTicket(
  store: RegistryStore,
  ticket: { digest: string; user: string; vhost: string; expires: number },
  now: number,
): Result<object> {
  store.pruneTickets(now);
  if (!store.getUser(ticket.user) || !store.getVhost(ticket.vhost)) {
    return notFound();
  }
  store.putTicket(ticket.digest, ticket.user, ticket.vhost, ticket.expires);
  return { ok: true };
}

function missingReference(store: RegistryStore, user: string, vhost: string): Failure | null {
  if (!store.getVhost(vhost)) return notFound();
  if (!store.getUser(user)) return fail("bad_request", `user '${user}' does not exist`);
  return null;
}
