import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { currentAccess } from "../../src/gateway/access-cache";
import { registryStub } from "../../src/gateway/stubs";
import { digestOf, issueTicket, redeemTicket } from "../../src/gateway/tickets";
import { basic, call, createUser, createVhost, grant, status } from "../support/access";

describe("credentials", () => {
  it("answers the aliveness test: 200 with access, 401 wrong password, 403 without access", async () => {
    await createVhost("sec-alive");
    const auth = await createUser("sec-alive-user", "right");
    await grant("sec-alive", "sec-alive-user");
    const ok = await call("GET", "/api/aliveness-test/sec-alive", { auth });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "ok" });
    const wrong = basic("sec-alive-user", "wrong");
    expect(await status(await call("GET", "/api/aliveness-test/sec-alive", { auth: wrong }))).toBe(
      401,
    );
    expect(await status(await call("GET", "/api/aliveness-test/%2F", { auth }))).toBe(403);
  });

  it("refuses no credentials, a wrong password and an unknown user alike with 401", async () => {
    for (const auth of [null, basic("guest", "nope"), basic("sec-nobody", "guest"), "Basic %%%"]) {
      const response = await call("GET", "/api/aliveness-test/%2F", { auth });
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toContain("Basic");
    }
  });

  it("throttles failed logins per user name with 429 and Retry-After, then lets the owner in", async () => {
    const auth = await createUser("sec-throttled", "right");
    const wrong = basic("sec-throttled", "wrong");
    for (let i = 0; i < 6; i++) {
      expect(await status(await call("GET", "/api/whoami", { auth: wrong }))).toBe(401);
    }
    const blocked = await call("GET", "/api/whoami", { auth });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThanOrEqual(1);
    expect(((await blocked.json()) as { error: string }).error).toBe("too_many_requests");
    // Another name is not affected.
    expect(await status(await call("GET", "/api/whoami"))).toBe(200);
    // The throttle's one-second window must pass: a real deadline.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await status(await call("GET", "/api/whoami", { auth }))).toBe(200);
    // A success clears the count: one more failure does not block again.
    expect(await status(await call("GET", "/api/whoami", { auth: wrong }))).toBe(401);
    expect(
      await status(await call("GET", "/api/whoami", { auth: basic("sec-throttled", "right") })),
    ).toBe(200);
  });

  it("keeps a valid user out of a vhost it has no permissions in", async () => {
    await createVhost("sec-other");
    await call("PUT", "/api/queues/sec-other/secret", { body: {} });
    const auth = await createUser("sec-outsider", "pw", "management");
    for (const [method, path] of [
      ["GET", "/api/queues/sec-other/secret"],
      ["PUT", "/api/queues/sec-other/mine"],
      ["POST", "/api/queues/sec-other/secret/get"],
      ["DELETE", "/api/queues/sec-other/secret"],
      ["GET", "/api/exchanges/sec-other"],
    ] as const) {
      const body =
        method === "GET" || method === "DELETE"
          ? undefined
          : { count: 1, ackmode: "ack_requeue_true", encoding: "auto" };
      expect(await status(await call(method, path, { auth, body })), `${method} ${path}`).toBe(403);
    }
  });
});

describe("path tricks", () => {
  it("does not let encoded slashes or dot segments reach another vhost", async () => {
    await createVhost("sec-path");
    await call("PUT", "/api/queues/sec-path/q", { body: {} });
    const auth = await createUser("sec-path-user", "pw", "management");
    await grant("sec-path", "sec-path-user");
    for (const path of [
      "/api/queues/sec-path/..%2F..%2Fqueues%2Fsec-other/q",
      "/api/queues/sec-path/../%2F/q",
      "/api/queues/sec-path/%2E%2E/%2F",
      "/api/queues/%2F..%2Fsec-path/q",
      "/api/queues/sec-path%2F..%2F%2F/q",
    ]) {
      const response = await call("GET", path, { auth });
      expect([400, 403, 404], path).toContain(response.status);
    }
    expect(await status(await call("GET", "/api/queues/sec-path/q", { auth }))).toBe(200);
  });

  it("treats an encoded slash as part of a name, never as a separator", async () => {
    await createVhost("sec/slash");
    expect(await status(await call("PUT", "/api/queues/sec%2Fslash/a%2Fb", { body: {} }))).toBe(
      201,
    );
    const got = (await (await call("GET", "/api/queues/sec%2Fslash/a%2Fb")).json()) as {
      name: string;
      vhost: string;
    };
    expect(got).toMatchObject({ name: "a/b", vhost: "sec/slash" });
  });

  it("refuses over-long names without a 500", async () => {
    const long = "n".repeat(256);
    expect(await status(await call("PUT", `/api/vhosts/${long}`, { body: {} }))).toBe(400);
    expect(await status(await call("PUT", `/api/users/${long}`, { body: { password: "x" } }))).toBe(
      400,
    );
    expect(await status(await call("GET", `/api/queues/${long}`))).toBe(404);
    expect(await status(await call("PUT", `/api/queues/%2F/${long}`, { body: {} }))).toBe(400);
    const longAuth = basic("u".repeat(5000), "pw");
    expect(await status(await call("GET", "/api/whoami", { auth: longAuth }))).toBe(401);
  });
});

