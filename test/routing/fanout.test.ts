import { describe, expect, it } from "vitest";
import { fanoutExchange } from "../../src/routing/fanout";
import { indexOf, route } from "./helpers";

describe("fanout exchange", () => {
  it("routes every message to every binding, whatever the binding key", () => {
    const index = indexOf(fanoutExchange, [
      ["q1", ""],
      ["q2", "orders"],
      ["q3", "#"],
    ]);
    expect(route(index, "")).toEqual(["q1", "q2", "q3"]);
    expect(route(index, "unrelated.key")).toEqual(["q1", "q2", "q3"]);
  });

  it("ignores binding arguments and message headers", () => {
    const index = indexOf(fanoutExchange, [["q", "", { "x-match": "any", a: 1 }]]);
    expect(route(index, "k", { a: 2 })).toEqual(["q"]);
  });
});
