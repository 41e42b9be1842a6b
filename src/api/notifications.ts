/**
 * GET /notifications/:userID: the article's consumer endpoint (cmd/consumer/consumer.go) on the
 * broker, reading the user's inbox object. As in the article, a user with nothing stored (or an
 * id no user has) answers `200 {"message": "No notifications found for user", "notifications": []}`;
 * otherwise `200 {"notifications": [{"from", "to", "message"}, ...]}`, oldest first. Archived
 * notifications are left out; the richer inbox API is in inbox.ts.
 */
import type { Hono } from "hono";
import { BrokerError } from "../errors";
import { inboxStub } from "../gateway/stubs";
import { DEFAULT_VHOST } from "../protocol/names";
import { parseUserId } from "../protocol/notification";
import type { AppEnv } from "./context";
import { checkNotificationAccess } from "./notification-access";
import { resource } from "./routes";
import { sendRoutes } from "./send";

export function notificationRoutes(app: Hono<AppEnv>): void {
  sendRoutes(app);
  resource(app, "/notifications/:userID", {
    GET: async (c) => {
      const userId = parseUserId(c.req.param("userID"));
      await checkNotificationAccess(c, { kind: "inbox", vhost: DEFAULT_VHOST, userId });
      const answer =
        userId === null
          ? null
          : await inboxStub(c.env, DEFAULT_VHOST, String(userId)).articleList();
      if (answer && !answer.ok && answer.code !== "not_found") throw BrokerError.from(answer);
      const notifications = answer?.ok ? answer.notifications : [];
      if (notifications.length === 0) {
        return c.json({ message: "No notifications found for user", notifications: [] });
      }
      return c.json({ notifications });
    },
  });
}
