import { describe, expect, it } from "vitest";
import { directExchange } from "../../src/routing/direct";
import { indexOf, route } from "./helpers";

describe("direct exchange", () => {
  it("routes to the bindings whose key equals the routing key exactly", () => {
    const index = indexOf(directExchange, [
      ["q1", "orders"],
      ["q2", "payments"],
      ["q3", "orders"],
    ]);
    expect(route(index, "orders")).toEqual(["q1", "q3"]);
    expect(route(index, "payments")).toEqual(["q2"]);
  });

  it("compares keys case-sensitively and without wildcards", () => {
    const index = indexOf(directExchange, [
      ["upper", "Orders"],
      ["star", "*"],
      ["hash", "#"],
    ]);
    expect(route(index, "orders")).toEqual([]);
    expect(route(index, "Orders")).toEqual(["upper"]);
    expect(route(index, "anything")).toEqual([]);
    expect(route(index, "*")).toEqual(["star"]);
  });

  it("matches the empty binding key against the empty routing key only", () => {
    const index = indexOf(directExchange, [["default", ""]]);
    expect(route(index, "")).toEqual(["default"]);
    expect(route(index, ".")).toEqual([]);
  });

  it("ignores binding arguments", () => {
    const index = indexOf(directExchange, [["q", "k", { "x-match": "nonsense", a: 1 }]]);
    expect(route(index, "k")).toEqual(["q"]);
  });
});
