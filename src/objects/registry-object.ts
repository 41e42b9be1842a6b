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
 * On first start it creates the default vhost `/` and, when BROKER_ADMIN_USER and
 * BROKER_ADMIN_PASSWORD are configured, the bootstrap administrator with full permissions on `/`
 * (RabbitMQ's default_user). Each is seeded once; afterwards the registry is the truth (change
 * the administrator's password through the API). With no password configured nobody can log in.
 */
import { DurableObject } from "cloudflare:workers";
import { afterFailure, blockedFor } from "../access/login-throttle";
import { hashPassword, NATIVE_ALGORITHM } from "../access/passwords";
import type { UserAccess } from "../access/user-access";
import { loadConfig } from "../config";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import { DEFAULT_VHOST } from "../protocol/names";
import type {
  PermissionRecord,
  RegistryDefinitions,
  TopicPermissionRecord,
  UserRecord,
  VhostLimitName,
  VhostLimits,
  VhostRecord,
} from "../protocol/registry-records";
import { migrate } from "../storage/migrations";
import { REGISTRY_MIGRATIONS, RegistryStore, type TicketRow } from "../storage/registry-store";

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

/** What the Worker caches about a user: its access, and the hash its password was checked against. */
export interface AccessSnapshot {
  readonly access: UserAccess;
  readonly credential: { readonly hash: string; readonly algorithm: string };
}

const FAILURE_MEMORY_MS = 60 * 60 * 1000;

export class RegistryObject extends DurableObject<Env> {
  private readonly store: RegistryStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, REGISTRY_MIGRATIONS);
    this.store = new RegistryStore(ctx.storage.sql);
    if (this.store.getMeta("default_vhost_seeded") !== "1" || !this.adminSeeded()) {
      ctx.blockConcurrencyWhile(() => this.seed());
    }
  }

  private adminSeeded(): boolean {
    return this.store.getMeta("admin_seeded") === "1";
  }

  private async seed(): Promise<void> {
    if (this.store.getMeta("default_vhost_seeded") !== "1") {
      this.store.putVhost(defaultVhostRecord(DEFAULT_VHOST));
      this.store.setMeta("default_vhost_seeded", "1");
    }
    const config = loadConfig(this.env);
    if (this.adminSeeded() || config.adminPassword === undefined) return;
    const hash = await hashPassword(config.adminPassword);
    this.ctx.storage.transactionSync(() => {
      this.store.putUser({
        name: config.adminUser,
        password_hash: hash,
        hashing_algorithm: NATIVE_ALGORITHM,
        tags: ["administrator"],
        limits: {},
      });
      if (this.store.getVhost(DEFAULT_VHOST)) {
        this.store.putPermission({
          user: config.adminUser,
          vhost: DEFAULT_VHOST,
          ...FULL_PERMISSIONS,
        });
      }
      this.store.setMeta("admin_seeded", "1");
    });
  }

  private snapshot(name: string): AccessSnapshot | null {
    const user = this.store.getUser(name);
    if (!user) return null;
    return {
      access: {
        name: user.name,
        identity: this.store.userIdentity(name) ?? "",
        tags: user.tags,
        permissions: this.store.listPermissions({ user: name }),
        topicPermissions: this.store.listTopicPermissions({ user: name }),
      },
      credential: { hash: user.password_hash, algorithm: user.hashing_algorithm },
    };
  }

  // --- logins -------------------------------------------------------------------------------

  /** A login attempt's inputs: the user (if any) and whether its name is throttled. */
  loginRecord(name: string): Result<{
    snapshot: AccessSnapshot | null;
    blockedForMs: number;
    failures: number;
  }> {
    const failures = this.store.getFailures(name);
    const blockedForMs = blockedFor(failures, Date.now());
    return {
      ok: true,
      snapshot: blockedForMs > 0 ? null : this.snapshot(name),
      blockedForMs,
      failures: failures?.failures ?? 0,
    };
  }

  /** The current access of a user already logged in (null when the user is gone). */
  access(name: string): Result<{ snapshot: AccessSnapshot | null }> {
    return { ok: true, snapshot: this.snapshot(name) };
  }

  loginFailed(name: string): Result<{ blockedForMs: number }> {
    const now = Date.now();
    const record = afterFailure(this.store.getFailures(name), now);
    this.store.putFailures(name, record, now);
    this.store.pruneFailures(now - FAILURE_MEMORY_MS, now);
    return { ok: true, blockedForMs: blockedFor(record, now) };
  }

  /** Clears the failure count and, for a weaker stored hash, stores the stronger one. */
  loginSucceeded(
    name: string,
    upgrade: { expected: string; hash: string; algorithm: string } | null,
  ): Result<object> {
    this.store.clearFailures(name);
    if (upgrade) this.store.replaceHash(name, upgrade.expected, upgrade.hash, upgrade.algorithm);
    return { ok: true };
  }

  // --- users --------------------------------------------------------------------------------

  listUsers(): Result<{ users: UserRecord[] }> {
    return { ok: true, users: this.store.listUsers() };
  }

  /** Creates or updates a user; `keepPassword` keeps the stored hash of an existing user. */
  putUser(user: UserRecord, keepPassword: boolean): Result<{ created: boolean }> {
    const current = this.store.getUser(user.name);
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
    this.store.putUser(record);
    if (!keepPassword) this.store.clearFailures(user.name);
    return { ok: true, created: !current };
  }

  deleteUser(name: string): Result<object> {
    return this.store.deleteUser(name) ? { ok: true } : fail("not_found", "Not Found");
  }

  // --- vhosts -------------------------------------------------------------------------------

  listVhosts(): Result<{ vhosts: VhostRecord[] }> {
    return { ok: true, vhosts: this.store.listVhosts() };
  }

  /**
   * Creates or updates a vhost record. The user creating a vhost gets full permissions in it, as
   * RabbitMQ's management API grants them, so an administrator can use what it just created.
   */
  putVhost(
    vhost: Omit<VhostRecord, "limits">,
    creator: string | null,
  ): Result<{ created: boolean }> {
    const current = this.store.getVhost(vhost.name);
    this.ctx.storage.transactionSync(() => {
      this.store.putVhost({ ...vhost, limits: current?.limits ?? {} });
      if (!current && creator && this.store.getUser(creator)) {
        this.store.putPermission({ user: creator, vhost: vhost.name, ...FULL_PERMISSIONS });
      }
    });
    return { ok: true, created: !current };
  }

  deleteVhost(name: string): Result<object> {
    return this.store.deleteVhost(name) ? { ok: true } : fail("not_found", "Not Found");
  }

  /** Sets one limit (or removes it, `value` null) and answers the vhost's limits. */
  setVhostLimit(
    name: string,
    limit: VhostLimitName,
    value: number | null,
  ): Result<{ limits: VhostLimits }> {
    const current = this.store.getVhost(name);
    if (!current || (value === null && current.limits[limit] === undefined)) {
      return fail("not_found", "Not Found");
    }
    const limits: VhostLimits = { ...current.limits };
    if (value === null) delete limits[limit];
    else limits[limit] = value;
    this.store.putVhost({ ...current, limits });
    return { ok: true, limits };
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
    const missing = this.missingReference(permission.user, permission.vhost);
    if (missing) return missing;
    const created = this.store.listPermissions(permission).length === 0;
    this.store.putPermission(permission);
    return { ok: true, created };
  }

  deletePermission(user: string, vhost: string): Result<object> {
    return this.store.deletePermission(user, vhost) ? { ok: true } : fail("not_found", "Not Found");
  }

  putTopicPermission(permission: TopicPermissionRecord): Result<{ created: boolean }> {
    const missing = this.missingReference(permission.user, permission.vhost);
    if (missing) return missing;
    const created = !this.store
      .listTopicPermissions(permission)
      .some((p) => p.exchange === permission.exchange);
    this.store.putTopicPermission(permission);
    return { ok: true, created };
  }

  deleteTopicPermissions(user: string, vhost: string, exchange?: string): Result<object> {
    return this.store.deleteTopicPermissions(user, vhost, exchange)
      ? { ok: true }
      : fail("not_found", "Not Found");
  }

  private missingReference(user: string, vhost: string) {
    if (!this.store.getVhost(vhost)) return fail("not_found", "Not Found");
    if (!this.store.getUser(user)) return fail("bad_request", `user '${user}' does not exist`);
    return null;
  }

  // --- connection tickets -------------------------------------------------------------------

  issueTicket(digest: string, user: string, vhost: string, expires: number): Result<object> {
    this.store.pruneTickets(Date.now());
    if (!this.store.getUser(user) || !this.store.getVhost(vhost)) {
      return fail("not_found", "Not Found");
    }
    this.store.putTicket(digest, user, vhost, expires);
    return { ok: true };
  }

  takeTicket(digest: string): Result<{ ticket: TicketRow | null }> {
    return { ok: true, ticket: this.store.takeTicket(digest) ?? null };
  }

  // --- definitions --------------------------------------------------------------------------

  exportDefinitions(): Result<{ definitions: RegistryDefinitions }> {
    return {
      ok: true,
      definitions: {
        users: this.store.listUsers(),
        vhosts: this.store.listVhosts(),
        permissions: this.store.listPermissions(),
        topic_permissions: this.store.listTopicPermissions(),
      },
    };
  }

  /**
   * Imports users, vhosts and permissions in one transaction, after checking that every
   * permission names a user and a vhost that exist in the file or already here. Vhost records
   * in the file keep the limits they already have unless the file sets some.
   */
  importDefinitions(definitions: RegistryDefinitions): Result<object> {
    const users = new Set(definitions.users.map((u) => u.name));
    const vhosts = new Set(definitions.vhosts.map((v) => v.name));
    for (const p of [...definitions.permissions, ...definitions.topic_permissions]) {
      if (!users.has(p.user) && !this.store.getUser(p.user)) {
        return fail("bad_request", `permission for user '${p.user}', which does not exist`);
      }
      if (!vhosts.has(p.vhost) && !this.store.getVhost(p.vhost)) {
        return fail("bad_request", `permission in vhost '${p.vhost}', which does not exist`);
      }
    }
    this.ctx.storage.transactionSync(() => {
      for (const user of definitions.users) {
        this.store.putUser(user);
        this.store.clearFailures(user.name);
      }
      for (const vhost of definitions.vhosts) {
        const current = this.store.getVhost(vhost.name);
        const limits =
          Object.keys(vhost.limits).length > 0 ? vhost.limits : (current?.limits ?? {});
        this.store.putVhost({ ...vhost, limits });
      }
      for (const permission of definitions.permissions) this.store.putPermission(permission);
      for (const permission of definitions.topic_permissions) {
        this.store.putTopicPermission(permission);
      }
    });
    return { ok: true };
  }
}
