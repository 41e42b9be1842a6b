/** Long polls of pull consumers (src/queue/pull-waiters.ts), driven directly. */
import { describe, expect, it } from "vitest";
import { PullWaiters } from "../../src/queue/pull-waiters";
import type { Leased } from "../../src/queue/queue-engine";

const leased = (lease: string): Leased => ({
  lease,
  seq: 0,
  exchange: "",
  routingKey: "k",
  properties: {},
  body: new Uint8Array(),
  redelivered: false,
  deliveryCount: 1,
});

describe("pull consumers' long polls", () => {
  it("hands ready messages to the oldest poll first, each its own count and visibility", async () => {
    const polls = new PullWaiters();
    const first = polls.wait(2, 1000, 60_000);
    const second = polls.wait(1, 5000, 60_000);
    let ready = 3;
    const asked: [number, number][] = [];
    polls.wake(
      (count, visibility) => {
        asked.push([count, visibility]);
        const taken = Math.min(count, ready);
        ready -= taken;
        return Array.from({ length: taken }, (_, i) => leased(`${count}-${i}`));
      },
      () => ready > 0,
    );
    expect(asked).toEqual([
      [2, 1000],
      [1, 5000],
    ]);
    expect((await first).map((m) => m.lease)).toEqual(["2-0", "2-1"]);
    expect((await second).map((m) => m.lease)).toEqual(["1-0"]);
  });

  it("leaves polls waiting while nothing is ready, or what is ready cannot be leased", () => {
    const polls = new PullWaiters();
    void polls.wait(1, 1000, 60_000);
    let leases = 0;
    polls.wake(
      () => {
        leases++;
        return [];
      },
      () => false,
    );
    expect(leases).toBe(0);
    polls.wake(
      () => {
        leases++;
        return [];
      },
      () => true,
    );
    expect(leases).toBe(1);
    polls.releaseAll();
  });

  it("answers every poll with nothing when the queue goes", async () => {
    const polls = new PullWaiters();
    const waiting = [polls.wait(1, 1000, 60_000), polls.wait(5, 1000, 60_000)];
    polls.releaseAll();
    expect(await Promise.all(waiting)).toEqual([[], []]);
  });

  it("answers a poll with nothing when its wait runs out", async () => {
    const polls = new PullWaiters();
    // A real deadline, 1 ms long.
    expect(await polls.wait(1, 1000, 1)).toEqual([]);
    let leases = 0;
    polls.wake(
      () => {
        leases++;
        return [];
      },
      () => true,
    );
    expect(leases).toBe(0);
  });
});
