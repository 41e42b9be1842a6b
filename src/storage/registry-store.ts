/**
 * The registry's tables: users, vhosts (with their limits), permissions, topic permissions,
 * failed-login counts and connection tickets. Typed SQL helpers; no policy, no network.
 */
import type { FailureRecord } from "../access/login-throttle";
import type {
  PermissionRecord,
  TopicPermissionRecord,
  UserRecord,
  VhostLimits,
  VhostRecord,
} from "../protocol/registry-records";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE users (
      name TEXT PRIMARY KEY,
      password_hash TEXT NOT NULL,
      hashing_algorithm TEXT NOT NULL,
      tags TEXT NOT NULL,
      limits TEXT NOT NULL
    )`,
    `CREATE TABLE vhosts (
      name TEXT PRIMARY KEY,
      description TEXT NOT NULL,
      tags TEXT NOT NULL,
      default_queue_type TEXT NOT NULL,
      limits TEXT NOT NULL
    )`,
    `CREATE TABLE permissions (
      user TEXT NOT NULL, vhost TEXT NOT NULL,
      configure TEXT NOT NULL, write TEXT NOT NULL, read TEXT NOT NULL,
      PRIMARY KEY (user, vhost)
    )`,
    "CREATE INDEX permissions_by_vhost ON permissions (vhost)",
    `CREATE TABLE topic_permissions (
      user TEXT NOT NULL, vhost TEXT NOT NULL, exchange TEXT NOT NULL,
      write TEXT NOT NULL, read TEXT NOT NULL,
      PRIMARY KEY (user, vhost, exchange)
    )`,
    "CREATE INDEX topic_permissions_by_vhost ON topic_permissions (vhost)",
    `CREATE TABLE login_failures (
      user TEXT PRIMARY KEY, failures INTEGER NOT NULL, blocked_until INTEGER NOT NULL,
      last_failure INTEGER NOT NULL
    )`,
    "CREATE INDEX login_failures_by_time ON login_failures (last_failure)",
    `CREATE TABLE tickets (
      digest TEXT PRIMARY KEY, user TEXT NOT NULL, vhost TEXT NOT NULL, expires INTEGER NOT NULL
    )`,
    "CREATE INDEX tickets_by_expiry ON tickets (expires)",
  ],
  [
    // Who a login was: a new value whenever the user is created or its password hash is
    // replaced (not when a login upgrades the hash). Open sockets compare it (docs/security.md).
    "ALTER TABLE users ADD COLUMN identity TEXT NOT NULL DEFAULT ''",
    "UPDATE users SET identity = lower(hex(randomblob(16)))",
  ],
];

interface UserRow extends Record<string, SqlStorageValue> {
  name: string;
  password_hash: string;
  hashing_algorithm: string;
  tags: string;
  limits: string;
}

interface VhostRow extends Record<string, SqlStorageValue> {
  name: string;
  description: string;
  tags: string;
  default_queue_type: string;
  limits: string;
}

type PermissionRow = PermissionRecord & Record<string, SqlStorageValue>;
type TopicPermissionRow = TopicPermissionRecord & Record<string, SqlStorageValue>;

export interface TicketRow extends Record<string, SqlStorageValue> {
  user: string;
  vhost: string;
  expires: number;
}

const toUser = (row: UserRow): UserRecord => ({
  name: row.name,
  password_hash: row.password_hash,
  hashing_algorithm: row.hashing_algorithm,
  tags: fromJsonColumn<string[]>(row.tags, []),
  limits: fromJsonColumn<Record<string, number>>(row.limits, {}),
});

const toVhost = (row: VhostRow): VhostRecord => ({
  name: row.name,
  description: row.description,
  tags: fromJsonColumn<string[]>(row.tags, []),
  default_queue_type: row.default_queue_type,
  limits: fromJsonColumn<VhostLimits>(row.limits, {}),
});

const toPermission = (row: PermissionRow): PermissionRecord => ({
  user: row.user,
  vhost: row.vhost,
  configure: row.configure,
  write: row.write,
  read: row.read,
});

const toTopicPermission = (row: TopicPermissionRow): TopicPermissionRecord => ({
  user: row.user,
  vhost: row.vhost,
  exchange: row.exchange,
  write: row.write,
  read: row.read,
});

export class RegistryStore extends MetaStore {
  getUser(name: string): UserRecord | undefined {
    const row = this.sql.first<UserRow>("SELECT * FROM users WHERE name = ?", name);
    return row ? toUser(row) : undefined;
  }

  listUsers(): UserRecord[] {
    return this.sql.all<UserRow>("SELECT * FROM users ORDER BY name").map(toUser);
  }

  /**
   * Creates or updates a user. Its identity is new when the user is created or its password
   * hash changes, so sockets logged in before are closed (same hash, same identity).
   */
  putUser(user: UserRecord): void {
    const before = this.userIdentity(user.name);
    this.sql.run(
      `INSERT INTO users (name, password_hash, hashing_algorithm, tags, limits, identity) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash,
         hashing_algorithm = excluded.hashing_algorithm, tags = excluded.tags, limits = excluded.limits,
         identity = CASE WHEN users.password_hash = excluded.password_hash THEN users.identity
                    ELSE excluded.identity END`,
      user.name,
      user.password_hash,
      user.hashing_algorithm,
      toJsonColumn(user.tags),
      toJsonColumn(user.limits),
      crypto.randomUUID(),
    );
    // A ticket issued to the previous identity must not open a socket for the new one.
    if (before !== undefined && before !== this.userIdentity(user.name)) {
      this.sql.run("DELETE FROM tickets WHERE user = ?", user.name);
    }
  }

  /** The user's current identity (see putUser), or undefined when there is no such user. */
  userIdentity(name: string): string | undefined {
    return this.sql.first<{ identity: string }>("SELECT identity FROM users WHERE name = ?", name)
      ?.identity;
  }

  /** Replaces the hash only if it is still `expected` (a concurrent password change wins). */
  replaceHash(name: string, expected: string, hash: string, algorithm: string): void {
    this.sql.run(
      "UPDATE users SET password_hash = ?, hashing_algorithm = ? WHERE name = ? AND password_hash = ?",
      hash,
      algorithm,
      name,
      expected,
    );
  }

  /** Deletes a user and every permission it held. */
  deleteUser(name: string): boolean {
    const removed = this.sql.run("DELETE FROM users WHERE name = ?", name) > 0;
    this.sql.run("DELETE FROM permissions WHERE user = ?", name);
    this.sql.run("DELETE FROM topic_permissions WHERE user = ?", name);
    this.sql.run("DELETE FROM tickets WHERE user = ?", name);
    return removed;
  }

  getVhost(name: string): VhostRecord | undefined {
    const row = this.sql.first<VhostRow>("SELECT * FROM vhosts WHERE name = ?", name);
    return row ? toVhost(row) : undefined;
  }

  listVhosts(): VhostRecord[] {
    return this.sql.all<VhostRow>("SELECT * FROM vhosts ORDER BY name").map(toVhost);
  }

  putVhost(vhost: VhostRecord): void {
    this.sql.run(
      `INSERT INTO vhosts (name, description, tags, default_queue_type, limits) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET description = excluded.description, tags = excluded.tags,
         default_queue_type = excluded.default_queue_type, limits = excluded.limits`,
      vhost.name,
      vhost.description,
      toJsonColumn(vhost.tags),
      vhost.default_queue_type,
      toJsonColumn(vhost.limits),
    );
  }

  /** Deletes a vhost and every permission in it: nothing else. */
  deleteVhost(name: string): boolean {
    const removed = this.sql.run("DELETE FROM vhosts WHERE name = ?", name) > 0;
    this.sql.run("DELETE FROM permissions WHERE vhost = ?", name);
    this.sql.run("DELETE FROM topic_permissions WHERE vhost = ?", name);
    this.sql.run("DELETE FROM tickets WHERE vhost = ?", name);
    return removed;
  }

  listPermissions(filter: { user?: string; vhost?: string } = {}): PermissionRecord[] {
    return this.sql
      .all<PermissionRow>(
        "SELECT * FROM permissions WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR vhost = ?2) ORDER BY vhost, user",
        filter.user ?? null,
        filter.vhost ?? null,
      )
      .map(toPermission);
  }

  putPermission(permission: PermissionRecord): void {
    this.sql.run(
      `INSERT INTO permissions (user, vhost, configure, write, read) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user, vhost) DO UPDATE SET configure = excluded.configure,
         write = excluded.write, read = excluded.read`,
      permission.user,
      permission.vhost,
      permission.configure,
      permission.write,
      permission.read,
    );
  }

  deletePermission(user: string, vhost: string): boolean {
    return this.sql.run("DELETE FROM permissions WHERE user = ? AND vhost = ?", user, vhost) > 0;
  }

  listTopicPermissions(filter: { user?: string; vhost?: string } = {}): TopicPermissionRecord[] {
    return this.sql
      .all<TopicPermissionRow>(
        "SELECT * FROM topic_permissions WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR vhost = ?2) ORDER BY vhost, user, exchange",
        filter.user ?? null,
        filter.vhost ?? null,
      )
      .map(toTopicPermission);
  }

  putTopicPermission(permission: TopicPermissionRecord): void {
    this.sql.run(
      `INSERT INTO topic_permissions (user, vhost, exchange, write, read) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user, vhost, exchange) DO UPDATE SET write = excluded.write, read = excluded.read`,
      permission.user,
      permission.vhost,
      permission.exchange,
      permission.write,
      permission.read,
    );
  }

  /** Deletes one exchange's topic permission, or all of the user's in the vhost. */
  deleteTopicPermissions(user: string, vhost: string, exchange?: string): boolean {
    return (
      this.sql.run(
        "DELETE FROM topic_permissions WHERE user = ? AND vhost = ? AND (?3 IS NULL OR exchange = ?3)",
        user,
        vhost,
        exchange ?? null,
      ) > 0
    );
  }

  getFailures(user: string): FailureRecord | undefined {
    const row = this.sql.first<{ failures: number; blocked_until: number }>(
      "SELECT failures, blocked_until FROM login_failures WHERE user = ?",
      user,
    );
    return row ? { failures: row.failures, blockedUntil: row.blocked_until } : undefined;
  }

  putFailures(user: string, record: FailureRecord, now: number): void {
    this.sql.run(
      `INSERT INTO login_failures (user, failures, blocked_until, last_failure) VALUES (?, ?, ?, ?)
       ON CONFLICT(user) DO UPDATE SET failures = excluded.failures,
         blocked_until = excluded.blocked_until, last_failure = excluded.last_failure`,
      user,
      record.failures,
      record.blockedUntil,
      now,
    );
  }

  clearFailures(user: string): void {
    this.sql.run("DELETE FROM login_failures WHERE user = ?", user);
  }

  /** Forgets failures older than `before` whose block has ended, so guessed names do not pile up. */
  pruneFailures(before: number, now: number): void {
    this.sql.run(
      "DELETE FROM login_failures WHERE last_failure < ? AND blocked_until < ?",
      before,
      now,
    );
  }

  putTicket(digest: string, user: string, vhost: string, expires: number): void {
    this.sql.run(
      "INSERT INTO tickets (digest, user, vhost, expires) VALUES (?, ?, ?, ?)",
      digest,
      user,
      vhost,
      expires,
    );
  }

  /** Removes and returns a ticket: a ticket can be taken once. */
  takeTicket(digest: string): TicketRow | undefined {
    const row = this.sql.first<TicketRow>(
      "SELECT user, vhost, expires FROM tickets WHERE digest = ?",
      digest,
    );
    if (row) this.sql.run("DELETE FROM tickets WHERE digest = ?", digest);
    return row;
  }

  pruneTickets(now: number): void {
    this.sql.run("DELETE FROM tickets WHERE expires <= ?", now);
  }
}
