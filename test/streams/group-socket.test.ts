import { describe, expect, it, vi } from "vitest";
import { call, json } from "../support/api";
import { type Frame, isType, openSocket, type TestSocket } from "../support/socket";
import { declareTopic, produceOk } from "./support";

interface AssignmentFrame {
  member_id: string;
  member_epoch: number;
  partitions: { topic: string; partition: number; position: number }[];
}

const open = (group: string) => openSocket(`/api/groups/%2F/${group}/consume`);

/** Waits until the member's latest assignment frame has `count` partitions. */
async function assignedCount(
  socket: TestSocket,
  count: number,
  timeoutMs = 5000,
): Promise<number[]> {
  return vi.waitFor(
    () => {
      const frames = socket.all("assignment") as unknown as AssignmentFrame[];
      const last = frames.at(-1);
      if (last?.partitions.length !== count) {
        throw new Error(`assignments: ${JSON.stringify(frames)}`);
      }
      return last.partitions.map((p) => p.partition);
    },
    { timeout: timeoutMs, interval: 10 },
  );
}

function received(socket: TestSocket): string[] {
  return socket
    .all("deliver")
    .flatMap((f: Frame) => (f.messages as { payload: string }[]).map((m) => m.payload));
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout: timeoutMs, interval: 10 });
}

describe("consumer group members on WebSockets", () => {
  it("splits the partitions between two members and fails over when one leaves", async () => {
    await declareTopic("gs-split", 4);
    const a = await open("gs-split-group");
    a.send({ type: "join", topics: ["gs-split"], auto_offset_reset: "earliest", credit: 10_000 });
    await assignedCount(a, 4);
    const b = await open("gs-split-group");
    b.send({ type: "join", topics: ["gs-split"], auto_offset_reset: "earliest", credit: 10_000 });
    const [pa, pb] = await Promise.all([assignedCount(a, 2), assignedCount(b, 2)]);
    expect([...(pa ?? []), ...(pb ?? [])].sort()).toEqual([0, 1, 2, 3]);
    await produceOk("gs-split", {
      messages: Array.from({ length: 40 }, (_, i) => ({ key: `user-${i}`, payload: `n${i}` })),
    });
    await until(() => received(a).length + received(b).length === 40);
    expect(new Set([...received(a), ...received(b)]).size).toBe(40);

    a.close();
    const started = Date.now();
    await assignedCount(b, 4);
    expect(Date.now() - started).toBeLessThan(3000);
    await produceOk("gs-split", {
      messages: Array.from({ length: 20 }, (_, i) => ({ key: `late-${i}`, payload: `late${i}` })),
    });
    await until(() => received(b).filter((p) => p.startsWith("late")).length === 20);
    b.close();
  }, 20_000);

  it("commits with commit frames and auto-commits delivered positions", async () => {
    await declareTopic("gs-commit", 1);
    await produceOk("gs-commit", {
      messages: [{ payload: "a" }, { payload: "b" }, { payload: "c" }],
    });
    const member = await open("gs-commit-group");
    member.send({
      type: "join",
      topics: ["gs-commit"],
      auto_offset_reset: "earliest",
      auto_commit_interval_ms: 0,
    });
    await until(() => received(member).length === 3);
    member.send({ type: "commit", offsets: [{ topic: "gs-commit", partition: 0, offset: 2 }] });
    await member.next(isType("commit_ok"));
    const offsets = async () =>
      json<{ committed_offset: number }[]>(
        await call("GET", "/api/groups/%2F/gs-commit-group/offsets"),
      );
    expect((await offsets())[0]?.committed_offset).toBe(2);
    member.close();

    const auto = await open("gs-commit-group");
    auto.send({ type: "join", topics: ["gs-commit"], auto_commit_interval_ms: 100 });
    await until(() => received(auto).length === 1);
    expect(received(auto)).toEqual(["c"]);
    await auto.next(isType("commit_ok"));
    expect((await offsets())[0]?.committed_offset).toBe(3);
    auto.close();
  });

  it("answers a join for an unknown topic with an error frame", async () => {
    const member = await open("gs-unknown-group");
    member.send({ type: "join", topics: ["gs-no-such-topic"] });
    expect((await member.next(isType("error"))).code).toBe("not_found");
  });
});
