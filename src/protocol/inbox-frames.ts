/**
 * The live inbox socket's frames (GET /notifications/:userID/live), as data: one `as const` map
 * per direction, one parser for what clients send (a discriminated union, or null for anything
 * malformed), and builders for what the inbox sends. Every frame is a JSON object with a `type`.
 * docs/notifications.md describes the conversation.
 */
import { NOTIFICATION_LIMITS } from "../config";
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

/**
 * The exact ping text the inbox answers without waking (ctx.setWebSocketAutoResponse); a ping
 * spelled any other way still gets a pong, from the parser below.
 */
export const PING_TEXT = '{"type":"ping"}';
export const PONG_TEXT = '{"type":"pong"}';

export type ClientFrame =
  | { readonly type: typeof CLIENT_FRAME.ping }
  | {
      readonly type:
        | typeof CLIENT_FRAME.markRead
        | typeof CLIENT_FRAME.markSeen
        | typeof CLIENT_FRAME.archive;
      readonly ids: number[];
    }
  | { readonly type: typeof CLIENT_FRAME.markAllRead | typeof CLIENT_FRAME.markAllSeen };

const CLIENT_TYPES = new Set<string>(Object.values(CLIENT_FRAME));

/** Largest client frame looked at; anything longer is malformed (ids are bounded anyway). */
const MAX_CLIENT_FRAME_CHARS = 64 * 1024;

/** Notification ids from a client: 1 to maxMarkIds positive safe integers, or null. */
export function parseIds(value: unknown): number[] | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  if (value.length > NOTIFICATION_LIMITS.maxMarkIds) return null;
  for (const id of value) {
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) return null;
  }
  return value as number[];
}

export function parseClientFrame(text: string | ArrayBuffer): ClientFrame | null {
  if (typeof text !== "string" || text.length > MAX_CLIENT_FRAME_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const frame = value as { type?: unknown; ids?: unknown };
  if (typeof frame.type !== "string" || !CLIENT_TYPES.has(frame.type)) return null;
  const type = frame.type as (typeof CLIENT_FRAME)[keyof typeof CLIENT_FRAME];
  switch (type) {
    case CLIENT_FRAME.ping:
    case CLIENT_FRAME.markAllRead:
    case CLIENT_FRAME.markAllSeen:
      return { type };
    case CLIENT_FRAME.markRead:
    case CLIENT_FRAME.markSeen:
    case CLIENT_FRAME.archive: {
      const ids = parseIds(frame.ids);
      return ids ? { type, ids } : null;
    }
    default: {
      const unreachable: never = type;
      return unreachable;
    }
  }
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
