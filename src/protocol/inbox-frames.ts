/**
 * The live inbox socket's frames (GET /notifications/:userID/live), as data: one `as const` map
 * per direction, a zod schema for what clients send (a discriminated union on `type`, as the
 * queue sockets' frames in frames.ts), and builders for what the inbox sends. Every frame is a
 * JSON object with a `type`. docs/notifications.md describes the conversation. Unlike the queue
 * sockets, the inbox answers every malformed frame alike: `{"type":"error","reason"}`, no code.
 */
import { z } from "zod";
import { NOTIFICATION_LIMITS } from "../config";
import { PONG_TEXT } from "./keepalive";
import type { InboxCounts, InboxNotification, InboxState, NotificationUser } from "./notification";

/** Frames a client may send. */
export const CLIENT_FRAME = {
  ping: "ping",
  markRead: "mark_read",
  markSeen: "mark_seen",
  archive: "archive",
  markAllRead: "mark_all_read",
  markAllSeen: "mark_all_seen",
} as const;

/** Frames the inbox sends. */
export const SERVER_FRAME = {
  hello: "hello",
  notification: "notification",
  state: "state",
  pong: "pong",
  error: "error",
} as const;

/** Notification ids from a client: 1 to maxMarkIds positive safe integers. */
const idsSchema = z.array(z.number().int().min(1)).min(1).max(NOTIFICATION_LIMITS.maxMarkIds);

const clientFrames = z.discriminatedUnion("type", [
  z.object({ type: z.literal(CLIENT_FRAME.ping) }),
  z.object({
    type: z.enum([CLIENT_FRAME.markRead, CLIENT_FRAME.markSeen, CLIENT_FRAME.archive]),
    ids: idsSchema,
  }),
  z.object({ type: z.enum([CLIENT_FRAME.markAllRead, CLIENT_FRAME.markAllSeen]) }),
]);

export type ClientFrame = z.infer<typeof clientFrames>;

/** Largest client frame looked at; anything longer is malformed (ids are bounded anyway). */
const MAX_CLIENT_FRAME_CHARS = 64 * 1024;

/** Notification ids from a client (a frame's or an HTTP body's `ids`), or null. */
export function parseIds(value: unknown): number[] | null {
  const parsed = idsSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** A client frame, or null for anything malformed (binary, too long, not JSON, wrong shape). */
export function parseClientFrame(text: string | ArrayBuffer): ClientFrame | null {
  if (typeof text !== "string" || text.length > MAX_CLIENT_FRAME_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const parsed = clientFrames.safeParse(value);
  return parsed.success ? parsed.data : null;
}

/** A change of state on some notifications (`ids`) or on all of them (`ids: "all"`). */
export interface StateChange {
  readonly state: InboxState;
  readonly ids: number[] | "all";
  readonly at: string;
}

export const serverFrame = {
  hello(
    user: NotificationUser,
    counts: InboxCounts,
    cursor: string,
    resync: boolean,
    backlog: number,
  ): string {
    return JSON.stringify({ type: SERVER_FRAME.hello, user, counts, cursor, resync, backlog });
  },
  notification(notification: InboxNotification, counts: InboxCounts): string {
    return JSON.stringify({
      type: SERVER_FRAME.notification,
      cursor: String(notification.id),
      notification,
      counts,
    });
  },
  state(change: StateChange, counts: InboxCounts): string {
    return JSON.stringify({ type: SERVER_FRAME.state, ...change, counts });
  },
  pong(): string {
    return PONG_TEXT;
  },
  error(reason: string): string {
    return JSON.stringify({ type: SERVER_FRAME.error, reason });
  },
} as const;
