/**
 * Who may use the notification app: the one place that decides it (docs/notifications.md).
 *
 * - Local development (LOCAL_DEV=true, set only by `npm start`): everyone, as in the article.
 * - The broker administrator (HTTP Basic, the same credentials as /api): everything.
 * - A signed per-user token (`Authorization: Bearer <token>`, or `?token=` on a WebSocket
 *   upgrade, since browsers cannot set headers there): reading, marking and subscribing to that
 *   user's own inbox, nothing else.
 *
 * - A broker user (HTTP Basic, checked against the registry like /api): what the route's
 *   operation in the permission table needs (src/access/operations.ts): sending
 *   (notification.send) write on the vhost's `notifications` exchange, what a publish there
 *   needs; reading or marking any inbox (inbox.read, inbox.mark) the administrator tag.
 */

import { permitted } from "../access/operation-check";
import { NOTIFICATION_LIMITS } from "../config";
import { BrokerError } from "../errors";
import { verifyInboxToken } from "../protocol/inbox-token";
import { loginOrThrow } from "./auth";
import type { AppContext } from "./context";
import { currentOperation } from "./guards";

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

  const header = c.req.header("Authorization");
  if (header !== undefined && /^Basic\s/i.test(header)) {
    // Browsers replay cached Basic credentials on cross-site form posts (and /send takes forms):
    // refuse what the browser itself marks cross-site (Fetch Metadata, Sec-Fetch-Site).
    if (c.req.header("Sec-Fetch-Site") === "cross-site") {
      throw new BrokerError("access_refused", "cross-site request refused");
    }
    const access = await loginOrThrow(c, header, NOTIFICATION_CHALLENGE);
    const exchange = NOTIFICATION_LIMITS.exchange;
    if (permitted(access, currentOperation(c), { vhost: wanted.vhost, name: exchange })) return;
    throw new BrokerError(
      "access_refused",
      wanted.kind === "send"
        ? `write access to exchange '${exchange}' in vhost '${wanted.vhost}' refused for user '${access.name}'`
        : "only the user (with its token) or an administrator may read this inbox",
    );
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

const NOTIFICATION_CHALLENGE = 'Bearer realm="notifications", Basic realm="notifications"';

function unauthorized(c: AppContext, reason: string): BrokerError {
  c.header("WWW-Authenticate", NOTIFICATION_CHALLENGE);
  return new BrokerError("not_authorized", reason);
}
