import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createUser, grant } from "../support/access";
import { call, expectError, json } from "../support/api";
import { sleep } from "../support/socket";
import { declareTopic, fetchPartition, heartbeat, Member, produceOk } from "./support";

/** Every partition owned at most once across the members' current assignments. */
function expectNoDoubleOwnership(members: Member[]): void {
  const owned = members.flatMap((m) => m.partitions());
  expect(new Set(owned).size).toBe(owned.length);
}

/** Heartbeats every member in turn until nothing changes (KIP-848 reconciliation). */
async function settle(members: Member[], rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const member of members) {
      await member.beat();
      expectNoDoubleOwnership(members);
    }
  }
}

const sizes = (members: Member[]) => members.map((m) => m.partitions().length).sort();

describe("consumer groups", () => {
  it("balances a topic's partitions over the members, each partition owned once", async () => {
    await declareTopic("cg-balance", 6);
    const members = [1, 2, 3].map(() => new Member("cg-balance-group", ["cg-balance"]));
    await settle(members);
    expect(sizes(members)).toEqual([2, 2, 2]);
    expect(members.flatMap((m) => m.partitions()).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("rebalances incrementally when a member joins, never handing a partition to two members", async () => {
    await declareTopic("cg-join", 6);
    const a = new Member("cg-join-group", ["cg-join"]);
    const b = new Member("cg-join-group", ["cg-join"]);
    await settle([a, b]);
    expect(sizes([a, b])).toEqual([3, 3]);
    const before = new Map([a, b].map((m) => [m, m.partitions()]));
    const c = new Member("cg-join-group", ["cg-join"]);
    await settle([c, a, b]);
    expect(sizes([a, b, c])).toEqual([2, 2, 2]);
    // Sticky: a and b each kept two of their three.
    for (const m of [a, b]) {
      const kept = m.partitions().filter((p) => before.get(m)?.includes(p));
      expect(kept).toHaveLength(2);
    }
  });

  it("gives a leaving member's partitions to the others on their next heartbeat", async () => {
    await declareTopic("cg-leave", 4);
    const members = [1, 2, 3, 4].map(() => new Member("cg-leave-group", ["cg-leave"]));
    await settle(members);
    const [gone, ...rest] = members as [Member, ...Member[]];
    await gone.leave();
    for (const m of rest) await m.beat();
    await settle(rest, 2);
    expect(rest.flatMap((m) => m.partitions()).sort()).toEqual([0, 1, 2, 3]);
    expect(sizes(rest)).toEqual([1, 1, 2]);
  });

  it("removes a member that stops heartbeating after its session timeout", async () => {
    await declareTopic("cg-silent", 2);
    const silent = new Member("cg-silent-group", ["cg-silent"], { session_timeout_ms: 1000 });
    const alive = new Member("cg-silent-group", ["cg-silent"], { session_timeout_ms: 10_000 });
    await settle([silent, alive]);
    expect(alive.partitions()).toHaveLength(1);
    await sleep(1100); // past the silent member's 1 s session timeout: a real deadline
    // The alarm set for the silent member's deadline removes it.
    const stub = env.GROUPS.getByName(JSON.stringify(["/", "cg-silent-group"]));
    await runDurableObjectAlarm(stub);
    const group = await json<{ members: { member_id: string }[] }>(
      await call("GET", "/api/groups/%2F/cg-silent-group"),
    );
    expect(group.members.map((m) => m.member_id)).toEqual([alive.id]);
    await alive.beat();
    expect(alive.partitions()).toEqual([0, 1]);
    await expectError(
      await heartbeat("cg-silent-group", { member_id: silent.id, member_epoch: silent.epoch }),
      404,
    );
  });

  it("resumes from the committed offset with no gap, and the offsets survive a restart", async () => {
    await declareTopic("cg-resume", 1);
    await produceOk("cg-resume", {
      messages: Array.from({ length: 10 }, (_, i) => ({ key: "k", payload: `m${i}` })),
    });
    const first = new Member("cg-resume-group", ["cg-resume"], { auto_offset_reset: "earliest" });
    const [assigned] = await first.beat();
    expect(assigned?.position).toBe(0);
    const read = await fetchPartition("cg-resume", 0, { offset: assigned?.position, count: 4 });
    expect(read.messages.map((m) => m.payload)).toEqual(["m0", "m1", "m2", "m3"]);
    const commit = await call("POST", "/api/groups/%2F/cg-resume-group/commit", {
      body: {
        member_id: first.id,
        member_epoch: first.epoch,
        offsets: [{ topic: "cg-resume", partition: 0, offset: read.next_offset }],
      },
    });
    expect(commit.status).toBe(204);
    await first.leave();
    await evictDurableObject(env.GROUPS.getByName(JSON.stringify(["/", "cg-resume-group"])));
    const second = new Member("cg-resume-group", ["cg-resume"], { auto_offset_reset: "earliest" });
    const [resumed] = await second.beat();
    expect(resumed).toMatchObject({ committed_offset: 4, position: 4 });
    const rest = await fetchPartition("cg-resume", 0, { offset: resumed?.position });
    expect(rest.messages.map((m) => m.payload)).toEqual(["m4", "m5", "m6", "m7", "m8", "m9"]);
  });

  it("starts a new group at auto.offset.reset earliest or latest", async () => {
    await declareTopic("cg-reset-policy", 1);
    await produceOk("cg-reset-policy", { messages: [{ payload: "a" }, { payload: "b" }] });
    const early = new Member("cg-early", ["cg-reset-policy"], { auto_offset_reset: "earliest" });
    const late = new Member("cg-late", ["cg-reset-policy"], { auto_offset_reset: "latest" });
    expect((await early.beat())[0]).toMatchObject({ committed_offset: null, position: 0 });
    expect((await late.beat())[0]).toMatchObject({ committed_offset: null, position: 2 });
  });

  it("lists offsets with lag, and resets them to earliest, latest, an offset or a timestamp", async () => {
    await declareTopic("cg-offsets", 2);
    await produceOk("cg-offsets", {
      messages: [0, 0, 0, 1, 1].map((partition, i) => ({ partition, payload: `m${i}` })),
    });
    const reset = (to: unknown, partitions?: number[]) =>
      call("POST", "/api/groups/%2F/cg-offsets-group/offsets/reset", {
        body: { topic: "cg-offsets", to, ...(partitions ? { partitions } : {}) },
      });
    expect((await reset("earliest")).status).toBe(200);
    type Offsets = {
      partition: number;
      committed_offset: number;
      lag: number;
      log_end_offset: number;
    }[];
    let offsets = await json<Offsets>(
      await call("GET", "/api/groups/%2F/cg-offsets-group/offsets"),
    );
    expect(offsets.map((o) => [o.partition, o.committed_offset, o.lag])).toEqual([
      [0, 0, 3],
      [1, 0, 2],
    ]);
    await reset(2, [0]);
    await reset("latest", [1]);
    const group = await json<{ lag: number; offsets: Offsets }>(
      await call("GET", "/api/groups/%2F/cg-offsets-group"),
    );
    expect(group.offsets.map((o) => o.committed_offset)).toEqual([2, 2]);
    expect(group.lag).toBe(1);
    await reset({ timestamp: Date.now() + 60_000 });
    offsets = await json<Offsets>(await call("GET", "/api/groups/%2F/cg-offsets-group/offsets"));
    expect(offsets.map((o) => o.committed_offset)).toEqual([3, 2]);
    // An active group's offsets are its members' to commit.
    const member = new Member("cg-offsets-group", ["cg-offsets"]);
    await member.beat();
    await expectError(await reset("earliest"), 400, "bad_request");
  });

  it("refuses bad input with clear 4xx answers", async () => {
    await declareTopic("cg-bad", 2);
    await expectError(await call("GET", "/api/groups/%2F/cg-never-seen"), 404);
    const member = new Member("cg-bad-group", ["cg-bad"]);
    await member.beat();
    const commit = (offsets: unknown, extra: Record<string, unknown> = {}) =>
      call("POST", "/api/groups/%2F/cg-bad-group/commit", {
        body: { member_id: member.id, member_epoch: member.epoch, offsets, ...extra },
      });
    await expectError(
      await commit([{ topic: "cg-bad", partition: 0, offset: -1 }]),
      400,
      "bad_request",
    );
    await expectError(
      await commit([{ topic: "cg-bad", partition: 2, offset: 0 }]),
      400,
      "bad_request",
    );
    await expectError(await commit([{ topic: "cg-nope", partition: 0, offset: 0 }]), 404);
    await expectError(
      await commit([{ topic: "cg-bad", partition: 0, offset: 0 }], {
        member_epoch: member.epoch + 5,
      }),
      400,
    );
    await expectError(
      await heartbeat("cg-bad-group", { member_id: "ghost", member_epoch: 3 }),
      404,
    );
    await expectError(await heartbeat("cg-bad-group", { member_epoch: 0 }), 400);
    await expectError(
      await heartbeat("cg-bad-group", { member_epoch: 0, topics: ["cg-nope"] }),
      404,
    );
    await expectError(
      await heartbeat("cg-bad-group", { member_id: member.id, member_epoch: member.epoch + 1 }),
      400,
    );
  });

  it("needs read on the topic to join a group or commit its offsets", async () => {
    await declareTopic("cg-acl", 1);
    const auth = await createUser("cg-no-read", "pw");
    await grant("/", "cg-no-read", ".*", ".*", "^nothing$");
    await expectError(
      await heartbeat("cg-acl-group", { member_epoch: 0, topics: ["cg-acl"] }, auth),
      403,
    );
    const commit = await call("POST", "/api/groups/%2F/cg-acl-group/commit", {
      body: { offsets: [{ topic: "cg-acl", partition: 0, offset: 0 }] },
      auth,
    });
    await expectError(commit, 403);
  });
});
