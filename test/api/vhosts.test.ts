import { describe, expect, it } from "vitest";
import { call, createUser, createVhost, grant, seg, status } from "../support/access";
import { drain, json, publish } from "../support/api";

describe("virtual hosts", () => {
  it("creates a vhost with 201, answers 204 the second time and lists it", async () => {
    const put = await call("PUT", "/api/vhosts/vh-create", {
      body: { description: "orders app", tags: "prod,eu" },
    });
    expect(put.status).toBe(201);
    expect(await status(await call("PUT", "/api/vhosts/vh-create", { body: {} }))).toBe(204);
    expect(await json(await call("GET", "/api/vhosts/vh-create"))).toMatchObject({
      name: "vh-create",
      description: "",
      tags: [],
      default_queue_type: "classic",
    });
    const names = (await json<{ name: string }[]>(await call("GET", "/api/vhosts"))).map(
      (v) => v.name,
    );
    expect(names).toEqual(expect.arrayContaining(["/", "vh-create"]));
  });

  it("gives a new vhost its built-in exchanges and its creator full permissions", async () => {
    await createVhost("vh-builtins");
    const exchanges = await json<{ name: string }[]>(
      await call("GET", "/api/exchanges/vh-builtins"),
    );
    expect(exchanges.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        "",
        "amq.direct",
        "amq.fanout",
        "amq.topic",
        "amq.headers",
        "amq.match",
      ]),
    );
    expect(await json(await call("GET", "/api/permissions/vh-builtins/guest"))).toMatchObject({
      configure: ".*",
    });
  });

  it("keeps the same names in two vhosts apart", async () => {
    for (const vhost of ["vh-iso-a", "vh-iso-b"]) {
      await createVhost(vhost);
      await call("PUT", `/api/queues/${vhost}/orders`, { body: {} });
    }
    await publish("", "orders", "for a", { vhost: "vh-iso-a" });
    await publish("", "orders", "for b", { vhost: "vh-iso-b" });
    expect(await drain("orders", "vh-iso-a")).toEqual(["for a"]);
    expect(await drain("orders", "vh-iso-b")).toEqual(["for b"]);
  });

  it("deletes everything in a vhost, messages included, and nothing else", async () => {
    await createVhost("vh-del");
    await createVhost("vh-keep");
    for (const vhost of ["vh-del", "vh-keep"]) {
      await call("PUT", `/api/exchanges/${vhost}/x`, { body: { type: "fanout" } });
      await call("PUT", `/api/queues/${vhost}/q`, { body: {} });
      await call("POST", `/api/bindings/${vhost}/e/x/q/q`, { body: {} });
      await publish("x", "", "kept?", { vhost });
    }
    await createUser("vh-del-user", "pw");
    await grant("vh-del", "vh-del-user");
    await grant("vh-keep", "vh-del-user");
    expect(await status(await call("DELETE", "/api/vhosts/vh-del"))).toBe(204);

    expect(await status(await call("GET", "/api/vhosts/vh-del"))).toBe(404);
    expect(await status(await call("GET", "/api/queues/vh-del/q"))).toBe(404);
    expect(await status(await call("GET", "/api/permissions/vh-del/vh-del-user"))).toBe(404);
    expect(await status(await call("GET", "/api/permissions/vh-keep/vh-del-user"))).toBe(200);
    expect(await status(await call("GET", "/api/users/vh-del-user"))).toBe(200);
    expect(await drain("q", "vh-keep")).toEqual(["kept?"]);

    // Recreated under the same name, it starts empty: no queue, no message came back.
    await createVhost("vh-del");
    expect(await status(await call("GET", "/api/queues/vh-del/q"))).toBe(404);
    await call("PUT", "/api/queues/vh-del/q", { body: {} });
    expect(await drain("q", "vh-del")).toEqual([]);
  });

  it("can delete the default vhost, which then stays deleted", async () => {
    // Run in its own vhost-free corner: deleting "/" must not break other vhosts.
    await createVhost("vh-default-survivor");
    expect(await status(await call("DELETE", "/api/vhosts/%2F"))).toBe(204);
    expect(await status(await call("GET", "/api/queues/%2F"))).toBe(404);
    expect(await status(await call("PUT", "/api/queues/%2F/q", { body: {} }))).toBe(404);
    expect(await status(await call("GET", "/api/vhosts/vh-default-survivor"))).toBe(200);
    await createVhost("/");
    expect(await status(await call("PUT", "/api/queues/%2F/q", { body: {} }))).toBe(201);
  });

  it("answers 404 for an unknown vhost everywhere", async () => {
    for (const [method, path] of [
      ["GET", "/api/vhosts/vh-none"],
      ["DELETE", "/api/vhosts/vh-none"],
      ["GET", "/api/queues/vh-none"],
      ["PUT", "/api/queues/vh-none/q"],
      ["POST", "/api/exchanges/vh-none/amq.default/publish"],
      ["GET", "/api/aliveness-test/vh-none"],
      ["PUT", "/api/permissions/vh-none/guest"],
      ["PUT", "/api/vhost-limits/vh-none/max-queues"],
    ] as const) {
      const body = method === "GET" || method === "DELETE" ? undefined : {};
      expect(await status(await call(method, path, { body })), `${method} ${path}`).toBe(404);
    }
  });

  it("is managed by administrators only", async () => {
    const auth = await createUser("vh-mgmt", "pw", "management");
    expect(await status(await call("PUT", "/api/vhosts/vh-mgmt-made", { auth, body: {} }))).toBe(
      403,
    );
    expect(await status(await call("DELETE", `/api/vhosts/${seg("/")}`, { auth }))).toBe(403);
  });
});

