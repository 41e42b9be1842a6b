/**
 * The registry's part of the definitions file (GET/POST /api/definitions): users, vhosts,
 * permissions and topic permissions. The vhosts' exchanges, queues and bindings are in their
 * catalogs (catalog/definitions-import.ts).
 */
import { fail, type Result } from "../errors";
import type { RegistryDefinitions } from "../protocol/registry-records";
import type { RegistryStore } from "../storage/registry-store";

export function exportDefinitions(store: RegistryStore): RegistryDefinitions {
  return {
    users: store.listUsers(),
    vhosts: store.listVhosts(),
    permissions: store.listPermissions(),
    topic_permissions: store.listTopicPermissions(),
  };
}

/**
 * Imports users, vhosts and permissions in one transaction, after checking that every
 * permission names a user and a vhost that exist in the file or already here. Vhost records
 * in the file keep the limits they already have unless the file sets some.
 */
export function importDefinitions(
  store: RegistryStore,
  storage: DurableObjectStorage,
  definitions: RegistryDefinitions,
): Result<object> {
  const users = new Set(definitions.users.map((u) => u.name));
  const vhosts = new Set(definitions.vhosts.map((v) => v.name));
  for (const p of [...definitions.permissions, ...definitions.topic_permissions]) {
    if (!users.has(p.user) && !store.getUser(p.user)) {
      return fail("bad_request", `permission for user '${p.user}', which does not exist`);
    }
    if (!vhosts.has(p.vhost) && !store.getVhost(p.vhost)) {
      return fail("bad_request", `permission in vhost '${p.vhost}', which does not exist`);
    }
  }
  storage.transactionSync(() => {
    for (const user of definitions.users) {
      store.putUser(user);
      store.clearFailures(user.name);
    }
    for (const vhost of definitions.vhosts) {
      const current = store.getVhost(vhost.name);
      const limits = Object.keys(vhost.limits).length > 0 ? vhost.limits : (current?.limits ?? {});
      store.putVhost({ ...vhost, limits });
    }
    for (const permission of definitions.permissions) store.putPermission(permission);
    for (const permission of definitions.topic_permissions) store.putTopicPermission(permission);
  });
  return { ok: true };
}
