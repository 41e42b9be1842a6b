/**
 * The notification app's wire shapes (docs/notifications.md): users, the payload /send publishes
 * to the `notifications` exchange (the article's `Notification` JSON plus optional `data`), a
 * stored notification as the inbox API shows it, counts and cursors. Pure: no cloudflare:* imports.
 */
import { NOTIFICATION_LIMITS } from "../config";
import { nestsWithin } from "./field-table";
import { byteLength } from "./names";

/** A user of the notification app: the article's `User` (`{"id": 1, "name": "Emma"}`). */
export interface NotificationUser {
  readonly id: number;
  readonly name: string;
}

/** The article's `Notification`: what GET /notifications/:userID lists. */
export interface ArticleNotification {
  readonly from: NotificationUser | null;
  readonly to: NotificationUser;
  readonly message: string;
}

/** A notification as the inbox API and the live socket show it. */
export interface InboxNotification extends ArticleNotification {
  /** The inbox's sequence number: also the cursor of this notification. */
  readonly id: number;
  readonly created_at: string;
  readonly data: Record<string, unknown> | null;
  readonly seen_at: string | null;
  readonly read_at: string | null;
  readonly archived_at: string | null;
  /** Present (true) only when a payload published over the broker API exceeded the inbox limits. */
  readonly truncated?: true;
}

/** Counts over the notifications that are not archived, plus how many are archived. */
export interface InboxCounts {
  readonly total: number;
  readonly unread: number;
  readonly unseen: number;
  readonly archived: number;
}

/** The states a notification moves through; read implies seen. */
export const INBOX_STATES = ["seen", "read", "archived"] as const;
export type InboxState = (typeof INBOX_STATES)[number];

/** What an inbox stores from one published payload. */
export interface NotificationContent {
  readonly from: NotificationUser | null;
  readonly message: string;
  readonly data: Record<string, unknown> | null;
  readonly truncated: boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Go's strconv.Atoi, which the article's producer uses on `fromID` and `toID`: an optional sign
 * and decimal digits. Its error text is the article's 400 reason. Go's int is 64-bit; here the
 * range is JavaScript's safe integers.
 */
export function atoi(text: string): { ok: true; value: number } | { ok: false; error: string } {
  const quoted = JSON.stringify(text);
  if (!/^[+-]?\d+$/.test(text)) {
    return { ok: false, error: `strconv.Atoi: parsing ${quoted}: invalid syntax` };
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    return { ok: false, error: `strconv.Atoi: parsing ${quoted}: value out of range` };
  }
  return { ok: true, value: value === 0 ? 0 : value };
}

/** A user id: a non-negative safe integer. Its decimal form is the inbox's routing key. */
export function isUserId(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** A user id from a path segment: canonical decimal digits, or null. */
export function parseUserId(text: string | undefined): number | null {
  if (text === undefined || !/^(0|[1-9]\d*)$/.test(text)) return null;
  const value = Number(text);
  return isUserId(value) ? value : null;
}

/** Checks a user's display name; null when it is acceptable, else the reason. */
export function checkUserName(name: string): string | null {
  if (name.trim().length === 0) return "name must not be empty";
  if (byteLength(name) > 255) return "name is longer than 255 bytes";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: names are shown in pages and lists
  if (/[\u0000-\u001f\u007f]/.test(name)) return "name must not contain control characters";
  return null;
}

/**
 * A cursor is a notification id in decimal. Undefined when absent, null when malformed (the
 * caller answers 400), else the id.
 */
export function parseCursor(text: string | null | undefined): number | null | undefined {
  if (text === null || text === undefined) return undefined;
  if (!/^(0|[1-9]\d{0,15})$/.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** The payload /send publishes: the article's Notification JSON, plus `data` when given. */
export function encodeNotification(content: {
  from: NotificationUser;
  to?: NotificationUser;
  message: string;
  data?: Record<string, unknown> | undefined;
}): Uint8Array {
  const { from, to, message, data } = content;
  return encoder.encode(
    JSON.stringify(data === undefined ? { from, to, message } : { from, to, message, data }),
  );
}

/** Cuts text to at most `max` UTF-8 bytes without splitting a character. */
export function cutUtf8(text: string, max: number): string {
  if (text.length * 3 <= max || byteLength(text) <= max) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const size = byteLength(ch);
    if (bytes + size > max) break;
    bytes += size;
    end += ch.length;
  }
  return text.slice(0, end);
}

function asUser(value: unknown): NotificationUser | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const { id, name } = value as { id?: unknown; name?: unknown };
  if (typeof id !== "number" || !isUserId(id) || typeof name !== "string") return null;
  return { id, name: cutUtf8(name, 255) };
}

/** Whether `data` is acceptable on a notification: a plain object, small and shallow. */
export function checkData(data: unknown): string | null {
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    return "data must be a JSON object";
  }
  if (!nestsWithin(data, 8)) return "data nests deeper than 8 levels";
  if (byteLength(JSON.stringify(data)) > NOTIFICATION_LIMITS.maxDataBytes) {
    return `data is larger than ${NOTIFICATION_LIMITS.maxDataBytes} bytes`;
  }
  return null;
}

/**
 * What an inbox stores from a payload routed to it. /send's payloads are the article's JSON;
 * anything else published to the exchange over the broker API is accepted too: a JSON object's
 * `message` (and `from`, `data` when well formed), otherwise the payload as text. Whatever is
 * over the inbox's limits is cut and flagged `truncated`, so no publish can grow an inbox row
 * beyond them.
 */
export function decodeNotification(body: Uint8Array): NotificationContent {
  const text = decoder.decode(body);
  let parsed: unknown = null;
  if (text.startsWith("{")) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  let from: NotificationUser | null = null;
  let message = text;
  let data: Record<string, unknown> | null = null;
  let truncated = false;
  if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
    const fields = parsed as { from?: unknown; message?: unknown; data?: unknown };
    if (typeof fields.message === "string") {
      message = fields.message;
      from = asUser(fields.from);
      if (fields.data !== undefined && fields.data !== null) {
        if (checkData(fields.data) === null) data = fields.data as Record<string, unknown>;
        else truncated = true;
      }
    }
  }
  const cut = cutUtf8(message, NOTIFICATION_LIMITS.maxMessageBytes);
  if (cut.length !== message.length) truncated = true;
  return { from, message: cut, data, truncated };
}