describe("vhost limits", () => {
  it("enforces max-queues at declaration and lifts it when removed", async () => {
    await createVhost("vl-q");
    const put = await call("PUT", "/api/vhost-limits/vl-q/max-queues", { body: { value: 2 } });
    expect(put.status).toBe(204);
    expect(await status(await call("PUT", "/api/queues/vl-q/q1", { body: {} }))).toBe(201);
    expect(await status(await call("PUT", "/api/queues/vl-q/q2", { body: {} }))).toBe(201);
    const refused = await call("PUT", "/api/queues/vl-q/q3", { body: {} });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { reason: string }).reason).toContain("queue limit");
    expect(await status(await call("PUT", "/api/queues/vl-q/q1", { body: {} }))).toBe(204);
    expect(await json(await call("GET", "/api/vhost-limits/vl-q"))).toEqual([
      { vhost: "vl-q", value: { "max-queues": 2 } },
    ]);
    expect(await status(await call("DELETE", "/api/vhost-limits/vl-q/max-queues"))).toBe(204);
    expect(await status(await call("PUT", "/api/queues/vl-q/q3", { body: {} }))).toBe(201);
  });

  it("stores max-connections and refuses unknown limits and bad values", async () => {
    await createVhost("vl-c");
    expect(
      await status(
        await call("PUT", "/api/vhost-limits/vl-c/max-connections", { body: { value: 5 } }),
      ),
    ).toBe(204);
    expect(await json(await call("GET", "/api/vhost-limits/vl-c"))).toEqual([
      { vhost: "vl-c", value: { "max-connections": 5 } },
    ]);
    expect(
      await status(await call("PUT", "/api/vhost-limits/vl-c/max-bananas", { body: { value: 1 } })),
    ).toBe(400);
    expect(
      await status(
        await call("PUT", "/api/vhost-limits/vl-c/max-queues", { body: { value: "1" } }),
      ),
    ).toBe(400);
    expect(
      await status(
        await call("PUT", "/api/vhost-limits/vl-c/max-queues", { body: { value: 1.5 } }),
      ),
    ).toBe(400);
  });
});
