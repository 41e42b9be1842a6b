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

  it("refuse PCRE-only escapes that JavaScript would read as letters", () => {
    for (const source of ["\\Aorders\\z", "^orders\\Z", "\\Qa.b\\E", "\\p{L}+"]) {
      expect(checkPermissionRegex(source)?.code).toBe("bad_request");
      expect(permits(source, "orders")).toBe(false);
    }
  });

  it("refuse regexes that do not compile and ones that can backtrack without end", () => {
    expect(checkPermissionRegex("(unclosed")?.code).toBe("bad_request");
    expect(checkPermissionRegex("a++")?.code).toBe("bad_request");
    expect(checkPermissionRegex("(a+)+$")?.code).toBe("bad_request");
    expect(checkPermissionRegex("(a*)*b")?.code).toBe("bad_request");
    expect(checkPermissionRegex("^(a|b)+$")).toBeNull();
    expect(checkPermissionRegex("[(a+)+]")).toBeNull();
    expect(checkPermissionRegex("x".repeat(5000))?.code).toBe("bad_request");
  });

  it("expand {username} and {vhost} in topic regexes, escaped", () => {
    expect(expandTopicRegex("^{username}\\.", "a.*", "/")).toBe("^a\\.\\*\\.");
    expect(permits(expandTopicRegex("^{username}\\.", "a.*", "/"), "abc.x")).toBe(false);
    expect(permits(expandTopicRegex("^{username}\\.", "a.*", "/"), "a.*.x")).toBe(true);
  });
});
