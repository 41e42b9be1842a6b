/**
 * The behaviour every exchange type shares (src/routing/exchange-type.ts), run once per type
 * registered in src/routing/registry.ts with that type's specimen (test/routing/specimens.ts).
 * What only one type does (topic wildcards, headers matching) lives in that type's own file.
 */
import { describe, expect, it } from "vitest";
import {
  EXCHANGE_TYPE_NAMES,
  type ExchangeType,
  type RoutableMessage,
  type RoutingIndex,
} from "../../src/routing/exchange-type";
import { exchangeTypes, getExchangeType, isExchangeTypeName } from "../../src/routing/registry";
import { compileOrFail } from "./helpers";
import { type Binding, SPECIMEN_LIST, SPECIMENS } from "./specimens";

function bind(
  type: ExchangeType,
  bindings: readonly (readonly [id: string, binding: Binding])[],
): RoutingIndex<unknown> {
  const index = type.createIndex();
  for (const [id, { key, args }] of bindings) index.add(id, compileOrFail(type, key, args));
  return index;
}

function route(index: RoutingIndex<unknown>, message: RoutableMessage): string[] {
  const out = new Set<string>();
  index.match(message, out);
  return [...out].sort();
}

describe("the exchange type registry", () => {
  it("has a specimen for every exchange type there is", () => {
    expect(Object.keys(SPECIMENS).sort()).toEqual([...EXCHANGE_TYPE_NAMES].sort());
    expect(Object.keys(exchangeTypes).sort()).toEqual([...EXCHANGE_TYPE_NAMES].sort());
  });

  it("knows nothing of unsupported types, names in other cases, or Object.prototype keys", () => {
    for (const name of [
      "x-consistent-hash",
      "Direct",
      "",
      "toString",
      "constructor",
      "__proto__",
    ]) {
      expect(getExchangeType(name)).toBeUndefined();
      expect(isExchangeTypeName(name)).toBe(false);
    }
  });
});

describe.each(SPECIMEN_LIST)("the %s exchange type", (name, specimen) => {
  const type = exchangeTypes[name];
  const { binding, routes, misses } = specimen;

  it("is registered under its own name", () => {
    expect(getExchangeType(name)).toBe(type);
    expect(isExchangeTypeName(name)).toBe(true);
    expect(type.name).toBe(name);
  });

  it("routes nothing from an index without bindings", () => {
    const index = type.createIndex();
    expect(route(index, routes)).toEqual([]);
    expect(index.size).toBe(0);
  });

  it("routes a message its binding matches, and not one it does not", () => {
    const index = bind(type, [["q", binding]]);
    expect(route(index, routes)).toEqual(["q"]);
    if (misses) expect(route(index, misses.message)).toEqual([]);
  });

  it("routes to every id bound with the same binding, each once", () => {
    const index = bind(type, [
      ["q1", binding],
      ["q2", binding],
      ["q3", binding],
    ]);
    expect(route(index, routes)).toEqual(["q1", "q2", "q3"]);
    expect(index.size).toBe(3);
  });

  it("routes through one compiled binding added under several ids", () => {
    const compiled = compileOrFail(type, binding.key, binding.args);
    const index = type.createIndex();
    index.add("a", compiled);
    index.add("b", compiled);
    expect(route(index, routes)).toEqual(["a", "b"]);
  });

  it("stops routing to a removed binding and keeps the others", () => {
    const index = bind(type, [
      ["q1", binding],
      ["q2", binding],
    ]);
    index.remove("q1");
    expect(route(index, routes)).toEqual(["q2"]);
    expect(index.size).toBe(1);
    index.remove("q2");
    expect(route(index, routes)).toEqual([]);
    expect(index.size).toBe(0);
  });

  it("treats removing an id it does not hold as a no-op", () => {
    const index = bind(type, [["q", binding]]);
    index.remove("never-bound");
    index.remove("toString");
    expect(route(index, routes)).toEqual(["q"]);
    expect(index.size).toBe(1);
  });

  it("takes a binding back after it was removed", () => {
    const index = bind(type, [["q", binding]]);
    index.remove("q");
    index.add("q", compileOrFail(type, binding.key, binding.args));
    expect(route(index, routes)).toEqual(["q"]);
    expect(index.size).toBe(1);
  });

  it("rebinds an id that is added again instead of duplicating it", () => {
    const index = bind(type, [["q", binding]]);
    const replacement = misses?.binding ?? binding;
    index.add("q", compileOrFail(type, replacement.key, replacement.args));
    expect(index.size).toBe(1);
    if (misses) {
      expect(route(index, routes)).toEqual([]);
      expect(route(index, misses.message)).toEqual(["q"]);
    } else {
      expect(route(index, routes)).toEqual(["q"]);
    }
  });

  it("adds to the result set it is given without clearing it", () => {
    const index = bind(type, [["q", binding]]);
    const out = new Set(["already"]);
    index.match(routes, out);
    expect([...out].sort()).toEqual(["already", "q"]);
  });

  it("keeps no state from routing: the same answer and size after many messages", () => {
    const index = bind(type, [["q", binding]]);
    for (let i = 0; i < 500; i++) {
      route(index, { routingKey: `unbound.${i}.key`, headers: { [`h${i}`]: i } });
    }
    expect(index.size).toBe(1);
    expect(route(index, routes)).toEqual(["q"]);
    if (misses) expect(route(index, misses.message)).toEqual([]);
  });

  it("keeps its indexes apart: a binding in one is not in another", () => {
    const first = bind(type, [["q", binding]]);
    const second = type.createIndex();
    expect(route(second, routes)).toEqual([]);
    second.add("other", compileOrFail(type, binding.key, binding.args));
    expect(route(first, routes)).toEqual(["q"]);
    expect(route(second, routes)).toEqual(["other"]);
  });

  it("answers odd binding arguments with a verdict, never an exception", () => {
    const odd: Record<string, unknown>[] = [
      {},
      { "x-match": 5 },
      { "x-match": null },
      { nested: { deep: [1, { a: null }] } },
      { "": "" },
      { ["__proto__"]: "x" },
    ];
    for (const args of odd) {
      for (const key of ["", "#", "a.*.b", "\u00e9t\u00e9"]) {
        const result = type.compile(key, args);
        if (!result.ok) expect(result.reason).not.toBe("");
      }
    }
  });

  const invalid = specimen.invalid;
  if (invalid) {
    it("refuses an invalid binding with a reason", () => {
      const result = type.compile(invalid.key, invalid.args);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
    });
  }
});
