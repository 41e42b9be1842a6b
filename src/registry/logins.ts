/**
 * The registry's side of a login: what the Worker needs to check a password and cache the
 * user's access (the hash is checked in the Worker, not here, so logins do not queue behind one
 * another in this one object), and the failure counts that throttle guessing
 * (access/login-throttle.ts).
 */
import { afterFailure, blockedFor } from "../access/login-throttle";
import type { UserAccess } from "../access/user-access";
import type { RegistryStore } from "../storage/registry-store";

/** Failures older than this whose block has ended are forgotten, so guessed names do not pile up. */
const FAILURE_MEMORY_MS = 60 * 60 * 1000;

/** What the Worker caches about a user: its access, and the hash its password was checked against. */
export interface AccessSnapshot {
  readonly access: UserAccess;
  readonly credential: { readonly hash: string; readonly algorithm: string };
}

export interface LoginRecord {
  readonly snapshot: AccessSnapshot | null;
  readonly blockedForMs: number;
  readonly failures: number;
}

/** The user's access and credential, or null when there is no such user. */
export function snapshot(store: RegistryStore, name: string): AccessSnapshot | null {
  const user = store.getUser(name);
  if (!user) return null;
  return {
    access: {
      name: user.name,
      identity: store.userIdentity(name) ?? "",
      tags: user.tags,
      permissions: store.listPermissions({ user: name }),
      topicPermissions: store.listTopicPermissions({ user: name }),
    },
    credential: { hash: user.password_hash, algorithm: user.hashing_algorithm },
  };
}

/** A login attempt's inputs: the user (none while its name is throttled) and its failures. */
export function loginRecord(store: RegistryStore, name: string, now: number): LoginRecord {
  const failures = store.getFailures(name);
  const blockedForMs = blockedFor(failures, now);
  return {
    snapshot: blockedForMs > 0 ? null : snapshot(store, name),
    blockedForMs,
    failures: failures?.failures ?? 0,
  };
}

/** Counts a failed login; answers how long the name is now blocked. */
export function loginFailed(store: RegistryStore, name: string, now: number): number {
  const record = afterFailure(store.getFailures(name), now);
  store.putFailures(name, record, now);
  store.pruneFailures(now - FAILURE_MEMORY_MS, now);
  return blockedFor(record, now);
}

/** Clears the failure count and, for a weaker stored hash, stores the stronger one. */
export function loginSucceeded(
  store: RegistryStore,
  name: string,
  upgrade: { expected: string; hash: string; algorithm: string } | null,
): void {
  store.clearFailures(name);
  if (upgrade) store.replaceHash(name, upgrade.expected, upgrade.hash, upgrade.algorithm);
}
