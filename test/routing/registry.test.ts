import { describe, expect, it } from "vitest";
import { EXCHANGE_TYPE_NAMES } from "../../src/routing/exchange-type";
import { exchangeTypes, getExchangeType, isExchangeTypeName } from "../../src/routing/registry";

describe("exchange type registry", () => {
  it.each(EXCHANGE_TYPE_NAMES)("registers the %s type under its own name", (name) => {
    expect(exchangeTypes[name].name).toBe(name);
    expect(getExchangeType(name)).toBe(exchangeTypes[name]);
    expect(isExchangeTypeName(name)).toBe(true);
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