describe("connection tickets", () => {
  it("are issued for a vhost the user can use and redeemed once", async () => {
    await createVhost("tk-vh");
    const auth = await createUser("tk-user", "pw");
    await grant("tk-vh", "tk-user");
    const response = await call("POST", "/api/tickets", { auth, body: { vhost: "tk-vh" } });
    expect(response.status).toBe(201);
    const { ticket, expires_in } = (await response.json()) as {
      ticket: string;
      expires_in: number;
    };
    expect(expires_in).toBeGreaterThan(0);
    expect(expires_in).toBeLessThanOrEqual(30);
    const redeemed = await redeemTicket(env, ticket, "tk-vh");
    expect(redeemed.ok && redeemed.access.name).toBe("tk-user");
    const again = await redeemTicket(env, ticket, "tk-vh");
    expect(again.ok ? "redeemed twice" : again.code).toBe("not_authorized");
  });

  it("refuse a ticket presented for another vhost, and spend it", async () => {
    await createVhost("tk-a");
    await createVhost("tk-b");
    await createUser("tk-both", "pw");
    await grant("tk-a", "tk-both");
    await grant("tk-b", "tk-both");
    const issued = await issueTicket(env, "tk-both", "tk-a");
    if (!issued.ok) throw new Error(issued.reason);
    const wrong = await redeemTicket(env, issued.ticket, "tk-b");
    expect(wrong.ok ? "accepted" : wrong.code).toBe("access_refused");
    const after = await redeemTicket(env, issued.ticket, "tk-a");
    expect(after.ok ? "accepted" : after.code).toBe("not_authorized");
  });

  it("refuse an expired ticket and a malformed one", async () => {
    await createVhost("tk-exp");
    await createUser("tk-exp-user", "pw");
    await grant("tk-exp", "tk-exp-user");
    const ticket = "e".repeat(43);
    await registryStub(env).issueTicket(
      await digestOf(ticket),
      "tk-exp-user",
      "tk-exp",
      Date.now() - 1,
    );
    const expired = await redeemTicket(env, ticket, "tk-exp");
    expect(expired.ok ? "accepted" : expired.reason).toContain("expired");
    const malformed = await redeemTicket(env, "../../etc", "tk-exp");
    expect(malformed.ok ? "accepted" : malformed.code).toBe("not_authorized");
  });

  it("are not issued for a vhost without access, and die with their user", async () => {
    await createVhost("tk-deny");
    const auth = await createUser("tk-doomed", "pw");
    expect(
      await status(await call("POST", "/api/tickets", { auth, body: { vhost: "tk-deny" } })),
    ).toBe(403);
    expect(
      await status(await call("POST", "/api/tickets", { auth, body: { vhost: "tk-none" } })),
    ).toBe(404);
    await grant("tk-deny", "tk-doomed");
    const issued = await issueTicket(env, "tk-doomed", "tk-deny");
    if (!issued.ok) throw new Error(issued.reason);
    await call("DELETE", "/api/users/tk-doomed");
    const redeemed = await redeemTicket(env, issued.ticket, "tk-deny");
    expect(redeemed.ok).toBe(false);
    // The per-frame hook a WebSocket uses answers null once the user is gone.
    expect(await currentAccess(env, "tk-doomed")).toBeNull();
  });

  it("report the vhost's max-connections to the upgrade", async () => {
    await createVhost("tk-lim");
    await createUser("tk-lim-user", "pw");
    await grant("tk-lim", "tk-lim-user");
    await call("PUT", "/api/vhost-limits/tk-lim/max-connections", { body: { value: 3 } });
    const issued = await issueTicket(env, "tk-lim-user", "tk-lim");
    if (!issued.ok) throw new Error(issued.reason);
    const redeemed = await redeemTicket(env, issued.ticket, "tk-lim");
    expect(redeemed.ok && redeemed.maxConnections).toBe(3);
  });
});
