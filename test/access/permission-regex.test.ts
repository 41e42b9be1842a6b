import { describe, expect, it } from "vitest";
import { checkPermissionRegex, expandTopicRegex, permits } from "../../src/access/permission-regex";

describe("permission regexes", () => {
  it("are unanchored, as RabbitMQ's re:run: '.*' grants all, '^a' a prefix, 'a' any name containing a", () => {
    expect(permits(".*", "anything")).toBe(true);
    expect(permits("^a", "abc")).toBe(true);
    expect(permits("^a", "bac")).toBe(false);
    expect(permits("a", "bac")).toBe(true);
  });

  it("do not match by prefix accident when anchored at both ends", () => {
    expect(permits("^orders$", "orders")).toBe(true);
    expect(permits("^orders$", "orders.archive")).toBe(false);
    expect(permits("^orders$", "x.orders")).toBe(false);
    expect(permits("^(orders|payments)$", "orders2")).toBe(false);
    expect(permits("^orders\\.", "orders.x")).toBe(true);
    expect(permits("^orders\\.", "ordersX")).toBe(false);
  });

  it("treat the empty regex as '^$' (nothing but the empty name), as RabbitMQ does", () => {
    expect(permits("", "orders")).toBe(false);
    expect(permits("", "")).toBe(true);
    expect(permits("^$", "amq.default")).toBe(false);
  });

  it("read PCRE's escapes as PCRE does (\\A, \\z, \\Q...\\E, \\p{L})", () => {
    expect(permits("\\Aorders\\z", "orders")).toBe(true);
    expect(permits("\\Aorders\\z", "x.orders")).toBe(false);
    expect(permits("^\\Qa.b\\E$", "a.b")).toBe(true);
    expect(permits("^\\Qa.b\\E$", "axb")).toBe(false);
    expect(permits("^\\p{L}+$", "orders")).toBe(true);
    expect(permits("^\\p{L}+$", "orders1")).toBe(false);
  });

  it("refuse regexes that do not compile, and the constructs a linear-time engine cannot run", () => {
    for (const source of ["(unclosed", "a++", "^orders\\Z", "(a)\\1", "^(?!amq\\.)", "(?<=a)b"]) {
      expect(checkPermissionRegex(source)?.code).toBe("bad_request");
      expect(permits(source, "orders")).toBe(false);
    }
    expect(checkPermissionRegex("x".repeat(5000))?.code).toBe("bad_request");
    expect(checkPermissionRegex("^(a|b)+$")).toBeNull();
  });

  it("match in linear time: a pattern that backtracks exponentially costs nothing", () => {
    const name = `${"a".repeat(250)}!`;
    const started = performance.now();
    for (const source of ["^(a+)+$", "(a|a)*b", "^(a|aa)+$", "(a*)*b"]) {
      expect(checkPermissionRegex(source)).toBeNull();
      expect(permits(source, name)).toBe(false);
    }
    // A backtracking engine needs longer than the universe's age for the first of these.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("expand {username} and {vhost} in topic regexes, escaped", () => {
    expect(expandTopicRegex("^{username}\\.", "a.*", "/")).toBe("^a\\.\\*\\.");
    expect(permits(expandTopicRegex("^{username}\\.", "a.*", "/"), "abc.x")).toBe(false);
    expect(permits(expandTopicRegex("^{username}\\.", "a.*", "/"), "a.*.x")).toBe(true);
  });
});
