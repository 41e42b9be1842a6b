/**
 * HTTP Basic authentication on every /api route (RabbitMQ's management API answers
 * `401 {"error":"not_authorized","reason":"Login failed"}`). For now the one user is the
 * bootstrap administrator from configuration; users, vhosts and permissions replace
 * `authenticate` and fill in `authorizeVhost` without touching the routes.
 *
 * Credentials compare in constant time: both sides are hashed to fixed-length digests and
 * compared with crypto.subtle.timingSafeEqual, so neither the length nor the first differing
 * byte of the configured password leaks through response timing.
 */
import { createMiddleware } from "hono/factory";
import type { BrokerConfig } from "../config";
import { BrokerError } from "../errors";
import type { AppEnv } from "./context";

export interface Principal {
  readonly name: string;
  readonly tags: readonly string[];
}

const encoder = new TextEncoder();

async function digest(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}

async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return crypto.subtle.timingSafeEqual(a, b);
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

export async function authenticate(
  config: BrokerConfig,
  user: string,
  password: string,
): Promise<Principal | null> {
  if (config.adminPassword === undefined) {
    // No administrator configured: nobody logs in (a deploy must never be an open broker).
    return null;
  }
  const [userOk, passwordOk] = await Promise.all([
    sameSecret(user, config.adminUser),
    sameSecret(password, config.adminPassword),
  ]);
  return userOk && passwordOk ? { name: config.adminUser, tags: ["administrator"] } : null;
}

/**
 * Recently verified Authorization headers, per isolate, so a busy producer does not pay for the
 * credential check on every request (RabbitMQ's rabbitmq_auth_backend_cache does the same).
 * Only successes are cached, for a short time, and keyed by the configuration they were checked
 * against, so a changed password takes effect at once.
 */
const LOGIN_CACHE_MS = 10_000;
const LOGIN_CACHE_SIZE = 1000;
const verified = new Map<string, { principal: Principal; until: number }>();

async function login(config: BrokerConfig, header: string | undefined): Promise<Principal | null> {
  if (header === undefined) return null;
  const key = `${config.adminUser}\u0000${config.adminPassword ?? ""}\u0000${header}`;
  const now = Date.now();
  const hit = verified.get(key);
  if (hit && hit.until > now) return hit.principal;
  const credentials = parseBasicAuth(header);
  const principal = credentials
    ? await authenticate(config, credentials.user, credentials.password)
    : null;
  if (principal) {
    if (verified.size >= LOGIN_CACHE_SIZE) verified.clear();
    verified.set(key, { principal, until: now + LOGIN_CACHE_MS });
  }
  return principal;
}

export const requireLogin = createMiddleware<AppEnv>(async (c, next) => {
  const principal = await login(c.get("config"), c.req.header("Authorization"));
  if (!principal) {
    c.header("WWW-Authenticate", 'Basic realm="RabbitMQ Management"');
    throw new BrokerError("not_authorized", "Login failed");
  }
  c.set("principal", principal);
  await next();
});

/**
 * Whether the principal may use the vhost at all. The bootstrap administrator may use every
 * vhost; per-user permissions plug in here.
 */
export function authorizeVhost(principal: Principal, _vhost: string): void {
  if (!principal.tags.includes("administrator")) {
    throw new BrokerError("access_refused", "Access refused.");
  }
}
