import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rabbitSha256Hash } from "../../src/access/passwords";
import { registryStub } from "../../src/gateway/stubs";
import { basic, call, createUser, createVhost, grant, status } from "../support/access";
import { json } from "../support/api";

describe("users", () => {
  it("creates a user that can log in, and never shows its password or hash", async () => {
    const put = await call("PUT", "/api/users/us-alice", {
      body: { password: "wonderland", tags: "management" },
    });
    expect(put.status).toBe(201);
    const auth = basic("us-alice", "wonderland");
    expect(await json(await call("GET", "/api/whoami", { auth }))).toEqual({
      name: "us-alice",
      tags: ["management"],
    });
    for (const path of ["/api/users/us-alice", "/api/users", "/api/whoami", "/api/overview"]) {
      const text = await (await call("GET", path)).text();
      expect(text, path).not.toContain("password_hash");
      expect(text, path).not.toContain("wonderland");
      expect(text, path).not.toContain("pbkdf2");
    }
    expect(await json(await call("GET", "/api/users/us-alice"))).toEqual({
      name: "us-alice",
      tags: ["management"],
      limits: {},
    });
  });

  it("changes tags without changing the password, and the password on request", async () => {
    await createUser("us-bob", "first", "management");
    expect(
      await status(await call("PUT", "/api/users/us-bob", { body: { tags: "monitoring" } })),
    ).toBe(204);
    expect(
      await json(await call("GET", "/api/whoami", { auth: basic("us-bob", "first") })),
    ).toMatchObject({
      tags: ["monitoring"],
    });
    await call("PUT", "/api/users/us-bob", { body: { password: "second", tags: "monitoring" } });
    expect(await status(await call("GET", "/api/whoami", { auth: basic("us-bob", "first") }))).toBe(
      401,
    );
    expect(
      await status(await call("GET", "/api/whoami", { auth: basic("us-bob", "second") })),
    ).toBe(200);
  });

  it("accepts a RabbitMQ password hash and upgrades it to PBKDF2 at the first login", async () => {
    const hash = await rabbitSha256Hash("legacy", new Uint8Array([9, 8, 7, 6]));
    const put = await call("PUT", "/api/users/us-legacy", {
      body: { password_hash: hash, hashing_algorithm: "rabbit_password_hashing_sha256", tags: "" },
    });
    expect(put.status).toBe(201);
    expect(
      await status(await call("GET", "/api/whoami", { auth: basic("us-legacy", "legacy") })),
    ).toBe(200);
    const { users } = await registryStub(env)
      .listUsers()
      .then((r) => (r.ok ? r : { users: [] }));
    const stored = users.find((u) => u.name === "us-legacy");
    expect(stored?.hashing_algorithm).toBe("workers_broker_pbkdf2_sha256");
    expect(stored?.password_hash.startsWith("$pbkdf2-sha256$")).toBe(true);
    expect(
      await status(await call("GET", "/api/whoami", { auth: basic("us-legacy", "legacy") })),
    ).toBe(200);
  });

  it("refuses a new user without a password, both password and hash, and a bad hash", async () => {
    expect(await status(await call("PUT", "/api/users/us-none", { body: { tags: "" } }))).toBe(400);
    expect(
      await status(
        await call("PUT", "/api/users/us-both", { body: { password: "a", password_hash: "b" } }),
      ),
    ).toBe(400);
    expect(
      await status(await call("PUT", "/api/users/us-badhash", { body: { password_hash: "%%%" } })),
    ).toBe(400);
    expect(
      await status(
        await call("PUT", "/api/users/us-md5", {
          body: { password_hash: "abc=", hashing_algorithm: "rabbit_password_hashing_md5" },
        }),
      ),
    ).toBe(400);
  });

  it("deletes a user: its logins and permissions end at once", async () => {
    await createVhost("us-del-vh");
    const auth = await createUser("us-gone", "pw");
    await grant("us-del-vh", "us-gone");
    expect(await status(await call("GET", "/api/aliveness-test/us-del-vh", { auth }))).toBe(200);
    expect(await status(await call("DELETE", "/api/users/us-gone"))).toBe(204);
    expect(await status(await call("GET", "/api/aliveness-test/us-del-vh", { auth }))).toBe(401);
    expect(await status(await call("GET", "/api/permissions/us-del-vh/us-gone"))).toBe(404);
    expect(await status(await call("DELETE", "/api/users/us-gone"))).toBe(404);
  });
});

