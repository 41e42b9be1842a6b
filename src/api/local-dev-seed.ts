/**
 * Local development starts with the article's four users (Emma, Bruno, Rick, Lena), so its curl
 * commands work against a fresh `npm start`. Only when LOCAL_DEV=true (never in a deploy); once
 * per isolate; idempotent (an existing user, even renamed, is left alone).
 */
import { createMiddleware } from "hono/factory";
import { unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import { DEFAULT_VHOST } from "../protocol/names";
import type { NotificationUser } from "../protocol/notification";
import type { AppEnv } from "./context";

/** The article's users (cmd/producer/producer.go). */
export const ARTICLE_USERS: readonly NotificationUser[] = [
  { id: 1, name: "Emma" },
  { id: 2, name: "Bruno" },
  { id: 3, name: "Rick" },
  { id: 4, name: "Lena" },
];

let seeded: Promise<void> | null = null;

export const seedLocalDevUsers = createMiddleware<AppEnv>(async (c, next) => {
  if (c.get("config").localDev) {
    seeded ??= (async () => {
      const catalog = vhostStub(c.env, DEFAULT_VHOST);
      unwrap(await catalog.declareInboxes(DEFAULT_VHOST, ARTICLE_USERS, { onlyIfAbsent: true }));
    })().catch((error: unknown) => {
      seeded = null; // try again on the next request
      throw error;
    });
    await seeded;
  }
  await next();
});
