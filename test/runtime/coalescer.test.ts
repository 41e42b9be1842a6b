import { describe, expect, it } from "vitest";
import { Coalescer } from "../../src/runtime/coalescer";

/** A send function whose calls stay open until the test settles them. */
function controlledSend() {
  const calls: {
    key: string;
    items: string[];
    settle: (results: string[]) => void;
    fail: (e: Error) => void;
  }[] = [];
  const send = (key: string, items: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({ key, items: [...items], settle: resolve, fail: reject });
    });
  return { calls, send };
}

const upper = (items: string[]) => items.map((i) => i.toUpperCase());

describe("Coalescer", () => {
  it("sends at once when nothing is in flight", async () => {
    const { calls, send } = controlledSend();
    const done = new Coalescer(send).submit("q", ["a"]);
    expect(calls.map((c) => c.items)).toEqual([["a"]]);
    calls[0]?.settle(upper(calls[0].items));
    expect(await done).toEqual(["A"]);
  });

  it("coalesces items that arrive while a call is in flight into one ordered batch", async () => {
    const { calls, send } = controlledSend();
    const coalescer = new Coalescer(send);
    const first = coalescer.submit("q", ["1"]);
    const second = coalescer.submit("q", ["2", "3"]);
    const third = coalescer.submit("q", ["4"]);
    expect(calls).toHaveLength(1);
    calls[0]?.settle(["r1"]);
    expect(await first).toEqual(["r1"]);
    await Promise.resolve();
    expect(calls.map((c) => c.items)).toEqual([["1"], ["2", "3", "4"]]);
    calls[1]?.settle(["r2", "r3", "r4"]);
    expect(await Promise.all([second, third])).toEqual([["r2", "r3"], ["r4"]]);
  });

  it("keeps separate keys independent", () => {
    const { calls, send } = controlledSend();
    const coalescer = new Coalescer(send);
    void coalescer.submit("a", ["1"]);
    void coalescer.submit("b", ["2"]);
    expect(calls.map((c) => [c.key, c.items])).toEqual([
      ["a", ["1"]],
      ["b", ["2"]],
    ]);
  });

  it("rejects every caller of a failed batch and carries on with the next", async () => {
    const { calls, send } = controlledSend();
    const coalescer = new Coalescer(send);
    const first = coalescer.submit("q", ["1"]);
    const second = coalescer.submit("q", ["2"]);
    calls[0]?.fail(new Error("queue overloaded"));
    await expect(first).rejects.toThrow("queue overloaded");
    await Promise.resolve();
    calls[1]?.settle(["ok"]);
    expect(await second).toEqual(["ok"]);
  });
});