describe("tags", () => {
  it("keep a user without tags out of the management API (401 Not management user)", async () => {
    await createVhost("tag-none-vh");
    const auth = await createUser("tag-none", "pw");
    await grant("tag-none-vh", "tag-none");
    for (const path of ["/api/overview", "/api/queues", "/api/vhosts", "/api/queues/tag-none-vh"]) {
      const response = await call("GET", path, { auth });
      expect(response.status, path).toBe(401);
      expect(((await response.json()) as { reason: string }).reason).toBe("Not management user");
    }
  });

  it("let a user without tags do what a client connection does in its vhost", async () => {
    await createVhost("tag-client-vh");
    const auth = await createUser("tag-client", "pw");
    await grant("tag-client-vh", "tag-client");
    const v = "tag-client-vh";
    expect(await status(await call("PUT", `/api/queues/${v}/q`, { auth, body: {} }))).toBe(201);
    const publish = { properties: {}, routing_key: "q", payload: "hi", payload_encoding: "string" };
    expect(
      await status(
        await call("POST", `/api/exchanges/${v}/amq.default/publish`, { auth, body: publish }),
      ),
    ).toBe(200);
    const got = await call("POST", `/api/queues/${v}/q/get`, {
      auth,
      body: { count: 1, ackmode: "ack_requeue_false", encoding: "auto" },
    });
    expect(got.status).toBe(200);
    expect(await status(await call("GET", "/api/whoami", { auth }))).toBe(200);
    expect(await status(await call("GET", `/api/aliveness-test/${v}`, { auth }))).toBe(200);
    // Passive declares and unbinds (the AMQP bridge): one object's record, one pair's bindings.
    expect(await status(await call("GET", `/api/queues/${v}/q`, { auth }))).toBe(200);
    expect(await status(await call("GET", `/api/exchanges/${v}/amq.direct`, { auth }))).toBe(200);
    expect(await status(await call("GET", `/api/bindings/${v}/e/amq.direct/q/q`, { auth }))).toBe(
      200,
    );
    expect(await status(await call("GET", `/api/queues/${v}`, { auth }))).toBe(401);
  });

  it("show a management user only the vhosts it has permissions in", async () => {
    await createVhost("tag-mine");
    await createVhost("tag-theirs");
    await call("PUT", "/api/queues/tag-mine/qm", { body: {} });
    await call("PUT", "/api/queues/tag-theirs/qt", { body: {} });
    const auth = await createUser("tag-mgmt", "pw", "management");
    await grant("tag-mine", "tag-mgmt");
    const vhosts = (await json<{ name: string }[]>(await call("GET", "/api/vhosts", { auth }))).map(
      (v) => v.name,
    );
    expect(vhosts).toEqual(["tag-mine"]);
    const queues = await json<{ name: string; vhost: string }[]>(
      await call("GET", "/api/queues", { auth }),
    );
    expect(queues.map((q) => q.vhost)).toEqual(["tag-mine"]);
    expect(await status(await call("GET", "/api/queues/tag-theirs", { auth }))).toBe(403);
    expect(await status(await call("GET", "/api/users", { auth }))).toBe(403);
  });

  it("let a monitoring user see every vhost but change nothing without permissions", async () => {
    await createVhost("tag-mon-vh");
    await call("PUT", "/api/queues/tag-mon-vh/q", { body: {} });
    const auth = await createUser("tag-mon", "pw", "monitoring");
    expect(await status(await call("GET", "/api/queues/tag-mon-vh/q", { auth }))).toBe(200);
    const vhosts = (await json<{ name: string }[]>(await call("GET", "/api/vhosts", { auth }))).map(
      (v) => v.name,
    );
    expect(vhosts).toContain("tag-mon-vh");
    expect(await status(await call("DELETE", "/api/queues/tag-mon-vh/q", { auth }))).toBe(403);
    expect(await status(await call("PUT", "/api/users/x", { auth, body: { password: "x" } }))).toBe(
      403,
    );
  });

  it("let only administrators manage users", async () => {
    const auth = await createUser("tag-notadmin", "pw", "management,policymaker");
    expect(
      await status(await call("PUT", "/api/users/tag-made", { auth, body: { password: "x" } })),
    ).toBe(403);
    expect(await status(await call("DELETE", "/api/users/guest", { auth }))).toBe(403);
    expect(await status(await call("GET", "/api/definitions", { auth }))).toBe(403);
  });
});
