/**
 * Signed per-user inbox tokens: what an application hands its signed-in user so that the user's
 * browser may read and subscribe to that one inbox, and nothing else. The format is
 * `base64url(JSON {"v": vhost, "u": userId, "exp": unix seconds}) "." base64url(HMAC-SHA-256)`,
 * keyed by NOTIFICATION_TOKEN_SECRET (RFC 2104 HMAC via WebCrypto; the signature is checked with
 * crypto.subtle.verify, which compares in constant time).
 */

export interface InboxTokenClaims {
  readonly vhost: string;
  readonly userId: number;
  /** Expiry, in seconds since the epoch. */
  readonly expiresAt: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

async function key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

export async function mintInboxToken(secret: string, claims: InboxTokenClaims): Promise<string> {
  const payload = encoder.encode(
    JSON.stringify({ v: claims.vhost, u: claims.userId, exp: claims.expiresAt }),
  );
  const signature = await crypto.subtle.sign("HMAC", await key(secret), payload);
  return `${toBase64Url(payload)}.${toBase64Url(new Uint8Array(signature))}`;
}

/** The token's claims when its signature is good and it has not expired; else null. */
export async function verifyInboxToken(
  secret: string,
  token: string,
  nowSeconds: number,
): Promise<InboxTokenClaims | null> {
  if (token.length > 4096) return null;
  const [payloadText, signatureText, extra] = token.split(".");
  if (payloadText === undefined || signatureText === undefined || extra !== undefined) return null;
  const payload = fromBase64Url(payloadText);
  const signature = fromBase64Url(signatureText);
  if (!payload || !signature) return null;
  const good = await crypto.subtle.verify("HMAC", await key(secret), signature, payload);
  if (!good) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(decoder.decode(payload));
  } catch {
    return null;
  }
  const { v, u, exp } = (claims ?? {}) as { v?: unknown; u?: unknown; exp?: unknown };
  if (typeof v !== "string" || typeof u !== "number" || typeof exp !== "number") return null;
  if (!Number.isSafeInteger(u) || exp <= nowSeconds) return null;
  return { vhost: v, userId: u, expiresAt: exp };
}
