import { describe, expect, it } from "vitest";
import { POLL_MS, RequestCoalescer } from "../../src/runtime/request-coalescer";

/**
 * Callers standing for separate requests: each sends through its own `send`, so a test can tell
 * which request's context a call was made from, and the calls stay open until the test settles
 * them.
 */
function requests() {
  const calls: {
    by: string;
    items: string[];
    settle: (results: string[]) => void;
    fail: (e: Error) => void;
  }[] = [];
  const kept: Promise<unknown>[] = [];
  const context = (by: string) => ({
    send: (items: string[]) =>
      new Promise<string[]>((resolve, reject) => {
        calls.push({ by, items: [...items], settle: resolve, fail: reject });
      }),
    waitUntil: (work: Promise<unknown>) => {
      kept.push(work);
    },
  });
  return { calls, kept, context };
}

const limits = { maxItems: 3, maxBytes: 1000 };
const size = (item: string) => item.length;
const upper = (items: string[]) => items.map((i) => i.toUpperCase());
// Waiting callers look at their batch every POLL_MS: give them time to.
const settled = () => new Promise((r) => setTimeout(r, 5 * POLL_MS));
/**
 * Until `count` calls were made: a waiting caller's first look waits half the last call's
 * duration, which on a loaded machine can be longer than settled() (bounded: 2 s).
 */
async function callsMade(calls: readonly unknown[], count: number): Promise<void> {
  for (let waited = 0; calls.length < count && waited < 2000; waited += POLL_MS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

describe("RequestCoalescer", () => {
  it("sends a lone request's items at once, from that request", async () => {
    const { calls, context } = requests();
    const done = new RequestCoalescer<string, string>(limits, size).submit(
      "q",
      ["a"],
      context("r1"),
    );
    await settled();
    expect(calls.map((c) => [c.by, c.items])).toEqual([["r1", ["a"]]]);
    calls[0]?.settle(upper(calls[0].items));
    expect(await done).toEqual(["A"]);
  });

  it("gathers requests made while a call is in flight into one call, sent by one of them", async () => {
    const { calls, kept, context } = requests();
    const coalescer = new RequestCoalescer<string, string>(limits, size);
    const first = coalescer.submit("q", ["1"], context("r1"));
    const second = coalescer.submit("q", ["2"], context("r2"));
    const third = coalescer.submit("q", ["3", "4"], context("r3"));
    await settled();
    expect(calls).toHaveLength(1);
    calls[0]?.settle(["R1"]);
    expect(await first).toEqual(["R1"]);
    await callsMade(calls, 2);
    // The next batch goes from the context of a request in it (r1's may be over by now):
    // whichever of its waiting requests looks first.
    expect(calls.map((c) => c.items)).toEqual([["1"], ["2", "3", "4"]]);
    expect(calls[0]?.by).toBe("r1");
    expect(["r2", "r3"]).toContain(calls[1]?.by);
    calls[1]?.settle(["R2", "R3", "R4"]);
    expect(await Promise.all([second, third])).toEqual([["R2"], ["R3", "R4"]]);
    // Every call was handed to waitUntil, so a caller hanging up does not cancel it.
    expect(kept).toHaveLength(2);
    expect(coalescer.activeKeys).toBe(0);
  });

  it("keeps batches within the item bound, in arrival order", async () => {
    const { calls, context } = requests();
    const coalescer = new RequestCoalescer<string, string>(limits, size);
    const all = ["a", "b", "c", "d", "e"].map((item) =>
      coalescer.submit("q", [item], context(item)),
    );
    for (let round = 0; round < 3; round++) {
      await callsMade(calls, round + 1);
      const call = calls[round];
      call?.settle(upper(call.items));
    }
    expect(calls.map((c) => c.items)).toEqual([["a"], ["b", "c", "d"], ["e"]]);
    expect(await Promise.all(all)).toEqual([["A"], ["B"], ["C"], ["D"], ["E"]]);
  });

  it("rejects every request of a failed call, and only those", async () => {
    const { calls, context } = requests();
    const coalescer = new RequestCoalescer<string, string>(limits, size);
    const first = coalescer.submit("q", ["1"], context("r1"));
    const second = coalescer.submit("q", ["2"], context("r2"));
    const third = coalescer.submit("q", ["3"], context("r3"));
    await settled();
    calls[0]?.settle(["R1"]);
    await callsMade(calls, 2);
    // Both outcomes observed together: each request learns of the failure on its own turn.
    const outcomes = Promise.allSettled([second, third]);
    calls[1]?.fail(new Error("queue object reset"));
    const [secondOutcome, thirdOutcome] = await outcomes;
    expect(secondOutcome).toMatchObject({
      status: "rejected",
      reason: { message: "queue object reset" },
    });
    expect(thirdOutcome).toMatchObject({
      status: "rejected",
      reason: { message: "queue object reset" },
    });
    expect(await first).toEqual(["R1"]);
    // The key works again afterwards.
    const later = coalescer.submit("q", ["4"], context("r4"));
    await callsMade(calls, 3);
    calls[2]?.settle(["R4"]);
    expect(await later).toEqual(["R4"]);
  });

  it("keeps keys independent", async () => {
    const { calls, context } = requests();
    const coalescer = new RequestCoalescer<string, string>(limits, size);
    void coalescer.submit("a", ["1"], context("r1"));
    void coalescer.submit("b", ["2"], context("r2"));
    await settled();
    expect(calls.map((c) => c.items)).toEqual([["1"], ["2"]]);
  });
});
