/**
 * The pure half of the x-delayed-message type (src/routing/delayed.ts): how x-delay is read,
 * which x-delayed-type is accepted and how a released message's headers look, each as the
 * rabbitmq-delayed-message-exchange plugin's source does it (rabbit_delayed_message_utils,
 * rabbit_exchange_type_delayed_message).
 */
import { describe, expect, it } from "vitest";
import {
  DECLARABLE_EXCHANGE_TYPES,
  delayedTypeProblem,
  delayOf,
  isDeclarableType,
  LATEST_RELEASE_AT,
  releasedHeaders,
  releaseTime,
  routingTypeName,
} from "../../src/routing/delayed";
import { EXCHANGE_TYPE_NAMES } from "../../src/routing/exchange-type";
import { exchangeTypes, routingTypeOf } from "../../src/routing/registry";

describe("reading x-delay", () => {
  it.each([
    ["an integer", 1500, 1500],
    ["a decimal, truncated", 1500.9, 1500],
    ["a string of digits", "1500", 1500],
    ["a signed string", "+20", 20],
    ["more than the plugin's 2^32-1 ms", 2 ** 33, 2 ** 33],
  ])("holds a message whose x-delay is %s", (_, value, delay) => {
    expect(delayOf({ "x-delay": value })).toBe(delay);
  });

  it.each([
    ["absent", undefined],
    ["zero", 0],
    ["negative", -100],
    ["a negative string", "-5"],
    ["below one millisecond", 0.7],
    ["a word", "soon"],
    ["a boolean", true],
    ["a table", { ms: 5 }],
    ["not finite", Number.POSITIVE_INFINITY],
  ])("routes at once a message whose x-delay is %s", (_, value) => {
    expect(delayOf(value === undefined ? {} : { "x-delay": value })).toBe(0);
  });

  it("routes at once a message without headers", () => {
    expect(delayOf(undefined)).toBe(0);
  });

  it("never schedules past the latest time a Date holds", () => {
    expect(releaseTime(1000, 250)).toBe(1250);
    expect(releaseTime(Date.now(), Number.MAX_SAFE_INTEGER)).toBe(LATEST_RELEASE_AT);
  });
});

describe("a released message's headers", () => {
  it("carry x-delay negated, the other headers as they were", () => {
    expect(releasedHeaders({ "x-delay": 300, trace: "a" })).toEqual({
      "x-delay": -300,
      trace: "a",
    });
  });

  it("are routed at once by a delayed exchange they reach next", () => {
    expect(delayOf(releasedHeaders({ "x-delay": "300" }))).toBe(0);
  });
});

describe("x-delayed-type", () => {
  it.each(EXCHANGE_TYPE_NAMES)("accepts %s and routes by it", (type) => {
    const declaration = {
      type: "x-delayed-message",
      arguments: { "x-delayed-type": type },
    } as const;
    expect(delayedTypeProblem(declaration.arguments)).toBeNull();
    expect(routingTypeName(declaration)).toBe(type);
    expect(routingTypeOf(declaration)).toBe(exchangeTypes[type]);
  });

  it("refuses a missing, non-string, recursive or unknown type with the plugin's reasons", () => {
    const mustExist =
      "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type";
    expect(delayedTypeProblem({})).toBe(mustExist);
    expect(delayedTypeProblem({ "x-delayed-type": ["direct"] })).toBe(mustExist);
    expect(delayedTypeProblem({ "x-delayed-type": "x-delayed-message" })).toBe(
      "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'",
    );
    expect(delayedTypeProblem({ "x-delayed-type": "Direct" })).toBe(
      "unknown exchange type 'Direct'",
    );
  });

  it("leaves the routing types routing by themselves", () => {
    for (const type of EXCHANGE_TYPE_NAMES) {
      expect(routingTypeName({ type, arguments: { "x-delayed-type": "fanout" } })).toBe(type);
    }
  });

  it("makes x-delayed-message declarable, and nothing else new", () => {
    expect(DECLARABLE_EXCHANGE_TYPES).toEqual([...EXCHANGE_TYPE_NAMES, "x-delayed-message"]);
    for (const name of ["x-consistent-hash", "toString", "__proto__", ""]) {
      expect(isDeclarableType(name)).toBe(false);
    }
  });
});
