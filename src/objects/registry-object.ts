/**
 * The registry: one global Durable Object holding users (salted password hashes only), vhosts
 * and their limits, permissions, topic permissions, failed-login counts and connection tickets.
 *
 * It is management plane only. The publish and get paths never call it per request: the Worker
 * caches what it learns about a user and the vhost list per isolate for
 * LIMITS.accessCacheMs (src/api/auth.ts), so this one object sees about one call per user per
 * isolate per few seconds, plus management calls. Password hashing (PBKDF2, deliberately slow)
 * runs in the Worker, not here, so logins do not queue behind one another in this object.
 *
 * This class is the RPC shell over src/registry/ (bootstrap: the default vhost and the
 * administrator seeded on first start; logins; records: the rules for writing users, vhosts,
 * permissions and tickets; definitions) and storage/registry-store.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import type {
  PermissionRecord,
  RegistryDefinitions,
  TopicPermissionRecord,
  UserRecord,
  VhostLimitName,
  VhostLimits,
  VhostRecord,
} from "../protocol/registry-records";
import { needsSeed, seed } from "../registry/bootstrap";
import { exportDefinitions, importDefinitions } from "../registry/definitions";
import {
  type AccessSnapshot,
  type LoginRecord,
  loginFailed,
  loginRecord,
  loginSucceeded,
  snapshot,
} from "../registry/logins";
import {
  issueTicket,
  putPermission,
  putTopicPermission,
  putUser,
  putVhost,
  setVhostLimit,
} from "../registry/records";
import { migrate } from "../storage/migrations";
import { REGISTRY_MIGRATIONS, RegistryStore, type TicketRow } from "../storage/registry-store";

const NOT_FOUND = () => fail("not_found", "Not Found");

export class RegistryObject extends DurableObject<Env> {
  private readonly store: RegistryStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, REGISTRY_MIGRATIONS);
    this.store = new RegistryStore(ctx.storage.sql);
    if (needsSeed(this.store)) {
      ctx.blockConcurrencyWhile(async () => seed(this.store, ctx.storage, loadConfig(env)));
    }
  }

  // --- logins -------------------------------------------------------------------------------

  /** A login attempt's inputs: the user (if any) and whether its name is throttled. */
  loginRecord(name: string): Result<LoginRecord> {
    return { ok: true, ...loginRecord(this.store, name, Date.now()) };
  }

  /** The current access of a user already logged in (null when the user is gone). */
  access(name: string): Result<{ snapshot: AccessSnapshot | null }> {
    return { ok: true, snapshot: snapshot(this.store, name) };
  }

  loginFailed(name: string): Result<{ blockedForMs: number }> {
    return { ok: true, blockedForMs: loginFailed(this.store, name, Date.now()) };
  }

  /** Clears the failure count and, for a weaker stored hash, stores the stronger one. */
  loginSucceeded(
    name: string,
    upgrade: { expected: string; hash: string; algorithm: string } | null,
  ): Result<object> {
    loginSucceeded(this.store, name, upgrade);
    return { ok: true };
  }

  // --- users --------------------------------------------------------------------------------

  listUsers(): Result<{ users: UserRecord[] }> {
    return { ok: true, users: this.store.listUsers() };
  }

  /** Creates or updates a user; `keepPassword` keeps the stored hash of an existing user. */
  putUser(user: UserRecord, keepPassword: boolean): Result<{ created: boolean }> {
    return putUser(this.store, user, keepPassword);
  }

  deleteUser(name: string): Result<object> {
    return this.store.deleteUser(name) ? { ok: true } : NOT_FOUND();
  }

  // --- vhosts -------------------------------------------------------------------------------

  listVhosts(): Result<{ vhosts: VhostRecord[] }> {
    return { ok: true, vhosts: this.store.listVhosts() };
  }

  /** Creates or updates a vhost record; its creator gets full permissions in a new one. */
  putVhost(
    vhost: Omit<VhostRecord, "limits">,
    creator: string | null,
  ): Result<{ created: boolean }> {
    return putVhost(this.store, this.ctx.storage, vhost, creator);
  }

  deleteVhost(name: string): Result<object> {
    return this.store.deleteVhost(name) ? { ok: true } : NOT_FOUND();
  }

  /** Sets one limit (or removes it, `value` null) and answers the vhost's limits. */
  setVhostLimit(
    name: string,
    limit: VhostLimitName,
    value: number | null,
  ): Result<{ limits: VhostLimits }> {
    return setVhostLimit(this.store, name, limit, value);
  }

  // --- permissions --------------------------------------------------------------------------

  listPermissions(filter: { user?: string; vhost?: string }): Result<{
    permissions: PermissionRecord[];
    topicPermissions: TopicPermissionRecord[];
  }> {
    return {
      ok: true,
      permissions: this.store.listPermissions(filter),
      topicPermissions: this.store.listTopicPermissions(filter),
    };
  }

  putPermission(permission: PermissionRecord): Result<{ created: boolean }> {
    return putPermission(this.store, permission);
  }

  deletePermission(user: string, vhost: string): Result<object> {
    return this.store.deletePermission(user, vhost) ? { ok: true } : NOT_FOUND();
  }

  putTopicPermission(permission: TopicPermissionRecord): Result<{ created: boolean }> {
    return putTopicPermission(this.store, permission);
  }

  deleteTopicPermissions(user: string, vhost: string, exchange?: string): Result<object> {
    return this.store.deleteTopicPermissions(user, vhost, exchange) ? { ok: true } : NOT_FOUND();
  }

  // --- connection tickets -------------------------------------------------------------------

  issueTicket(digest: string, user: string, vhost: string, expires: number): Result<object> {
    return issueTicket(this.store, { digest, user, vhost, expires }, Date.now());
  }

  takeTicket(digest: string): Result<{ ticket: TicketRow | null }> {
    return { ok: true, ticket: this.store.takeTicket(digest) ?? null };
  }

  // --- definitions --------------------------------------------------------------------------

  exportDefinitions(): Result<{ definitions: RegistryDefinitions }> {
    return { ok: true, definitions: exportDefinitions(this.store) };
  }

  /** Imports users, vhosts and permissions in one transaction (registry/definitions.ts). */
  importDefinitions(definitions: RegistryDefinitions): Result<object> {
    return importDefinitions(this.store, this.ctx.storage, definitions);
  }
}
