/**
 * Password hashing. Passwords set on this broker are stored as PBKDF2-HMAC-SHA-256 (WebCrypto)
 * with a random 16-byte salt, in a versioned PHC-style string:
 *
 *   $pbkdf2-sha256$v=1,i=100000$<salt, base64>$<derived key, base64>
 *
 * 100,000 iterations is the most the Workers runtime allows (workerd refuses more in production:
 * https://github.com/cloudflare/workerd/issues/1346; local workerd does not enforce the cap, so
 * the constant below must never grow past it). The iteration count is part of the string, so a
 * later version can raise it and old hashes keep verifying and get upgraded on login.
 *
 * RabbitMQ's `rabbit_password_hashing_sha256` hashes (base64 of a 4-byte salt followed by
 * SHA-256(salt ++ password), https://www.rabbitmq.com/docs/passwords) are accepted on import and
 * replaced by a PBKDF2 hash at the next successful login. Digests compare in constant time.
 */
import { type Failure, fail } from "../errors";

export const NATIVE_ALGORITHM = "workers_broker_pbkdf2_sha256";
export const RABBIT_SHA256 = "rabbit_password_hashing_sha256";
export const HASHING_ALGORITHMS = [NATIVE_ALGORITHM, RABBIT_SHA256] as const;
export type HashingAlgorithm = (typeof HASHING_ALGORITHMS)[number];

/** The Workers runtime's ceiling for PBKDF2 iterations (see above). */
export const PBKDF2_ITERATIONS = 100_000;
const PBKDF2_PREFIX = "$pbkdf2-sha256$v=1,i=";
const SALT_BYTES = 16;
const KEY_BITS = 256;
const RABBIT_SALT_BYTES = 4;
const SHA256_BYTES = 32;

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    KEY_BITS,
  );
  return new Uint8Array(bits);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // Lengths are fixed by the format (32 bytes), so comparing them leaks nothing secret.
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}

interface ParsedPbkdf2 {
  readonly iterations: number;
  readonly salt: Uint8Array;
  readonly key: Uint8Array;
}

function parsePbkdf2(hash: string): ParsedPbkdf2 | null {
  if (!hash.startsWith(PBKDF2_PREFIX)) return null;
  const [iterationsText, saltText, keyText, ...rest] = hash.slice(PBKDF2_PREFIX.length).split("$");
  if (rest.length > 0 || !iterationsText || !/^[1-9][0-9]{0,6}$/.test(iterationsText)) return null;
  const iterations = Number(iterationsText);
  // A crafted import must not make every login burn more CPU than the runtime allows.
  if (iterations > PBKDF2_ITERATIONS) return null;
  const salt = fromBase64(saltText ?? "");
  const key = fromBase64(keyText ?? "");
  if (!salt || salt.byteLength < 8 || !key || key.byteLength !== KEY_BITS / 8) return null;
  return { iterations, salt, key };
}

function parseRabbitSha256(hash: string): { salt: Uint8Array; digest: Uint8Array } | null {
  const bytes = fromBase64(hash);
  if (!bytes || bytes.byteLength !== RABBIT_SALT_BYTES + SHA256_BYTES) return null;
  return { salt: bytes.subarray(0, RABBIT_SALT_BYTES), digest: bytes.subarray(RABBIT_SALT_BYTES) };
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const key = await pbkdf2(password, salt, PBKDF2_ITERATIONS);
  return `${PBKDF2_PREFIX}${PBKDF2_ITERATIONS}$${toBase64(salt)}$${toBase64(key)}`;
}

/**
 * Checks a stored hash's shape before it is stored (PUT /api/users, definitions import). The
 * empty hash is allowed: as in RabbitMQ, such a user cannot log in with a password.
 */
export function checkPasswordHash(hash: string, algorithm: string): Failure | null {
  if (hash === "") return null;
  if (algorithm === NATIVE_ALGORITHM) {
    return parsePbkdf2(hash)
      ? null
      : fail("bad_request", `password_hash is not a valid ${NATIVE_ALGORITHM} hash`);
  }
  if (algorithm === RABBIT_SHA256) {
    return parseRabbitSha256(hash)
      ? null
      : fail("bad_request", `password_hash is not a valid ${RABBIT_SHA256} hash`);
  }
  return fail(
    "bad_request",
    `unsupported hashing_algorithm '${algorithm}'; use one of ${HASHING_ALGORITHMS.join(", ")}`,
  );
}

export interface Verification {
  readonly ok: boolean;
  /** True when the hash is correct but weaker than today's: store `hashPassword()` instead. */
  readonly upgrade: boolean;
}

export async function verifyPassword(
  password: string,
  hash: string,
  algorithm: string,
): Promise<Verification> {
  if (algorithm === NATIVE_ALGORITHM) {
    const parsed = parsePbkdf2(hash);
    if (!parsed) return { ok: false, upgrade: false };
    const key = await pbkdf2(password, parsed.salt, parsed.iterations);
    const ok = sameBytes(key, parsed.key);
    return { ok, upgrade: ok && parsed.iterations < PBKDF2_ITERATIONS };
  }
  if (algorithm === RABBIT_SHA256) {
    const parsed = parseRabbitSha256(hash);
    if (!parsed) return { ok: false, upgrade: false };
    const input = new Uint8Array(RABBIT_SALT_BYTES + encoder.encode(password).byteLength);
    input.set(parsed.salt);
    input.set(encoder.encode(password), RABBIT_SALT_BYTES);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
    const ok = sameBytes(digest, parsed.digest);
    return { ok, upgrade: ok };
  }
  return { ok: false, upgrade: false };
}

/**
 * The work of one PBKDF2 verification, done when the user does not exist, so that a login
 * attempt takes as long for an unknown name as for a wrong password (no user enumeration).
 */
const DUMMY_SALT = new Uint8Array(SALT_BYTES);
export async function burnVerification(password: string): Promise<void> {
  await pbkdf2(password, DUMMY_SALT, PBKDF2_ITERATIONS);
}

/** A RabbitMQ-format hash, for tests and for tools that want one. */
export async function rabbitSha256Hash(password: string, salt: Uint8Array): Promise<string> {
  const input = new Uint8Array([...salt, ...encoder.encode(password)]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  return toBase64(new Uint8Array([...salt, ...digest]));
}
