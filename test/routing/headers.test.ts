import { describe, expect, it } from "vitest";
import type { FieldTable } from "../../src/routing/exchange-type";
import { fieldValuesEqual, headersExchange } from "../../src/routing/headers";
import { indexOf, route } from "./helpers";

/** Whether a single binding with these arguments routes a message with these headers. */
function routes(args: FieldTable, headers: FieldTable | undefined): boolean {
  return route(indexOf(headersExchange, [["q", "", args]]), "", headers).length > 0;
}

describe("headers exchange: compiling x-match", () => {
  it.each(["all", "any", "all-with-x", "any-with-x"])("accepts x-match %s", (mode) => {
    expect(headersExchange.compile("", { "x-match": mode }).ok).toBe(true);
  });

  it("rejects an unknown x-match value with RabbitMQ's reason", () => {
    const result = headersExchange.compile("", { "x-match": "some" });
    expect(result).toEqual({
      ok: false,
      reason: 'Invalid x-match field value "some"; expected all, any, all-with-x, or any-with-x',
    });
  });

  it("rejects x-match values that differ only in case", () => {
    expect(headersExchange.compile("", { "x-match": "ALL" }).ok).toBe(false);
  });

  it("rejects an x-match that is not a string as a field type error", () => {
    const result = headersExchange.compile("", { "x-match": 1 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^Invalid x-match field type number/);
  });
});

describe("headers exchange: routing", () => {
  it("ignores the routing key and binding key", () => {
    const index = indexOf(headersExchange, [["q", "some.key", { a: 1 }]]);
    expect(route(index, "other.key", { a: 1 })).toEqual(["q"]);
  });

  it("defaults to x-match all: every argument must be present and equal", () => {
    expect(routes({ a: "1", b: "2" }, { a: "1", b: "2", c: "3" })).toBe(true);
    expect(routes({ a: "1", b: "2" }, { a: "1" })).toBe(false);
    expect(routes({ a: "1", b: "2" }, { a: "1", b: "3" })).toBe(false);
  });

  it("matches x-match any when at least one argument matches", () => {
    const args = { "x-match": "any", a: "1", b: "2" };
    expect(routes(args, { a: "2", b: "2" })).toBe(true);
    expect(routes(args, { a: "2", c: "2" })).toBe(false);
  });

  it("matches every message with x-match all and no arguments, even without headers", () => {
    expect(routes({}, undefined)).toBe(true);
    expect(routes({ "x-match": "all" }, { a: 1 })).toBe(true);
  });

  it("matches no message with x-match any and no arguments", () => {
    expect(routes({ "x-match": "any" }, {})).toBe(false);
    expect(routes({ "x-match": "any" }, { a: 1 })).toBe(false);
  });

  it("ignores x- arguments under all and any, so an x-only binding is vacuous", () => {
    expect(routes({ "x-k": "v" }, { "x-k": "w" })).toBe(true);
    expect(routes({ "x-match": "any", "x-k": "v" }, { "x-k": "v" })).toBe(false);
  });

  it("matches x- arguments under all-with-x and any-with-x", () => {
    expect(routes({ "x-match": "all-with-x", "x-k": "v", a: "1" }, { "x-k": "v", a: "1" })).toBe(
      true,
    );
    expect(routes({ "x-match": "all-with-x", "x-k": "v", a: "1" }, { a: "1" })).toBe(false);
    expect(routes({ "x-match": "any-with-x", "x-k": "v", a: "1" }, { "x-k": "v" })).toBe(true);
    expect(routes({ "x-match": "any-with-x", "x-k": "v" }, { "x-k": "w" })).toBe(false);
  });

  it("never requires a header named x-match, even under all-with-x", () => {
    expect(routes({ "x-match": "all-with-x", a: 1 }, { a: 1 })).toBe(true);
  });

  it("compares values by type: 1 is not '1' and true is not 'true'", () => {
    expect(routes({ a: 1 }, { a: "1" })).toBe(false);
    expect(routes({ a: "1" }, { a: 1 })).toBe(false);
    expect(routes({ a: true }, { a: "true" })).toBe(false);
    expect(routes({ a: true }, { a: true })).toBe(true);
    expect(routes({ a: 1.5 }, { a: 1.5 })).toBe(true);
  });

  it("compares header names case-sensitively", () => {
    expect(routes({ A: "1" }, { a: "1" })).toBe(false);
  });

  it("treats an empty string value as a value that must match", () => {
    expect(routes({ a: "" }, { a: "" })).toBe(true);
    expect(routes({ a: "" }, {})).toBe(false);
  });

  it("matches a null argument on the header's presence, like RabbitMQ's void", () => {
    expect(routes({ a: null }, { a: "anything" })).toBe(true);
    expect(routes({ a: null }, {})).toBe(false);
  });

  it("compares nested arrays and tables deeply", () => {
    expect(routes({ a: [1, "x", { b: [true] }] }, { a: [1, "x", { b: [true] }] })).toBe(true);
    expect(routes({ a: [1, "x"] }, { a: ["x", 1] })).toBe(false);
    expect(routes({ a: { b: 1, c: 2 } }, { a: { c: 2, b: 1 } })).toBe(true);
    expect(routes({ a: { b: 1 } }, { a: { b: 1, c: 2 } })).toBe(false);
    expect(routes({ a: [] }, { a: {} })).toBe(false);
  });

  it("does not find headers on Object.prototype", () => {
    expect(routes({ constructor: null }, {})).toBe(false);
    expect(routes({ toString: null }, { a: 1 })).toBe(false);
  });

  it("routes to each matching binding among several, and stops after remove", () => {
    const index = indexOf(headersExchange, [
      ["red", "", { colour: "red" }],
      ["red-big", "", { colour: "red", size: "big" }],
      ["any-big", "", { "x-match": "any", size: "big", weight: "heavy" }],
    ]);
    expect(route(index, "", { colour: "red", size: "big" })).toEqual(["any-big", "red", "red-big"]);
    expect(route(index, "", { colour: "red" })).toEqual(["red"]);
    index.remove("red");
    expect(route(index, "", { colour: "red", size: "big" })).toEqual(["any-big", "red-big"]);
    expect(index.size).toBe(2);
  });
});

describe("field value equality", () => {
  it("distinguishes null, missing and falsy values", () => {
    expect(fieldValuesEqual(null, undefined)).toBe(false);
    expect(fieldValuesEqual(0, false)).toBe(false);
    expect(fieldValuesEqual("", 0)).toBe(false);
    expect(fieldValuesEqual(null, null)).toBe(true);
  });
});
