import { describe, expect, it } from "vitest";
import { call, json } from "../support/api";
import { createUsers, live, sendJson } from "../support/notifications";

const unreadOf = async (id: number) =>
  (await json<{ unread: number }>(await call("GET", `/notifications/${id}/counts`))).unread;

describe("fan-out", () => {
  it("stores one notification in 1,000 inboxes before answering", async () => {
    const ids = Array.from({ length: 1000 }, (_, i) => 10_000 + i);
    await createUsers([[9_999, "Broadcaster"]]);
    await createUsers(ids.map((id): [number, string] => [id, `u${id}`]));
    const watcher = await live(10_500);
    await watcher.next();

    const response = await sendJson({ fromID: 9_999, toIDs: ids, message: "release 1.0 is out" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      message: "Notification sent successfully!",
      recipients: 1000,
      delivered: 1000,
      not_found: [],
    });
    // Answered after storing: every inbox already has it.
    for (const id of [10_000, 10_001, 10_500, 10_998, 10_999]) {
      expect(await unreadOf(id)).toBe(1);
    }
    const frame = await watcher.nextOf("notification");
    expect(frame.notification).toMatchObject({
      from: { id: 9_999, name: "Broadcaster" },
      to: { id: 10_500, name: "u10500" },
      message: "release 1.0 is out",
    });
    watcher.close();
  }, 120_000);

  it("reports recipients that are not users and delivers to the rest", async () => {
    await createUsers([
      [601, "Ana"],
      [602, "Bo"],
    ]);
    const response = await sendJson({ fromID: 601, toIDs: [602, 603, 602], message: "hi" });
    expect(await response.json()).toEqual({
      message: "Notification sent successfully!",
      recipients: 2,
      delivered: 1,
      not_found: [603],
    });
    const none = await sendJson({ fromID: 601, toIDs: [698, 699], message: "hi" });
    expect(none.status).toBe(404);
    expect(await none.json()).toEqual({ message: "User not found" });
  });

  it("notifies every inbox bound to a topic, such as a user's followers", async () => {
    await createUsers([
      [611, "Cy"],
      [612, "Di"],
      [613, "Ed"],
      [614, "Flo"],
    ]);
    // Di and Ed follow Cy: their inboxes are bound to the exchange with "followers.611".
    for (const follower of [612, 613]) {
      const bound = await call("POST", `/api/bindings/%2F/e/notifications/i/${follower}`, {
        body: { routing_key: "followers.611" },
      });
      expect(bound.status).toBe(201);
    }
    const response = await sendJson({ fromID: 611, topic: "followers.611", message: "new post" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      message: "Notification sent successfully!",
      topic: "followers.611",
    });
    expect([await unreadOf(612), await unreadOf(613), await unreadOf(614)]).toEqual([1, 1, 0]);
    const page = await json<{ notifications: { to: { id: number } }[] }>(
      await call("GET", "/notifications/613/inbox"),
    );
    expect(page.notifications[0]?.to).toEqual({ id: 613, name: "Ed" });
    const nobody = await sendJson({ fromID: 611, topic: "followers.614", message: "x" });
    expect(nobody.status).toBe(404);
  });

  it("refuses fan-out requests that are too large or ambiguous", async () => {
    await createUsers([[621, "Gil"]]);
    const tooMany = Array.from({ length: 1001 }, (_, i) => i);
    const cases: unknown[] = [
      { fromID: 621, toIDs: tooMany, message: "m" },
      { fromID: 621, toIDs: [], message: "m" },
      { fromID: 621, toIDs: ["x"], message: "m" },
      { fromID: 621, toID: 621, toIDs: [621], message: "m" },
      { fromID: 621, topic: "123", message: "m" },
      { fromID: 621, topic: "a b", message: "m" },
    ];
    for (const body of cases) {
      const response = await sendJson(body);
      expect(response.status).toBe(400);
      expect(Object.keys(await json<object>(response))).toEqual(["message"]);
    }
  });
});
