/**
 * Who may use the notification app: the one place that decides it (docs/notifications.md).
 *
 * - Local development (LOCAL_DEV=true, set only by `npm start`): everyone, as in the article.
 * - The broker administrator (HTTP Basic, the same credentials as /api): everything.
 * - A signed per-user token (`Authorization: Bearer <token>`, or `?token=` on a WebSocket
 *   upgrade, since browsers cannot set headers there): reading, marking and subscribing to that
 *   user's own inbox, nothing else.
 *
 * Sending needs write permission on the `notifications` exchange; until users and permissions
 * exist (issue 4) that is the administrator. That work plugs broker users in here: a broker user
 * mapped to an inbox, and a permission check for "send", without touching the routes.
 */
import { BrokerError } from "../errors";
import { verifyInboxToken } from "../protocol/inbox-token";
import { authenticate, parseBasicAuth } from "./auth";
import type { AppContext } from "./context";

export type NotificationAccess =
  /** Read, mark and subscribe to one user's inbox. */
  | { readonly kind: "inbox"; readonly vhost: string; readonly userId: number | null }
  /** Publish notifications (the article's /send). */
  | { readonly kind: "send"; readonly vhost: string };

function bearerToken(c: AppContext): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "");
  if (match?.[1]) return match[1];
  const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
  return upgrade ? (c.req.query("token") ?? null) : null;
}

/** Throws 401 (no usable credentials) or 403 (credentials for something else) unless allowed. */
export async function checkNotificationAccess(
  c: AppContext,
  wanted: NotificationAccess,
): Promise<void> {
  const config = c.get("config");
  if (config.localDev) return;

  const basic = parseBasicAuth(c.req.header("Authorization"));
  if (basic) {
    // Browsers replay cached Basic credentials on cross-site form posts (and /send takes forms):
    // refuse what the browser itself marks cross-site (Fetch Metadata, Sec-Fetch-Site).
    if (c.req.header("Sec-Fetch-Site") === "cross-site") {
      throw new BrokerError("access_refused", "cross-site request refused");
    }
    const principal = await authenticate(config, basic.user, basic.password);
    if (principal?.tags.includes("administrator")) return;
    if (principal) throw new BrokerError("access_refused", "access refused");
    throw unauthorized(c, "login failed");
  }

  const token = bearerToken(c);
  if (token !== null) {
    const claims = config.notificationTokenSecret
      ? await verifyInboxToken(config.notificationTokenSecret, token, Date.now() / 1000)
      : null;
    if (!claims) throw unauthorized(c, "invalid or expired token");
    if (
      wanted.kind === "inbox" &&
      claims.vhost === wanted.vhost &&
      claims.userId === wanted.userId
    ) {
      return;
    }
    throw new BrokerError(
      "access_refused",
      wanted.kind === "send"
        ? "a user token cannot send notifications"
        : "this token is for another user's inbox",
    );
  }
  throw unauthorized(c, "login required: a user token or the broker administrator");
}

function unauthorized(c: AppContext, reason: string): BrokerError {
  c.header("WWW-Authenticate", 'Bearer realm="notifications", Basic realm="notifications"');
  return new BrokerError("not_authorized", reason);
}
