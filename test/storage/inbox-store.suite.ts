/** An inbox's notifications in SQLite (src/storage/inbox-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { NotificationContent, NotificationUser } from "../../src/protocol/notification";
import { InboxStore, type PageQuery } from "../../src/storage/inbox-store";
import { inObject } from "./support";

const me: NotificationUser = { id: 1, name: "Ann" };
const from: NotificationUser = { id: 2, name: "Bo" };
const DAY = 86_400_000;

const note = (message: string, extra: Partial<NotificationContent> = {}): NotificationContent => ({
  from: null,
  data: null,
  truncated: false,
  message,
  ...extra,
});
const notes = (...list: string[]) => list.map((message) => note(message));

function inInbox<T>(name: string, body: (store: InboxStore) => T): Promise<T> {
  return inObject(env.INBOXES, `inbox:${name}`, (sql) => body(new InboxStore(sql)));
}

const page = (query: Partial<PageQuery> = {}): PageQuery => ({
  limit: 10,
  archived: "exclude",
  status: "all",
  ...query,
});

const messages = (store: InboxStore, query: Partial<PageQuery> = {}) =>
  store.page(page(query), me).items.map((n) => n.message);

describe("an inbox store", () => {
  it("numbers notifications in arrival order across many inserts, ids never reused", async () => {
    await inInbox("order", (store) => {
      const first = store.insert(
        Array.from({ length: 45 }, (_, i) => note(`m${i}`, { from })),
        1000,
      );
      expect(first).toEqual(Array.from({ length: 45 }, (_, i) => i + 1));
      store.prune(1000, 0, DAY);
      expect(store.insert(notes("after"), 2000)).toEqual([46]);
      expect(store.latest()).toBe(46);
    });
  });

  it("presents each notification with its sender, data, recipient and ISO times", async () => {
    await inInbox("present", (store) => {
      const [id] = store.insert(
        [note("hi", { from, data: { order: 7 }, truncated: true })],
        Date.UTC(2026, 0, 2),
      );
      const [shown] = store.byIds([id as number], me);
      expect(shown).toEqual({
        id,
        created_at: "2026-01-02T00:00:00.000Z",
        from,
        to: me,
        message: "hi",
        data: { order: 7 },
        seen_at: null,
        read_at: null,
        archived_at: null,
        truncated: true,
      });
      const [anonymous] = store.byIds(store.insert(notes("system"), 1), me);
      expect(anonymous).toMatchObject({ from: null, data: null });
      expect(anonymous).not.toHaveProperty("truncated");
    });
  });

  it("counts total, unread, unseen and archived, archived ones apart", async () => {
    await inInbox("counts", (store) => {
      expect(store.counts()).toEqual({ total: 0, unread: 0, unseen: 0, archived: 0 });
      const [a, b, c] = store.insert(notes("a", "b", "c"), 1) as [number, number, number];
      store.mark("seen", [a], 2);
      store.mark("read", [b], 2);
      store.mark("archived", [c], 2);
      // Read implies seen: of the two left in the inbox, one is unread and none unseen.
      expect(store.counts()).toEqual({ total: 2, unread: 1, unseen: 0, archived: 1 });
    });
  });

  it("marks read as seen too, and answers only the ids that changed", async () => {
    await inInbox("mark", (store) => {
      const ids = store.insert(notes("a", "b"), 1);
      expect(store.mark("read", ids, 5)).toEqual(ids);
      expect(store.mark("read", ids, 6)).toEqual([]);
      expect(store.mark("seen", ids, 7)).toEqual([]);
      const [shown] = store.byIds([ids[0] as number], me);
      expect(shown).toMatchObject({
        read_at: new Date(5).toISOString(),
        seen_at: new Date(5).toISOString(),
      });
    });
  });

  it("marks all of the inbox, leaving archived notifications out of read and seen", async () => {
    await inInbox("mark-all", (store) => {
      const [kept, archived] = store.insert(notes("kept", "archived"), 1) as [number, number];
      store.mark("archived", [archived], 2);
      expect(store.mark("read", "all", 3)).toEqual([kept]);
      expect(store.mark("archived", "all", 4)).toEqual([kept]);
    });
  });

  it("pages newest first, back with before and forward with after", async () => {
    await inInbox("pages", (store) => {
      store.insert(
        Array.from({ length: 7 }, (_, i) => note(`m${i + 1}`)),
        1,
      );
      const first = store.page(page({ limit: 3 }), me);
      expect(first.items.map((n) => n.message)).toEqual(["m7", "m6", "m5"]);
      expect(first.hasMore).toBe(true);
      expect(messages(store, { limit: 3, before: 5 })).toEqual(["m4", "m3", "m2"]);
      const last = store.page(page({ limit: 3, before: 2 }), me);
      expect(last.items.map((n) => n.message)).toEqual(["m1"]);
      expect(last.hasMore).toBe(false);
      // after: the oldest `limit` just after the cursor, still newest first.
      expect(messages(store, { limit: 2, after: 2 })).toEqual(["m4", "m3"]);
      expect(messages(store, { after: 3, before: 6 })).toEqual(["m5", "m4"]);
    });
  });

  it("filters pages by archived and by status", async () => {
    await inInbox("filters", (store) => {
      const [a, b, c] = store.insert(notes("a", "b", "c"), 1) as [number, number, number];
      store.mark("archived", [a], 2);
      store.mark("read", [b], 2);
      expect(messages(store)).toEqual(["c", "b"]);
      expect(messages(store, { archived: "only" })).toEqual(["a"]);
      expect(messages(store, { archived: "include" })).toEqual(["c", "b", "a"]);
      expect(messages(store, { status: "unread" })).toEqual(["c"]);
      store.mark("seen", [c], 3);
      expect(messages(store, { status: "unseen", archived: "include" })).toEqual(["a"]);
    });
  });

  it("answers everything after a cursor, oldest first", async () => {
    await inInbox("after", (store) => {
      store.insert(notes("a", "b", "c"), 1);
      expect(store.after(1, me).map((n) => n.message)).toEqual(["b", "c"]);
      expect(store.after(3, me)).toEqual([]);
    });
  });

  it("prunes beyond the newest maxCount and older than maxAge, and remembers how far", async () => {
    await inInbox("prune", (store) => {
      store.insert(notes("old-1", "old-2"), 0);
      store.insert(notes("n3", "n4", "n5", "n6"), 10 * DAY);
      expect(store.prune(10 * DAY, 100, 5 * DAY)).toBe(2);
      expect(store.prunedThrough()).toBe(2);
      expect(store.prune(10 * DAY, 3, 5 * DAY)).toBe(1);
      expect(store.prunedThrough()).toBe(3);
      expect(messages(store)).toEqual(["n6", "n5", "n4"]);
      expect(store.prune(10 * DAY, 3, 5 * DAY)).toBe(0);
      expect(store.prunedThrough()).toBe(3);
    });
  });

  it("keeps the latest id across a retention that deletes everything", async () => {
    await inInbox("latest", (store) => {
      expect(store.latest()).toBe(0);
      store.insert(notes("only"), 0);
      store.prune(10 * DAY, 100, DAY);
      expect(messages(store)).toEqual([]);
      expect(store.latest()).toBe(1);
    });
  });

  it("clears notifications and meta", async () => {
    await inInbox("clear", (store) => {
      store.insert(notes("x"), 0);
      store.setMeta("user", "{}");
      store.clear();
      expect(store.counts().total).toBe(0);
      expect(store.getMeta("user")).toBeUndefined();
    });
  });
});
