/**
 * The permission matrix: each HTTP operation against RabbitMQ's access-control table, with the
 * one permission it needs granted (allowed) and withheld (403).
 */
import { describe, expect, it } from "vitest";
import { call, createUser, createVhost, grant, seg, status } from "../support/access";

type Grant = { configure: string; write: string; read: string };
const ALL: Grant = { configure: ".*", write: ".*", read: ".*" };

/** A vhost with one exchange and one queue, and a user whose permissions the test sets. */
async function world(prefix: string, permissions: Grant) {
  const vhost = `${prefix}-vh`;
  await createVhost(vhost);
  const v = seg(vhost);
  expect(
    await status(await call("PUT", `/api/exchanges/${v}/ex`, { body: { type: "topic" } })),
  ).toBe(201);
  expect(await status(await call("PUT", `/api/queues/${v}/q`, { body: {} }))).toBe(201);
  const auth = await createUser(`${prefix}-user`, "pw");
  await grant(vhost, `${prefix}-user`, permissions.configure, permissions.write, permissions.read);
  return { v, auth };
}

const publishBody = { properties: {}, routing_key: "q", payload: "m", payload_encoding: "string" };
const getBody = { count: 1, ackmode: "ack_requeue_true", encoding: "auto" };

const OPERATIONS: {
  name: string;
  needs: (keyof Grant)[];
  run: (v: string, auth: string) => Promise<Response>;
  ok: number;
}[] = [
  {
    name: "declare an exchange",
    needs: ["configure"],
    run: (v, auth) => call("PUT", `/api/exchanges/${v}/ex2`, { auth, body: { type: "direct" } }),
    ok: 201,
  },
  {
    name: "delete an exchange",
    needs: ["configure"],
    run: (v, auth) => call("DELETE", `/api/exchanges/${v}/ex`, { auth }),
    ok: 204,
  },
  {
    name: "declare a queue",
    needs: ["configure"],
    run: (v, auth) => call("PUT", `/api/queues/${v}/q2`, { auth, body: {} }),
    ok: 201,
  },
  {
    name: "delete a queue",
    needs: ["configure"],
    run: (v, auth) => call("DELETE", `/api/queues/${v}/q`, { auth }),
    ok: 204,
  },
  {
    name: "bind a queue (write on the queue, read on the exchange)",
    needs: ["write", "read"],
    run: (v, auth) =>
      call("POST", `/api/bindings/${v}/e/ex/q/q`, { auth, body: { routing_key: "k" } }),
    ok: 201,
  },
  {
    name: "publish (write on the exchange)",
    needs: ["write"],
    run: (v, auth) => call("POST", `/api/exchanges/${v}/ex/publish`, { auth, body: publishBody }),
    ok: 200,
  },
  {
    name: "publish to the default exchange (write on amq.default)",
    needs: ["write"],
    run: (v, auth) =>
      call("POST", `/api/exchanges/${v}/amq.default/publish`, { auth, body: publishBody }),
    ok: 200,
  },
  {
    name: "get (read on the queue)",
    needs: ["read"],
    run: (v, auth) => call("POST", `/api/queues/${v}/q/get`, { auth, body: getBody }),
    ok: 200,
  },
  {
    name: "purge (read on the queue)",
    needs: ["read"],
    run: (v, auth) => call("DELETE", `/api/queues/${v}/q/contents`, { auth }),
    ok: 204,
  },
];

