import { describe, expect, it } from "vitest";
import shared from "../fixtures/rabbitmq-definitions.json";
import { basic, call, status } from "../support/access";
import { drain, json, publish } from "../support/api";

type Definitions = Record<string, unknown[]> & { users: { name: string; password_hash: string }[] };

const exportAll = async () => json<Definitions>(await call("GET", "/api/definitions"));
const sortBy = <T>(items: T[], key: (t: T) => string) =>
  [...items].sort((a, b) => key(a).localeCompare(key(b)));

describe("definitions", () => {
  it("imports the shared RabbitMQ export: topology, and both users log in with their passwords", async () => {
    expect(await status(await call("POST", "/api/definitions", { body: shared }))).toBe(204);
    const v = "new-virtual-host";

    const exported = await exportAll();
    for (const kind of ["queues", "exchanges", "bindings", "permissions"] as const) {
      const key = (x: unknown) => JSON.stringify(x);
      expect(sortBy(exported[kind] as unknown[], key), kind).toEqual(
        sortBy(shared[kind] as unknown[], key),
      );
    }
    expect(
      await json(await call("GET", "/api/whoami", { auth: basic("user1", "password") })),
    ).toEqual({
      name: "user1",
      tags: ["management"],
    });
    expect(
      await status(
        await call("GET", `/api/aliveness-test/${v}`, { auth: basic("user1", "password") }),
      ),
    ).toBe(200);
    expect(
      await status(
        await call("GET", "/api/aliveness-test/%2F", { auth: basic("user1", "password") }),
      ),
    ).toBe(403);
    expect(
      await status(await call("GET", "/api/whoami", { auth: basic("user1", "password9") })),
    ).toBe(401);
    expect(await status(await call("GET", "/api/whoami", { auth: basic("guest", "guest") }))).toBe(
      200,
    );

    // The topology routes as it did in RabbitMQ: order.created reaches payments, inventory,
    // email, and (through shop -> audit, x-match any) nothing more without headers.
    await publish("shop", "order.created", "o1", { vhost: v });
    expect(await drain("payments", v)).toEqual(["o1"]);
    expect(await drain("product_inventory", v)).toEqual(["o1"]);
    expect(await drain("notifications.email", v)).toEqual(["o1"]);
    await publish("shop", "order.created", "o2", {
      vhost: v,
      properties: { headers: { priority: "high" } },
    });
    expect(await drain("audit.high", v)).toEqual(["o2"]);
  });

  it("round-trips: export, import, export is identical", async () => {
    await call("PUT", "/api/vhosts/def-rt", { body: { description: "round trip", tags: "a,b" } });
    await call("PUT", "/api/users/def-rt-user", { body: { password: "pw", tags: "monitoring" } });
    await call("PUT", "/api/permissions/def-rt/def-rt-user", {
      body: { configure: "^q", write: ".*", read: "" },
    });
    await call("PUT", "/api/topic-permissions/def-rt/def-rt-user", {
      body: { exchange: "amq.topic", write: "^a", read: ".*" },
    });
    await call("PUT", "/api/vhost-limits/def-rt/max-queues", { body: { value: 10 } });
    await call("PUT", "/api/exchanges/def-rt/x", {
      body: { type: "headers", arguments: { "alternate-exchange": "ae" } },
    });
    await call("PUT", "/api/queues/def-rt/q", { body: { arguments: { "x-max-length": 5 } } });
    await call("POST", "/api/bindings/def-rt/e/x/q/q", {
      body: { routing_key: "", arguments: { "x-match": "any", a: 1 } },
    });
    const first = await exportAll();
    expect(await status(await call("POST", "/api/definitions", { body: first }))).toBe(204);
    expect(await exportAll()).toEqual(first);
    const user = first.users.find((u) => u.name === "def-rt-user");
    expect(user?.password_hash).toMatch(/^\$pbkdf2-sha256\$/);
  });

  it("changes nothing when any part of the file is bad", async () => {
    const before = await exportAll();
    const good = {
      users: [{ name: "def-bad-user", password_hash: "", tags: "" }],
      vhosts: [{ name: "def-bad-vh" }],
      permissions: [
        { user: "def-bad-user", vhost: "def-bad-vh", configure: ".*", write: ".*", read: ".*" },
      ],
      queues: [
        { name: "q", vhost: "def-bad-vh", durable: true, auto_delete: false, arguments: {} },
      ],
      exchanges: [
        {
          name: "x",
          vhost: "def-bad-vh",
          type: "direct",
          durable: true,
          auto_delete: false,
          internal: false,
          arguments: {},
        },
      ],
      bindings: [
        {
          source: "x",
          vhost: "def-bad-vh",
          destination: "q",
          destination_type: "queue",
          routing_key: "k",
          arguments: {},
        },
      ],
    };
    const broken: [string, Record<string, unknown>][] = [
      [
        "a binding to a missing queue",
        { bindings: [{ ...good.bindings[0], destination: "missing" }] },
      ],
      ["an unknown exchange type", { exchanges: [{ ...good.exchanges[0], type: "nosuchtype" }] }],
      ["a bad regex", { permissions: [{ ...good.permissions[0], read: "(" }] }],
      [
        "a permission for an unknown user",
        { permissions: [{ ...good.permissions[0], user: "ghost" }] },
      ],
      ["a queue in an unknown vhost", { queues: [{ ...good.queues[0], vhost: "nowhere" }] }],
      ["a bad password hash", { users: [{ name: "def-bad-user", password_hash: "!!", tags: "" }] }],
      ["a policy", { policies: [{ name: "p", pattern: ".*", definition: {} }] }],
      ["an over-long name", { queues: [{ ...good.queues[0], name: "q".repeat(300) }] }],
      [
        "an inequivalent redeclaration",
        { exchanges: [{ ...good.exchanges[0], name: "amq.direct", type: "fanout" }] },
      ],
      [
        "one queue listed twice, differently",
        { queues: [good.queues[0], { ...good.queues[0], durable: false }] },
      ],
      ["a wrong shape", { users: "everyone" }],
    ];
    for (const [what, change] of broken) {
      const response = await call("POST", "/api/definitions", { body: { ...good, ...change } });
      expect([400, 403], what).toContain(response.status);
      expect(await exportAll(), what).toEqual(before);
    }
    expect(await status(await call("POST", "/api/definitions", { raw: "{not json" }))).toBe(400);
    expect(await status(await call("POST", "/api/definitions", { body: good }))).toBe(204);
  });

  it("refuses an import that would exceed a vhost's queue limit, before changing anything", async () => {
    await call("PUT", "/api/vhosts/def-lim", { body: {} });
    await call("PUT", "/api/vhost-limits/def-lim/max-queues", { body: { value: 1 } });
    const file = {
      exchanges: [{ name: "lx", vhost: "def-lim", type: "fanout" }],
      queues: [
        { name: "a", vhost: "def-lim" },
        { name: "b", vhost: "def-lim" },
      ],
    };
    expect(await status(await call("POST", "/api/definitions", { body: file }))).toBe(400);
    expect(await status(await call("GET", "/api/exchanges/def-lim/lx"))).toBe(404);
  });

  it("exports one vhost's topology on its own", async () => {
    await call("PUT", "/api/vhosts/def-one", { body: {} });
    await call("PUT", "/api/queues/def-one/only", { body: {} });
    const one = await json<Record<string, unknown[]>>(
      await call("GET", "/api/definitions/def-one"),
    );
    // RabbitMQ's per-vhost format: no vhost on the objects, so it loads into any vhost.
    expect(one.queues).toEqual([
      { name: "only", durable: true, auto_delete: false, arguments: {} },
    ]);
    expect(one.exchanges).toEqual([]);
    expect(one.users).toBeUndefined();
    expect(Object.keys(one)).toEqual([
      "rabbit_version",
      "parameters",
      "policies",
      "queues",
      "exchanges",
      "bindings",
    ]);
  });
});
