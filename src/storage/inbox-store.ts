/**
 * An inbox's tables and typed SQL helpers: notifications ordered by an AUTOINCREMENT sequence
 * (the cursor; never a timestamp), their seen/read/archived times, counts, pages and retention.
 * No network, no policy: the inbox object decides when to call what.
 */
import type {
  InboxCounts,
  InboxNotification,
  InboxState,
  NotificationContent,
  NotificationUser,
} from "../protocol/notification";
import { fromJsonColumn } from "./json-column";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const INBOX_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE notifications (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      created_at INTEGER NOT NULL,
      sender TEXT,
      message TEXT NOT NULL,
      data TEXT,
      truncated INTEGER NOT NULL DEFAULT 0,
      seen_at INTEGER,
      read_at INTEGER,
      archived_at INTEGER
    )`,
  ],
];

interface NotificationRow extends Record<string, SqlStorageValue> {
  seq: number;
  created_at: number;
  sender: string | null;
  message: string;
  data: string | null;
  truncated: number;
  seen_at: number | null;
  read_at: number | null;
  archived_at: number | null;
}

export type ArchivedFilter = "exclude" | "include" | "only";
export type StatusFilter = "all" | "unread" | "unseen";

export interface PageQuery {
  readonly before?: number | undefined;
  readonly after?: number | undefined;
  readonly limit: number;
  readonly archived: ArchivedFilter;
  readonly status: StatusFilter;
}

/** 5 bound parameters per row: 20 rows per INSERT stays within 100 parameters per statement. */
const INSERT_ROWS = 20;
const COLUMNS = "seq, created_at, sender, message, data, truncated, seen_at, read_at, archived_at";
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class InboxStore extends MetaStore {
  clear(): void {
    this.sql.run("DELETE FROM notifications");
    this.sql.run("DELETE FROM meta");
  }

  /** Inserts in order; answers the new rows, oldest first. */
  insert(contents: readonly NotificationContent[], now: number): number[] {
    const ids: number[] = [];
    for (let start = 0; start < contents.length; start += INSERT_ROWS) {
      const chunk = contents.slice(start, start + INSERT_ROWS);
      const values: (string | number | null)[] = [];
      for (const content of chunk) {
        values.push(
          now,
          content.from ? JSON.stringify(content.from) : null,
          content.message,
          content.data ? JSON.stringify(content.data) : null,
          content.truncated ? 1 : 0,
        );
      }
      const placeholders = Array(chunk.length).fill("(?, ?, ?, ?, ?)").join(", ");
      const rows = this.sql.all<{ seq: number }>(
        `INSERT INTO notifications (created_at, sender, message, data, truncated) VALUES ${placeholders} RETURNING seq`,
        ...values,
      );
      ids.push(...rows.map((row) => row.seq).sort((a, b) => a - b));
    }
    return ids;
  }

  counts(): InboxCounts {
    const row = this.sql.one<{ total: number; unread: number; unseen: number; archived: number }>(
      `SELECT
          COALESCE(SUM(archived_at IS NULL), 0) AS total,
          COALESCE(SUM(archived_at IS NULL AND read_at IS NULL), 0) AS unread,
          COALESCE(SUM(archived_at IS NULL AND seen_at IS NULL), 0) AS unseen,
          COALESCE(SUM(archived_at IS NOT NULL), 0) AS archived
        FROM notifications`,
    );
    return { total: row.total, unread: row.unread, unseen: row.unseen, archived: row.archived };
  }

  /** The newest id ever stored (ids are never reused), or 0. */
  latest(): number {
    const row = this.sql.one<{ latest: number | null }>(
      "SELECT MAX(seq) AS latest FROM notifications",
    );
    return Math.max(row.latest ?? 0, Number(this.getMeta("pruned_through") ?? 0));
  }

  /** Everything after a cursor, oldest first (the live socket's backlog; bounded by retention). */
  after(cursor: number, to: NotificationUser): InboxNotification[] {
    return this.sql
      .all<NotificationRow>(
        `SELECT ${COLUMNS} FROM notifications WHERE seq > ? ORDER BY seq`,
        cursor,
      )
      .map((row) => present(row, to));
  }

  byIds(ids: readonly number[], to: NotificationUser): InboxNotification[] {
    return this.sql
      .all<NotificationRow>(
        `SELECT ${COLUMNS} FROM notifications WHERE seq IN (SELECT value FROM json_each(?)) ORDER BY seq`,
        JSON.stringify(ids),
      )
      .map((row) => present(row, to));
  }

  /**
   * One page, newest first. `before` pages back in time; `after` takes the notifications just
   * after a cursor (the oldest `limit` of them), still answered newest first.
   */
  page(query: PageQuery, to: NotificationUser): { items: InboxNotification[]; hasMore: boolean } {
    const where: string[] = [];
    const binds: number[] = [];
    if (query.before !== undefined) {
      where.push("seq < ?");
      binds.push(query.before);
    }
    if (query.after !== undefined) {
      where.push("seq > ?");
      binds.push(query.after);
    }
    if (query.archived === "exclude") where.push("archived_at IS NULL");
    if (query.archived === "only") where.push("archived_at IS NOT NULL");
    if (query.status === "unread") where.push("read_at IS NULL");
    if (query.status === "unseen") where.push("seen_at IS NULL");
    const clause = where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
    // With only `after`, walk forward from the cursor; otherwise backward from the newest.
    const forward = query.after !== undefined && query.before === undefined;
    const rows = this.sql.all<NotificationRow>(
      `SELECT ${COLUMNS} FROM notifications ${clause} ORDER BY seq ${forward ? "ASC" : "DESC"} LIMIT ?`,
      ...binds,
      query.limit + 1,
    );
    const hasMore = rows.length > query.limit;
    const kept = rows.slice(0, query.limit);
    if (forward) kept.reverse();
    return { items: kept.map((row) => present(row, to)), hasMore };
  }

  /**
   * Moves notifications into a state; answers the ids that changed (a notification already in
   * the state is left alone, so repeating a mark changes nothing). Read implies seen.
   */
  mark(state: InboxState, ids: readonly number[] | "all", now: number): number[] {
    const set =
      state === "read"
        ? "read_at = ?1, seen_at = COALESCE(seen_at, ?1)"
        : state === "seen"
          ? "seen_at = ?1"
          : "archived_at = ?1";
    const pending =
      state === "read"
        ? "read_at IS NULL"
        : state === "seen"
          ? "seen_at IS NULL"
          : "archived_at IS NULL";
    // "all" means every notification still in the inbox (archiving hides, it does not delete).
    const scope =
      ids === "all"
        ? state === "archived"
          ? ""
          : "AND archived_at IS NULL"
        : "AND seq IN (SELECT value FROM json_each(?2))";
    return this.sql
      .all<{ seq: number }>(
        `UPDATE notifications SET ${set} WHERE ${pending} ${scope} RETURNING seq`,
        now,
        ...(ids === "all" ? [] : [JSON.stringify(ids)]),
      )
      .map((row) => row.seq)
      .sort((a, b) => a - b);
  }

  /**
   * Retention: keeps the newest `maxCount` notifications and none older than `maxAgeMs`.
   * Answers how many were deleted; remembers the newest deleted id so that a socket resuming
   * from before it learns that it missed something (`resync`).
   */
  prune(now: number, maxCount: number, maxAgeMs: number): number {
    const byCount = this.sql.first<{ seq: number }>(
      "SELECT seq FROM notifications ORDER BY seq DESC LIMIT 1 OFFSET ?",
      maxCount,
    )?.seq;
    const byAge = this.sql.one<{ seq: number | null }>(
      "SELECT MAX(seq) AS seq FROM notifications WHERE created_at < ?",
      now - maxAgeMs,
    ).seq;
    const through = Math.max(byCount ?? 0, byAge ?? 0);
    if (through === 0) return 0;
    const deleted = this.sql.run("DELETE FROM notifications WHERE seq <= ?", through);
    this.setMeta("pruned_through", String(Math.max(through, this.prunedThrough())));
    return deleted;
  }

  prunedThrough(): number {
    return Number(this.getMeta("pruned_through") ?? 0);
  }
}

function present(row: NotificationRow, to: NotificationUser): InboxNotification {
  const notification: InboxNotification = {
    id: row.seq,
    created_at: iso(row.created_at) as string,
    from: fromJsonColumn<NotificationUser | null>(row.sender, null),
    to,
    message: row.message,
    data: fromJsonColumn<Record<string, unknown> | null>(row.data, null),
    seen_at: iso(row.seen_at),
    read_at: iso(row.read_at),
    archived_at: iso(row.archived_at),
  };
  return row.truncated === 1 ? { ...notification, truncated: true } : notification;
}