describe("the permission matrix", () => {
  let n = 0;
  for (const operation of OPERATIONS) {
    it(`allows '${operation.name}' with ${operation.needs.join(" and ")} granted`, async () => {
      const { v, auth } = await world(`pm-ok-${n++}`, ALL);
      expect(await status(await operation.run(v, auth))).toBe(operation.ok);
    });
    for (const withheld of operation.needs) {
      it(`refuses '${operation.name}' with 403 when ${withheld} is withheld`, async () => {
        const { v, auth } = await world(`pm-no-${n++}`, { ...ALL, [withheld]: "^$" });
        const response = await operation.run(v, auth);
        expect(response.status).toBe(403);
        const body = (await response.json()) as { error: string; reason: string };
        expect(body.error).toBe("access_refused");
        expect(body.reason).toContain(withheld);
      });
    }
  }

  it("binds exchange to exchange with write on the destination and read on the source", async () => {
    const { v, auth } = await world("pm-e2e", { configure: ".*", write: "^dest$", read: "^ex$" });
    await call("PUT", `/api/exchanges/${v}/dest`, { body: { type: "fanout" } });
    await call("PUT", `/api/exchanges/${v}/other`, { body: { type: "fanout" } });
    expect(
      await status(await call("POST", `/api/bindings/${v}/e/ex/e/dest`, { auth, body: {} })),
    ).toBe(201);
    expect(
      await status(await call("POST", `/api/bindings/${v}/e/dest/e/ex`, { auth, body: {} })),
    ).toBe(403);
    expect(
      await status(await call("POST", `/api/bindings/${v}/e/ex/e/other`, { auth, body: {} })),
    ).toBe(403);
  });

  it("needs write on the dead-letter exchange to declare a queue with one", async () => {
    const { v, auth } = await world("pm-dlx", { configure: ".*", write: "^$", read: ".*" });
    const body = { arguments: { "x-dead-letter-exchange": "dlx" } };
    expect(await status(await call("PUT", `/api/queues/${v}/dq`, { auth, body }))).toBe(403);
    await grant("pm-dlx-vh", "pm-dlx-user", ".*", "^dlx$", ".*");
    expect(await status(await call("PUT", `/api/queues/${v}/dq`, { auth, body }))).toBe(201);
  });

  it("grants by name: a regex for one name does not cover another", async () => {
    const { v, auth } = await world("pm-names", { configure: "^app\\.", write: ".*", read: ".*" });
    expect(await status(await call("PUT", `/api/queues/${v}/app.q`, { auth, body: {} }))).toBe(201);
    expect(
      await status(await call("PUT", `/api/queues/${v}/other.app.q`, { auth, body: {} })),
    ).toBe(403);
  });

  it("refuses forged user_id properties", async () => {
    const { v, auth } = await world("pm-uid", ALL);
    const body = { ...publishBody, properties: { user_id: "someone-else" } };
    const response = await call("POST", `/api/exchanges/${v}/amq.default/publish`, { auth, body });
    expect(response.status).toBe(400);
    const own = { ...publishBody, properties: { user_id: "pm-uid-user" } };
    expect(
      await status(
        await call("POST", `/api/exchanges/${v}/amq.default/publish`, { auth, body: own }),
      ),
    ).toBe(200);
  });

  it("gives an administrator without permissions in a vhost no right to use it", async () => {
    await createVhost("pm-admin-vh");
    const admin = await createUser("pm-admin", "pw", "administrator");
    const response = await call("PUT", "/api/queues/pm-admin-vh/q", { auth: admin, body: {} });
    expect(response.status).toBe(403);
    expect(await status(await call("GET", "/api/queues/pm-admin-vh", { auth: admin }))).toBe(200);
  });
});

describe("topic permissions", () => {
  async function topicWorld(prefix: string) {
    const { v, auth } = await world(prefix, ALL);
    const user = `${prefix}-user`;
    const put = await call("PUT", `/api/topic-permissions/${v}/${user}`, {
      body: { exchange: "ex", write: "^orders\\.", read: "^orders\\.eu\\." },
    });
    expect(put.status).toBe(201);
    return { v, auth };
  }

  it("restrict publishing on a topic exchange by routing key", async () => {
    const { v, auth } = await topicWorld("tp-pub");
    const body = (routing_key: string) => ({ ...publishBody, routing_key });
    expect(
      await status(
        await call("POST", `/api/exchanges/${v}/ex/publish`, { auth, body: body("orders.new") }),
      ),
    ).toBe(200);
    expect(
      await status(
        await call("POST", `/api/exchanges/${v}/ex/publish`, { auth, body: body("billing.new") }),
      ),
    ).toBe(403);
    expect(
      await status(
        await call("POST", `/api/exchanges/${v}/ex/publish`, { auth, body: body("x.orders.new") }),
      ),
    ).toBe(403);
  });

  it("restrict binding keys on a topic exchange with the read regex", async () => {
    const { v, auth } = await topicWorld("tp-bind");
    expect(
      await status(
        await call("POST", `/api/bindings/${v}/e/ex/q/q`, {
          auth,
          body: { routing_key: "orders.eu.#" },
        }),
      ),
    ).toBe(201);
    expect(
      await status(
        await call("POST", `/api/bindings/${v}/e/ex/q/q`, {
          auth,
          body: { routing_key: "orders.#" },
        }),
      ),
    ).toBe(403);
  });

  it("do not apply to exchanges of other types or to other exchanges", async () => {
    const { v, auth } = await topicWorld("tp-other");
    await call("PUT", `/api/exchanges/${v}/ex2`, { body: { type: "topic" } });
    const body = { ...publishBody, routing_key: "billing.new" };
    expect(
      await status(await call("POST", `/api/exchanges/${v}/ex2/publish`, { auth, body })),
    ).toBe(200);
    await call("PUT", "/api/topic-permissions/tp-other-vh/tp-other-user", {
      body: { exchange: "amq.direct", write: "^$", read: "^$" },
    });
    expect(
      await status(await call("POST", `/api/exchanges/${v}/amq.direct/publish`, { auth, body })),
    ).toBe(200);
  });

  it("are listed, read and deleted by administrators", async () => {
    const { v } = await topicWorld("tp-admin");
    const listed = (await (
      await call("GET", `/api/topic-permissions/${v}/tp-admin-user`)
    ).json()) as unknown[];
    expect(listed).toEqual([
      {
        user: "tp-admin-user",
        vhost: "tp-admin-vh",
        exchange: "ex",
        write: "^orders\\.",
        read: "^orders\\.eu\\.",
      },
    ]);
    expect(await status(await call("DELETE", `/api/topic-permissions/${v}/tp-admin-user`))).toBe(
      204,
    );
    expect(await status(await call("GET", `/api/topic-permissions/${v}/tp-admin-user`))).toBe(404);
  });
});

