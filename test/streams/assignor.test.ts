import { describe, expect, it } from "vitest";
import { assignPartitions, type PartitionRef } from "../../src/streams/assignor";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `m${i}`);

function check(target: Map<string, PartitionRef[]>, count: number): void {
  const all = [...target.values()].flat().map((p) => p.partition);
  expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
  const sizes = [...target.values()].map((list) => list.length);
  expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
}

describe("the group assignor", () => {
  it("stays balanced, owns each partition once and moves only what it must, through joins and leaves", () => {
    const topics = new Map([["t", 12]]);
    let members = ids(1);
    let current = assignPartitions(
      members.map((id) => ({ id, topics: ["t"] })),
      topics,
      new Map(),
    );
    check(current, 12);
    // Members join one by one up to 6, then leave one by one (a seeded walk, no randomness).
    const steps = [
      ...ids(6)
        .slice(1)
        .map((id) => ({ join: id })),
      ...["m2", "m0", "m5", "m3"].map((id) => ({ leave: id })),
    ];
    for (const step of steps) {
      members = "join" in step ? [...members, step.join] : members.filter((m) => m !== step.leave);
      const next = assignPartitions(
        members.map((id) => ({ id, topics: ["t"] })),
        topics,
        current,
      );
      check(next, 12);
      // Sticky: a member that stays keeps what it can keep within its new quota.
      for (const id of members) {
        const before = new Set((current.get(id) ?? []).map((p) => p.partition));
        const kept = (next.get(id) ?? []).filter((p) => before.has(p.partition)).length;
        expect(kept).toBe(Math.min(before.size, next.get(id)?.length ?? 0));
      }
      current = next;
    }
  });

  it("assigns a topic only to the members subscribed to it", () => {
    const target = assignPartitions(
      [
        { id: "a", topics: ["x"] },
        { id: "b", topics: ["x", "y"] },
      ],
      new Map([
        ["x", 2],
        ["y", 3],
      ]),
      new Map(),
    );
    expect(target.get("a")?.every((p) => p.topic === "x")).toBe(true);
    expect(target.get("b")?.filter((p) => p.topic === "y")).toHaveLength(3);
  });
});
