/** One catalog operation at a time, in arrival order, whatever each one awaits. */
import { describe, expect, it } from "vitest";
import { SerialQueue } from "../../src/runtime/serial-queue";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("SerialQueue", () => {
  it("starts an operation only after the one before it ended, in arrival order", async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let release = () => {};
    const first = queue.run(async () => {
      log.push("first starts");
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      log.push("first ends");
      return 1;
    });
    const second = queue.run(async () => {
      log.push("second runs");
      return 2;
    });
    await tick();
    await tick();
    expect(log).toEqual(["first starts"]);
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(["first starts", "first ends", "second runs"]);
  });

  it("runs the next operation after one that failed, and hands the failure to its caller", async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error("catalog operation failed");
    });
    const next = queue.run(async () => "ran");
    await expect(failed).rejects.toThrow("catalog operation failed");
    expect(await next).toBe("ran");
  });
});
