/**
 * The Worker's side of authentication: verifying HTTP Basic credentials against the registry,
 * and a short per-isolate cache so that the publish and get paths do not call the registry (one
 * global object) on every request.
 *
 * What is cached, for LIMITS.accessCacheMs (5 s), except where said:
 * - an Authorization header that verified, with the password hash it verified against (for
 *   LIMITS.verifiedHeaderMs, 10 minutes, checked against the current hash on every use);
 * - each user's access (tags and permissions), re-read from the registry when it expires;
 * - the vhost list.
 * Only successes are cached. A cached header is accepted only while the user's current hash is
 * still the one it verified against, so a password change, a deleted user or a revoked permission
 * takes effect within 5 s on every isolate, and at once on the isolate that made the change
 * (`forgetAccess`, called after every registry mutation).
 *
 * Timing: the password check is PBKDF2 (src/access/passwords.ts); an unknown user name costs the
 * same work, and digests compare in constant time.
 */

import {
  burnVerification,
  hashPassword,
  NATIVE_ALGORITHM,
  verifyPassword,
} from "../access/passwords";
import type { UserAccess } from "../access/user-access";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { unwrap } from "../errors";
import type { VhostRecord } from "../protocol/registry-records";
import type { AccessSnapshot } from "../registry/logins";
import { registryStub } from "./stubs";

const CACHE_ENTRIES = 1000;

interface Timed<T> {
  readonly value: T;
  readonly until: number;
}

const credentials = new Map<string, Timed<{ user: string; hash: string }>>();
const snapshots = new Map<string, Timed<AccessSnapshot | null>>();
let vhostList: Timed<VhostRecord[]> | null = null;

function remember<K, V>(
  map: Map<K, Timed<V>>,
  key: K,
  value: V,
  ttlMs: number = LIMITS.accessCacheMs,
): void {
  if (map.size >= CACHE_ENTRIES) map.clear();
  map.set(key, { value, until: Date.now() + ttlMs });
}

/**
 * Counts the registry changes made from this isolate. Open sockets remember the version their
 * access was last checked at (src/queue/socket-access.ts): a change here makes them check
 * again before their next delivery, without the delivery path asking anything.
 */
let version = 0;

export function accessVersion(): number {
  return version;
}

/** Forgets everything cached in this isolate: call after any change to the registry. */
export function forgetAccess(): void {
  version++;
  credentials.clear();
  snapshots.clear();
  vhostList = null;
}

async function snapshotOf(env: Env, user: string): Promise<AccessSnapshot | null> {
  const hit = snapshots.get(user);
  if (hit && hit.until > Date.now()) return hit.value;
  const { snapshot } = unwrap(await registryStub(env).access(user));
  remember(snapshots, user, snapshot);
  return snapshot;
}

/**
 * A logged-in user's current access, or null when the user no longer exists. This is the hook a
 * long-lived connection (a WebSocket) calls per frame: it costs a registry call at most once per
 * user per isolate every 5 s, and it answers null within 5 s of the user's deletion.
 */
export async function currentAccess(env: Env, user: string): Promise<UserAccess | null> {
  return (await snapshotOf(env, user))?.access ?? null;
}

/** A user's access read from the registry now, not from the cache (which it refreshes). */
export async function freshAccess(env: Env, user: string): Promise<UserAccess | null> {
  const { snapshot } = unwrap(await registryStub(env).access(user));
  remember(snapshots, user, snapshot);
  return snapshot?.access ?? null;
}

/** Every vhost, from the registry at most every 5 s. */
export async function vhostRecords(env: Env): Promise<VhostRecord[]> {
  if (vhostList && vhostList.until > Date.now()) return vhostList.value;
  const { vhosts } = unwrap(await registryStub(env).listVhosts());
  vhostList = { value: vhosts, until: Date.now() + LIMITS.accessCacheMs };
  return vhosts;
}

export function parseBasicAuth(
  header: string | undefined,
): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) {
    return null;
  }
  let decoded: string;
  try {
    decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(atob(match[1]), (ch) => ch.charCodeAt(0)),
    );
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) {
    return null;
  }
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export type LoginOutcome =
  | { readonly ok: true; readonly access: UserAccess }
  | { readonly ok: false; readonly throttledForMs: number };

const REFUSED: LoginOutcome = { ok: false, throttledForMs: 0 };

/** Verifies an Authorization header; `throttledForMs` > 0 when the name is locked out. */
export async function login(env: Env, header: string | undefined): Promise<LoginOutcome> {
  if (header === undefined) return REFUSED;
  const cached = credentials.get(header);
  if (cached && cached.until > Date.now()) {
    const snapshot = await snapshotOf(env, cached.value.user);
    if (snapshot && snapshot.credential.hash === cached.value.hash) {
      return { ok: true, access: snapshot.access };
    }
    credentials.delete(header);
  }
  const given = parseBasicAuth(header);
  if (!given || given.user.length > LIMITS.maxNameBytes * 4) return REFUSED;
  return verify(env, header, given.user, given.password);
}

async function verify(
  env: Env,
  header: string,
  user: string,
  password: string,
): Promise<LoginOutcome> {
  const registry = registryStub(env);
  const record = unwrap(await registry.loginRecord(user));
  if (record.blockedForMs > 0) return { ok: false, throttledForMs: record.blockedForMs };
  const snapshot = record.snapshot;
  if (!snapshot) await burnVerification(password);
  const verdict = snapshot
    ? await verifyPassword(password, snapshot.credential.hash, snapshot.credential.algorithm)
    : { ok: false, upgrade: false };
  if (!snapshot || !verdict.ok) {
    unwrap(await registry.loginFailed(user));
    return REFUSED;
  }
  let credential = snapshot.credential;
  if (verdict.upgrade) {
    credential = { hash: await hashPassword(password), algorithm: NATIVE_ALGORITHM };
  }
  if (verdict.upgrade || record.failures > 0) {
    unwrap(
      await registry.loginSucceeded(
        user,
        verdict.upgrade ? { expected: snapshot.credential.hash, ...credential } : null,
      ),
    );
  }
  const current = { access: snapshot.access, credential };
  remember(snapshots, user, current);
  // A verified header is trusted longer than the snapshot: it is accepted only while the user's
  // current hash (re-read from the registry every accessCacheMs) is the one it verified against,
  // so a password change or a deleted user still ends it within accessCacheMs, and a steady
  // client does not pay a 100,000-iteration PBKDF2 every few seconds (a latency spike).
  remember(credentials, header, { user, hash: credential.hash }, LIMITS.verifiedHeaderMs);
  return { ok: true, access: snapshot.access };
}
