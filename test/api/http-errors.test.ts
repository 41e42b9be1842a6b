import { describe, expect, it } from "vitest";
import { call, expectError, json } from "../support/api";

describe("authentication", () => {
  it("refuses a request without credentials with 401 and a Basic challenge", async () => {
    const response = await call("GET", "/api/overview", { auth: null });
    expect(response.headers.get("WWW-Authenticate")).toContain("Basic");
    expect(await expectError(response, 401, "not_authorized")).toEqual({
      error: "not_authorized",
      reason: "Login failed",
    });
  });

  it("refuses a wrong password, a wrong user and a malformed header", async () => {
    for (const auth of [
      `Basic ${btoa("guest:wrong")}`,
      `Basic ${btoa("nobody:guest")}`,
      `Basic ${btoa("guestguest")}`,
      "Basic !!!",
      "Bearer token",
    ]) {
      await expectError(await call("GET", "/api/queues", { auth }), 401, "not_authorized");
    }
  });

  it("guards every API route, including writes", async () => {
    const unauthenticated = [
      ["PUT", "/api/exchanges/%2F/auth.x"],
      ["PUT", "/api/queues/%2F/auth.q"],
      ["POST", "/api/exchanges/%2F/amq.default/publish"],
      ["POST", "/api/queues/%2F/auth.q/get"],
      ["DELETE", "/api/queues/%2F/auth.q"],
      ["GET", "/api/bindings"],
    ] as const;
    for (const [method, path] of unauthenticated) {
      const body = method === "GET" ? undefined : {};
      await expectError(await call(method, path, { auth: null, body }), 401);
    }
    await expectError(await call("GET", "/api/queues/%2F/auth.q"), 404);
  });

  it("answers the health check without credentials", async () => {
    const response = await call("GET", "/health", { auth: null });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok" });
  });

  it("tells who is logged in", async () => {
    expect(await json(await call("GET", "/api/whoami"))).toEqual({
      name: "guest",
      tags: ["administrator"],
    });
  });
});

describe("errors", () => {
  it("answers an unsupported method with 405 and an Allow header", async () => {
    const response = await call("PATCH", "/api/queues/%2F/err.q");
    expect(response.headers.get("Allow")).toBe("GET, PUT, DELETE, HEAD");
    await expectError(response, 405, "method_not_allowed");
    await expectError(await call("GET", "/api/exchanges/%2F/err.x/publish"), 405);
    await expectError(await call("POST", "/api/queues"), 405);
  });

  it("answers unknown paths with a JSON 404", async () => {
    await expectError(await call("GET", "/api/nothing/here"), 404, "Object Not Found");
    await expectError(await call("GET", "/nothing"), 404);
  });

  it("answers objects in an unknown vhost with 404", async () => {
    await expectError(await call("GET", "/api/exchanges/nope"), 404);
    await expectError(await call("GET", "/api/queues/nope"), 404);
    await expectError(await call("PUT", "/api/queues/nope/q", { body: {} }), 404);
    await expectError(
      await call("PUT", "/api/exchanges/nope/x", { body: { type: "direct" } }),
      404,
    );
    await expectError(await call("GET", "/api/vhosts/nope"), 404);
  });

  it("refuses a request body above the request limit with 413", async () => {
    const response = await call("PUT", "/api/queues/%2F/err.big", {
      raw: "{}",
      headers: { "Content-Length": String(64 * 1024 * 1024) },
    });
    await expectError(response, 413, "payload_too_large");
  });

  it("refuses a body that is JSON but not an object", async () => {
    await expectError(await call("PUT", "/api/queues/%2F/err.arr", { raw: "[]" }), 400);
    await expectError(await call("PUT", "/api/exchanges/%2F/err.str", { raw: '"topic"' }), 400);
  });
});

describe("overview", () => {
  it("reports versions, exchange types and totals", async () => {
    await call("PUT", "/api/queues/%2F/ov.q", { body: {} });
    const overview = await json<{
      exchange_types: { name: string }[];
      object_totals: { queues: number; exchanges: number };
      management_version: string;
    }>(await call("GET", "/api/overview"));
    expect(overview.exchange_types.map((t) => t.name)).toEqual([
      "direct",
      "fanout",
      "topic",
      "headers",
      "x-delayed-message",
    ]);
    expect(overview.object_totals.queues).toBeGreaterThanOrEqual(1);
    expect(overview.object_totals.exchanges).toBeGreaterThanOrEqual(6);
    expect(overview.management_version).toBeTruthy();
  });

  it("lists the default vhost", async () => {
    expect(await json(await call("GET", "/api/vhosts"))).toMatchObject([{ name: "/" }]);
    expect(await json(await call("GET", "/api/vhosts/%2F"))).toMatchObject({ name: "/" });
  });
});
