import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json } from "../support/api";
import { createUsers, notify } from "../support/notifications";

interface Page {
  notifications: {
    id: number;
    message: string;
    seen_at: string | null;
    read_at: string | null;
    archived_at: string | null;
    from: { id: number; name: string } | null;
    to: { id: number; name: string };
  }[];
  counts: { total: number; unread: number; unseen: number; archived: number };
  has_more: boolean;
  cursors: { after: string | null; before: string | null };
}

const page = async (userId: number, query = ""): Promise<Page> => {
  const response = await call("GET", `/notifications/${userId}/inbox${query}`);
  if (response.status !== 200) throw new Error(`inbox answered ${response.status}`);
  return json<Page>(response);
};

const mark = (userId: number, body: unknown) =>
  call("POST", `/notifications/${userId}/mark`, { body });

const messages = (p: Page) => p.notifications.map((n) => n.message);

describe("inbox states and counts", () => {
  it("stores each notification with an id, a timestamp, sender, recipient, and no state", async () => {
    await createUsers([
      [101, "Ada"],
      [102, "Ben"],
    ]);
    await notify(102, 101, "hello Ada");
    const { notifications, counts } = await page(101);
    expect(notifications).toHaveLength(1);
    const [n] = notifications;
    expect(n).toMatchObject({
      from: { id: 102, name: "Ben" },
      to: { id: 101, name: "Ada" },
      message: "hello Ada",
      seen_at: null,
      read_at: null,
      archived_at: null,
    });
    expect(Number.isInteger(n?.id)).toBe(true);
    expect(counts).toEqual({ total: 1, unread: 1, unseen: 1, archived: 0 });
  });

  it("marks one read (which also marks it seen), all seen, and archives one", async () => {
    await createUsers([
      [111, "Cleo"],
      [112, "Dan"],
    ]);
    for (const text of ["one", "two", "three"]) await notify(112, 111, text);
    const [three, two, one] = (await page(111)).notifications;
    const read = await json<{ changed: number[]; counts: Page["counts"] }>(
      await mark(111, { state: "read", ids: [two?.id] }),
    );
    expect(read).toEqual({
      changed: [two?.id],
      counts: { total: 3, unread: 2, unseen: 2, archived: 0 },
    });
    const again = await json<{ changed: number[] }>(
      await mark(111, { state: "read", ids: [two?.id] }),
    );
    expect(again.changed).toEqual([]);
    const seen = await json<{ changed: number[]; counts: Page["counts"] }>(
      await mark(111, { state: "seen", all: true }),
    );
    expect(seen.changed).toEqual([one?.id, three?.id]);
    expect(seen.counts).toEqual({ total: 3, unread: 2, unseen: 0, archived: 0 });
    const archived = await json<{ counts: Page["counts"] }>(
      await mark(111, { state: "archived", ids: [one?.id] }),
    );
    expect(archived.counts).toEqual({ total: 2, unread: 1, unseen: 0, archived: 1 });
    expect(messages(await page(111))).toEqual(["three", "two"]);
    expect(messages(await page(111, "?archived=only"))).toEqual(["one"]);
    expect(messages(await page(111, "?archived=include"))).toEqual(["three", "two", "one"]);
    expect(messages(await page(111, "?status=unread"))).toEqual(["three"]);
    const counts = await json(await call("GET", "/notifications/111/counts"));
    expect(counts).toEqual({ total: 2, unread: 1, unseen: 0, archived: 1 });
  });

  it("marks all read and leaves archived notifications out of the article's list", async () => {
    await createUsers([
      [121, "Eve"],
      [122, "Fay"],
    ]);
    for (const text of ["a", "b"]) await notify(122, 121, text);
    const all = await json<{ counts: Page["counts"] }>(
      await mark(121, { state: "read", all: true }),
    );
    expect(all.counts).toMatchObject({ unread: 0, unseen: 0 });
    const [b] = (await page(121)).notifications;
    await mark(121, { state: "archived", ids: [b?.id] });
    const article = await json<{ notifications: { message: string }[] }>(
      await call("GET", "/notifications/121"),
    );
    expect(article.notifications.map((n) => n.message)).toEqual(["a"]);
  });
});

describe("inbox pagination", () => {
  it("pages newest first with limit and before, and reads newer ones with after", async () => {
    await createUsers([
      [201, "Gus"],
      [202, "Hal"],
    ]);
    for (let i = 1; i <= 7; i++) await notify(202, 201, `n${i}`);
    const first = await page(201, "?limit=3");
    expect(messages(first)).toEqual(["n7", "n6", "n5"]);
    expect(first.has_more).toBe(true);
    const second = await page(201, `?limit=3&before=${first.cursors.before}`);
    expect(messages(second)).toEqual(["n4", "n3", "n2"]);
    const third = await page(201, `?limit=3&before=${second.cursors.before}`);
    expect(messages(third)).toEqual(["n1"]);
    expect(third.has_more).toBe(false);
    // The two just after n2, still newest first; then everything after n5.
    const newer = await page(201, `?limit=2&after=${second.cursors.before}`);
    expect(messages(newer)).toEqual(["n4", "n3"]);
    expect(newer.has_more).toBe(true);
    expect(messages(await page(201, `?after=${first.cursors.before}`))).toEqual(["n7", "n6"]);
    const between = await page(
      201,
      `?after=${third.cursors.before}&before=${first.cursors.before}`,
    );
    expect(messages(between)).toEqual(["n4", "n3", "n2"]);
  });

  it("answers an empty page with null cursors", async () => {
    await createUsers([[211, "Ivy"]]);
    expect(await page(211)).toEqual({
      notifications: [],
      counts: { total: 0, unread: 0, unseen: 0, archived: 0 },
      has_more: false,
      cursors: { after: null, before: null },
    });
  });
});

describe("inbox retention", () => {
  it("keeps only the newest INBOX_MAX_NOTIFICATIONS (30 in tests)", async () => {
    await createUsers([
      [301, "Jo"],
      [302, "Kim"],
    ]);
    const response = await call("POST", "/send", {
      body: { fromID: 302, toIDs: [301], message: "first" },
    });
    expect(response.status).toBe(200);
    for (let i = 2; i <= 35; i++) await notify(302, 301, `m${i}`);
    const kept = await page(301, "?limit=200");
    expect(kept.counts.total).toBe(30);
    expect(kept.notifications[0]?.message).toBe("m35");
    expect(kept.notifications.at(-1)?.message).toBe("m6");
  });

  it("drops notifications older than INBOX_MAX_AGE_DAYS on the next access", async () => {
    await createUsers([
      [311, "Lou"],
      [312, "Max"],
    ]);
    await notify(312, 311, "old");
    await notify(312, 311, "new");
    const stub = env.INBOXES.getByName(JSON.stringify(["/", "311"]));
    await runInDurableObject(stub, (_instance, state) => {
      const ninetyOneDays = 91 * 24 * 60 * 60 * 1000;
      state.storage.sql.exec(
        "UPDATE notifications SET created_at = created_at - ? WHERE message = 'old'",
        ninetyOneDays,
      );
    });
    expect(messages(await page(311))).toEqual(["new"]);
  });
});
