/** A consumer group's state in SQLite (src/storage/group-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { GroupStore, type Member } from "../../src/storage/group-store";
import { inObject } from "./support";

function inGroup<T>(name: string, body: (store: GroupStore) => T): Promise<T> {
  return inObject(env.GROUPS, `group:${name}`, (sql) => body(new GroupStore(sql)));
}

const member = (id: string, joined: number, extra: Partial<Member> = {}): Member => ({
  id,
  epoch: 1,
  topics: ["t"],
  sessionMs: 45_000,
  lastSeen: joined,
  target: [],
  current: [],
  sent: [],
  joined,
  ...extra,
});

describe("a group store", () => {
  it("exists once created, and keeps its first creation time", async () => {
    await inGroup("created", (store) => {
      expect(store.exists()).toBe(false);
      store.markCreated(100);
      store.markCreated(200);
      expect(store.exists()).toBe(true);
      expect(store.getMeta("created")).toBe("100");
    });
  });

  it("keeps the group epoch, 0 before the first", async () => {
    await inGroup("epoch", (store) => {
      expect(store.groupEpoch()).toBe(0);
      store.setGroupEpoch(7);
      expect(store.groupEpoch()).toBe(7);
    });
  });

  it("lists members in joining order with their assignments, updated in place", async () => {
    await inGroup("members", (store) => {
      store.putMember(member("late", 20));
      store.putMember(member("early", 10));
      const partitions = [
        { topic: "t", partition: 0 },
        { topic: "t", partition: 1 },
      ];
      store.putMember(
        member("early", 999, { epoch: 3, target: partitions, current: partitions, sent: [] }),
      );
      const members = store.members();
      expect(members.map((m) => m.id)).toEqual(["early", "late"]);
      // An update keeps when the member joined.
      expect(members[0]).toMatchObject({ epoch: 3, joined: 10, target: partitions });
      store.deleteMember("early");
      expect(store.members().map((m) => m.id)).toEqual(["late"]);
    });
  });

  it("keeps each subscribed topic's partition count", async () => {
    await inGroup("topics", (store) => {
      store.setTopic("a", 2);
      store.setTopic("b", 4);
      store.setTopic("a", 3);
      expect(store.topics()).toEqual(
        new Map([
          ["a", 3],
          ["b", 4],
        ]),
      );
    });
  });

  it("keeps one committed offset per partition, the latest commit", async () => {
    await inGroup("offsets", (store) => {
      store.commit("t", 1, 10, 100);
      store.commit("t", 0, 5, 100);
      store.commit("t", 1, 12, 200);
      expect(store.offsets()).toEqual([
        { topic: "t", partition: 0, offset: 5, committed_at: 100 },
        { topic: "t", partition: 1, offset: 12, committed_at: 200 },
      ]);
    });
  });
});
