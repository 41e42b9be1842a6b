/**
 * The inbox API beyond the article (docs/notifications.md), all on one user's inbox object:
 *
 *   GET  /notifications/:userID/inbox   a page, newest first: ?limit, ?before / ?after (cursors),
 *                                       ?archived=exclude|include|only, ?status=all|unread|unseen
 *   GET  /notifications/:userID/counts  {"total","unread","unseen","archived"}
 *   POST /notifications/:userID/mark    {"state": "seen"|"read"|"archived", "ids": [...]} or
 *                                       {"state": ..., "all": true}
 *   GET  /notifications/:userID/live    the live WebSocket (?after=<cursor> resumes)
 */
import type { Hono } from "hono";
import { z } from "zod";
import { NOTIFICATION_LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { inboxFetcher, inboxStub } from "../gateway/stubs";
import { parseIds } from "../protocol/inbox-frames";
import { DEFAULT_VHOST } from "../protocol/names";
import { INBOX_STATES, parseCursor, parseUserId } from "../protocol/notification";
import type { ArchivedFilter, StatusFilter } from "../storage/inbox-store";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { checkNotificationAccess } from "./notification-access";
import { resource } from "./routes";

const markBodySchema = z.union([
  z.strictObject({ state: z.enum(INBOX_STATES), ids: z.array(z.unknown()) }),
  z.strictObject({ state: z.enum(INBOX_STATES), all: z.literal(true) }),
]);

/** The user id of the path, once the caller may use that inbox; unknown users answer 404. */
async function inboxUser(c: AppContext): Promise<string> {
  const userId = parseUserId(c.req.param("userID"));
  await checkNotificationAccess(c, { kind: "inbox", vhost: DEFAULT_VHOST, userId });
  if (userId === null) throw new BrokerError("not_found", "User not found");
  return String(userId);
}

function cursorQuery(c: AppContext, name: string): number | undefined {
  const cursor = parseCursor(c.req.query(name));
  if (cursor === null) {
    throw new BrokerError(
      "bad_request",
      `malformed cursor in '${name}': expected a notification id`,
    );
  }
  return cursor;
}

function choice<T extends string>(
  c: AppContext,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = c.req.query(name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new BrokerError("bad_request", `${name} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function limitQuery(c: AppContext): number {
  const text = c.req.query("limit");
  if (text === undefined) return NOTIFICATION_LIMITS.defaultPageLimit;
  const limit = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= NOTIFICATION_LIMITS.maxPageLimit)) {
    throw new BrokerError(
      "bad_request",
      `limit must be an integer from 1 to ${NOTIFICATION_LIMITS.maxPageLimit}`,
    );
  }
  return limit;
}

export function inboxRoutes(app: Hono<AppEnv>): void {
  resource(app, "/notifications/:userID/inbox", {
    GET: async (c) => {
      const user = await inboxUser(c);
      const query = {
        before: cursorQuery(c, "before"),
        after: cursorQuery(c, "after"),
        limit: limitQuery(c),
        archived: choice<ArchivedFilter>(c, "archived", ["exclude", "include", "only"], "exclude"),
        status: choice<StatusFilter>(c, "status", ["all", "unread", "unseen"], "all"),
      };
      const page = unwrap(await inboxStub(c.env, DEFAULT_VHOST, user).list(query));
      const first = page.notifications[0];
      const last = page.notifications[page.notifications.length - 1];
      return c.json({
        notifications: page.notifications,
        counts: page.counts,
        has_more: page.hasMore,
        cursors: {
          after: first ? String(first.id) : null,
          before: last ? String(last.id) : null,
        },
      });
    },
  });

  resource(app, "/notifications/:userID/counts", {
    GET: async (c) => {
      const user = await inboxUser(c);
      return c.json(unwrap(await inboxStub(c.env, DEFAULT_VHOST, user).counts()).counts);
    },
  });

  resource(
    app,
    "/notifications/:userID/mark",
    {
      POST: async (c) => {
        const user = await inboxUser(c);
        const body = await parseBody(c, markBodySchema);
        let ids: number[] | "all" = "all";
        if ("ids" in body) {
          const parsed = parseIds(body.ids);
          if (!parsed) {
            throw new BrokerError(
              "bad_request",
              `ids must be 1 to ${NOTIFICATION_LIMITS.maxMarkIds} notification ids`,
            );
          }
          ids = parsed;
        }
        const result = unwrap(await inboxStub(c.env, DEFAULT_VHOST, user).mark(body.state, ids));
        return c.json({ changed: result.changed, counts: result.counts });
      },
    },
    { POST: { summary: "Mark notifications seen, read or archived", body: markBodySchema } },
  );

  resource(
    app,
    "/notifications/:userID/live",
    {
      GET: async (c) => {
        const user = await inboxUser(c);
        cursorQuery(c, "after");
        if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
          c.header("Upgrade", "websocket");
          throw new BrokerError("upgrade_required", "expected a WebSocket upgrade");
        }
        // The inbox object terminates the socket itself, so it can hibernate with it open.
        return inboxFetcher(c.env, DEFAULT_VHOST, user).fetch(c.req.raw);
      },
    },
    { GET: { summary: "The inbox's live WebSocket", websocket: true } },
  );
}