describe("permissions API", () => {
  it("stores, reads and deletes a user's permissions in a vhost", async () => {
    await createVhost("pa-vh");
    await createUser("pa-user", "pw");
    const put = await call("PUT", "/api/permissions/pa-vh/pa-user", {
      body: { configure: "^a$", write: ".*", read: "" },
    });
    expect(put.status).toBe(201);
    expect(await (await call("GET", "/api/permissions/pa-vh/pa-user")).json()).toEqual({
      user: "pa-user",
      vhost: "pa-vh",
      configure: "^a$",
      write: ".*",
      read: "",
    });
    const inVhost = (await (await call("GET", "/api/vhosts/pa-vh/permissions")).json()) as {
      user: string;
    }[];
    expect(inVhost.map((p) => p.user)).toContain("pa-user");
    expect(await status(await call("DELETE", "/api/permissions/pa-vh/pa-user"))).toBe(204);
    expect(await status(await call("GET", "/api/permissions/pa-vh/pa-user"))).toBe(404);
  });

  it("refuses missing regexes, invalid regexes, unknown users and unknown vhosts", async () => {
    await createVhost("pa-bad");
    await createUser("pa-bad-user", "pw");
    const path = "/api/permissions/pa-bad/pa-bad-user";
    expect(await status(await call("PUT", path, { body: { configure: ".*", write: ".*" } }))).toBe(
      400,
    );
    expect(
      await status(await call("PUT", path, { body: { configure: "(", write: ".*", read: ".*" } })),
    ).toBe(400);
    expect(
      await status(
        await call("PUT", path, { body: { configure: "(a)\\1", write: ".*", read: ".*" } }),
      ),
    ).toBe(400);
    const body = { configure: ".*", write: ".*", read: ".*" };
    expect(await status(await call("PUT", "/api/permissions/pa-bad/nobody", { body }))).toBe(400);
    expect(
      await status(await call("PUT", "/api/permissions/no-such-vhost/pa-bad-user", { body })),
    ).toBe(404);
  });

  it("takes a revoked permission away at once", async () => {
    await createVhost("pa-revoke");
    const auth = await createUser("pa-revoke-user", "pw");
    await grant("pa-revoke", "pa-revoke-user");
    expect(await status(await call("PUT", "/api/queues/pa-revoke/q1", { auth, body: {} }))).toBe(
      201,
    );
    await grant("pa-revoke", "pa-revoke-user", "^$", ".*", ".*");
    expect(await status(await call("PUT", "/api/queues/pa-revoke/q2", { auth, body: {} }))).toBe(
      403,
    );
    await call("DELETE", "/api/permissions/pa-revoke/pa-revoke-user");
    expect(await status(await call("GET", "/api/aliveness-test/pa-revoke", { auth }))).toBe(403);
  });

  it("is for administrators only", async () => {
    const auth = await createUser("pa-mgmt", "pw", "management");
    expect(await status(await call("GET", "/api/permissions", { auth }))).toBe(403);
    expect(
      await status(
        await call("PUT", "/api/permissions/%2F/pa-mgmt", {
          auth,
          body: { configure: ".*", write: ".*", read: ".*" },
        }),
      ),
    ).toBe(403);
  });
});
