/**
 * /api/notification-users: the notification app's users, kept in the broker (each has an inbox
 * object, bound to the `notifications` exchange by the user's id). Behind the management API's
 * Basic auth, like every /api route.
 *
 *   GET    /api/notification-users[/{vhost}]            list ({"id","name","vhost"}; pagination)
 *   POST   /api/notification-users/{vhost}              {"users": [{"id","name"}, ...]}: bulk
 *   GET    /api/notification-users/{vhost}/{id}         one user
 *   PUT    /api/notification-users/{vhost}/{id}         {"name"}: 201 created, 204 updated
 *   DELETE /api/notification-users/{vhost}/{id}         the user, its inbox and its bindings
 *   POST   /api/notification-users/{vhost}/{id}/token   {"expires_in"?}: a signed inbox token
 */
import type { Hono } from "hono";
import { z } from "zod";
import { NOTIFICATION_LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import { mintInboxToken } from "../protocol/inbox-token";
import {
  checkUserName,
  isUserId,
  type NotificationUser,
  parseUserId,
} from "../protocol/notification";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts } from "./guards";
import { listAnswer } from "./pagination";
import { vhostParam } from "./params";
import { resource } from "./routes";

const userBodySchema = z.object({ name: z.string() });
const bulkBodySchema = z.object({
  users: z
    .array(z.object({ id: z.number().int(), name: z.string() }))
    .min(1)
    .max(NOTIFICATION_LIMITS.maxRecipients),
});
const tokenBodySchema = z.object({
  expires_in: z
    .number()
    .int()
    .min(1)
    .max(NOTIFICATION_LIMITS.maxTokenSeconds)
    .default(NOTIFICATION_LIMITS.defaultTokenSeconds),
});

function idParam(c: AppContext): number {
  const id = parseUserId(c.req.param("id"));
  if (id === null) {
    throw new BrokerError("bad_request", "a notification user id is a non-negative integer");
  }
  return id;
}

const present = (vhost: string) => (user: NotificationUser) => ({ ...user, vhost });

async function usersOf(c: AppContext, vhost: string): Promise<Record<string, unknown>[]> {
  const { users } = unwrap(await vhostStub(c.env, vhost).listInboxes(vhost));
  return users.map(present(vhost));
}

export function notificationUserRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/notification-users", {
    GET: async (c) => {
      const all = await Promise.all(knownVhosts(c).map((vhost) => usersOf(c, vhost)));
      return c.json(listAnswer(c, all.flat()));
    },
  });

  resource(
    app,
    "/api/notification-users/:vhost",
    {
      GET: async (c) => c.json(listAnswer(c, await usersOf(c, vhostParam(c)))),
      // Bulk create or rename: {"users": [{"id", "name"}, ...]} (up to 1,000).
      POST: async (c) => {
        const vhost = vhostParam(c);
        authorize(c);
        const { users } = await parseBody(c, bulkBodySchema);
        const ids = new Set(users.map((user) => user.id));
        if (ids.size !== users.length) throw new BrokerError("bad_request", "duplicate user id");
        for (const [i, user] of users.entries()) {
          const problem = isUserId(user.id) ? checkUserName(user.name) : "id is not a user id";
          if (problem) throw new BrokerError("bad_request", `users.${i}: ${problem}`);
        }
        const { created } = unwrap(await vhostStub(c.env, vhost).declareInboxes(vhost, users));
        return c.json({ created });
      },
    },
    { POST: { summary: "Create notification users in bulk", body: bulkBodySchema } },
  );

  resource(
    app,
    "/api/notification-users/:vhost/:id",
    {
      GET: async (c) => {
        const vhost = vhostParam(c);
        const { user } = unwrap(await vhostStub(c.env, vhost).getInbox(vhost, idParam(c)));
        return c.json(present(vhost)(user));
      },
      PUT: async (c) => {
        const vhost = vhostParam(c);
        authorize(c);
        const id = idParam(c);
        const { name } = await parseBody(c, userBodySchema);
        const problem = checkUserName(name);
        if (problem) throw new BrokerError("bad_request", problem);
        const catalog = vhostStub(c.env, vhost);
        const { created } = unwrap(await catalog.declareInboxes(vhost, [{ id, name }]));
        return c.body(null, created.length > 0 ? 201 : 204);
      },
      DELETE: async (c) => {
        const vhost = vhostParam(c);
        authorize(c);
        unwrap(await vhostStub(c.env, vhost).deleteInbox(vhost, idParam(c)));
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Create or rename a notification user", body: userBodySchema } },
  );

  resource(
    app,
    "/api/notification-users/:vhost/:id/token",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        authorize(c);
        const id = idParam(c);
        const { expires_in } = await parseBody(c, tokenBodySchema);
        const secret = c.get("config").notificationTokenSecret;
        if (!secret) {
          throw new BrokerError(
            "service_unavailable",
            "no NOTIFICATION_TOKEN_SECRET is configured: set it with `wrangler secret put`",
          );
        }
        unwrap(await vhostStub(c.env, vhost).getInbox(vhost, id));
        const expiresAt = Math.floor(Date.now() / 1000) + expires_in;
        const token = await mintInboxToken(secret, { vhost, userId: id, expiresAt });
        return c.json({
          token,
          vhost,
          user_id: id,
          expires_at: new Date(expiresAt * 1000).toISOString(),
        });
      },
    },
    { POST: { summary: "A signed token for the user's inbox", body: tokenBodySchema } },
  );
}
