/**
 * WebSocket connection tickets. A browser cannot set an Authorization header on a WebSocket, and
 * a password must never travel in a URL, so a client first calls `POST /api/tickets` with Basic
 * credentials and gets a random, short-lived (LIMITS.ticketTtlMs), single-use ticket bound to its
 * user and one vhost; it then passes the ticket on the upgrade request, whose handler calls
 * `redeemTicket`.
 *
 * Only a SHA-256 digest of each ticket is stored (in the registry), so reading the registry's
 * storage does not yield usable tickets. Redeeming removes the ticket before anything else is
 * checked: a ticket presented for the wrong vhost is spent, not left for another try.
 */
import { hasVhostAccess, type UserAccess } from "../access/user-access";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { fail, type Result, unwrap } from "../errors";
import { currentAccess, vhostRecords } from "./access-cache";
import { registryStub } from "./stubs";

const TICKET_BYTES = 32;
const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** What the registry stores for a ticket: its SHA-256 digest, never the ticket. */
export async function digestOf(ticket: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(ticket));
  return base64url(new Uint8Array(digest));
}

export interface Ticket {
  readonly ticket: string;
  readonly vhost: string;
  readonly expiresAt: number;
}

/** Issues a ticket; the caller has already checked that the user may use the vhost. */
export async function issueTicket(env: Env, user: string, vhost: string): Promise<Result<Ticket>> {
  const ticket = base64url(crypto.getRandomValues(new Uint8Array(TICKET_BYTES)));
  const expiresAt = Date.now() + LIMITS.ticketTtlMs;
  const stored = await registryStub(env).issueTicket(
    await digestOf(ticket),
    user,
    vhost,
    expiresAt,
  );
  if (!stored.ok) return stored;
  return { ok: true, ticket, vhost, expiresAt };
}

export type RedeemResult = Result<{
  readonly access: UserAccess;
  readonly vhost: string;
  /** The vhost's max-connections limit (null: none); the WebSocket layer counts connections. */
  readonly maxConnections: number | null;
}>;

/**
 * Redeems a ticket presented on a WebSocket upgrade to `vhost`. Refusals: unknown, reused or
 * expired ticket (401 not_authorized); a ticket for another vhost, or a user who lost access to
 * the vhost since (403 access_refused). After the upgrade, the connection should re-check
 * `currentAccess(env, access.name)` per frame so that a deleted user's socket stops working
 * within LIMITS.accessCacheMs.
 */
export async function redeemTicket(env: Env, ticket: string, vhost: string): Promise<RedeemResult> {
  if (!TICKET_SHAPE.test(ticket)) return fail("not_authorized", "invalid connection ticket");
  const { ticket: row } = unwrap(await registryStub(env).takeTicket(await digestOf(ticket)));
  if (!row) return fail("not_authorized", "unknown or already used connection ticket");
  if (row.expires <= Date.now()) return fail("not_authorized", "connection ticket expired");
  if (row.vhost !== vhost) {
    return fail("access_refused", "connection ticket was issued for another vhost");
  }
  const access = await currentAccess(env, row.user);
  if (!access) return fail("not_authorized", "unknown or already used connection ticket");
  if (!hasVhostAccess(access, vhost)) {
    return fail("access_refused", `access to vhost '${vhost}' refused for user '${access.name}'`);
  }
  const limit = (await vhostRecords(env)).find((v) => v.name === vhost)?.limits["max-connections"];
  return {
    ok: true,
    access,
    vhost,
    maxConnections: limit === undefined || limit < 0 ? null : limit,
  };
}
