import { describe, expect, it } from "vitest";
import { mapLimited } from "../../src/runtime/map-limited";

describe("bounded fan-out", () => {
  it("answers in item order with never more than the limit in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 25 }, (_, i) => i);
    const answers = await mapLimited(items, 4, async (n) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 5));
      inFlight--;
      return n * 2;
    });
    expect(answers).toEqual(items.map((n) => n * 2));
    expect(most).toBe(4);
  });
});
