/**
 * Policies and operator policies (/api/policies, /api/operator-policies) as in RabbitMQ 3.10:
 * validated with its reasons, applied to matching queues at once and to later declarations,
 * shown on the queue, highest priority first, operator limits lowering the policy's, arguments
 * meeting the policy as RabbitMQ resolves them, writable by policymakers and administrators.
 */
import { describe, expect, it } from "vitest";
import { createUser, grant } from "../support/access";
import {
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  drain,
  expectError,
  getMessages,
  json,
  publish,
} from "../support/api";
import { sleep } from "../support/socket";

interface QueueInfo {
  messages: number;
  policy: string | null;
  operator_policy: string | null;
  effective_policy_definition: Record<string, unknown>;
}

const info = async (queue: string) =>
  json<QueueInfo>(await call("GET", `/api/queues/%2F/${encodeURIComponent(queue)}`));

const putPolicy = (name: string, body: Record<string, unknown>, auth?: string) =>
  call("PUT", `/api/policies/%2F/${name}`, { body, auth });

const putOperatorPolicy = (name: string, body: Record<string, unknown>, auth?: string) =>
  call("PUT", `/api/operator-policies/%2F/${name}`, { body, auth });

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check()) && Date.now() < end) await sleep(25);
}

describe("policies: the API", () => {
  it("creates with 201, replaces with 204, reads, lists and deletes a policy", async () => {
    const body = { pattern: "^api\\.crud", definition: { "max-length": 10, "message-ttl": 5 } };
    expect((await putPolicy("crud", body)).status).toBe(201);
    expect(await json(await call("GET", "/api/policies/%2F/crud"))).toEqual({
      vhost: "/",
      name: "crud",
      pattern: "^api\\.crud",
      "apply-to": "all",
      definition: { "max-length": 10, "message-ttl": 5 },
      priority: 0,
    });
    expect((await putPolicy("crud", { ...body, priority: 3, "apply-to": "queues" })).status).toBe(
      204,
    );
    const listed = await json<{ name: string; priority: number }[]>(
      await call("GET", "/api/policies/%2F"),
    );
    expect(listed.find((p) => p.name === "crud")?.priority).toBe(3);
    const all = await json<{ name: string }[]>(await call("GET", "/api/policies"));
    expect(all.map((p) => p.name)).toContain("crud");
    expect((await call("DELETE", "/api/policies/%2F/crud")).status).toBe(204);
    await expectError(await call("GET", "/api/policies/%2F/crud"), 404);
    await expectError(await call("DELETE", "/api/policies/%2F/crud"), 404);
  });

  it("refuses bad policies with RabbitMQ's reasons", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ definition: { expires: 10 } }, "[{key_missing,pattern}]"],
      [{ pattern: "^x" }, "[{key_missing,definition}]"],
      [{ pattern: "^x", definition: {} }, "Validation failed\n\nno policy provided\n"],
      [
        { pattern: "^x", definition: { "message-ttl": -1 } },
        "Validation failed\n\n-1 is not a valid message TTL\n",
      ],
      [
        { pattern: "^x", definition: { "message-ttl": "a" } },
        'Validation failed\n\n&lt;&lt;"a"&gt;&gt; is not a valid message TTL\n',
      ],
      [
        { pattern: "^x", definition: { overflow: "nope" } },
        'Validation failed\n\n&lt;&lt;"nope"&gt;&gt; is not a valid overflow value\n',
      ],
      [
        { pattern: "^x", definition: { expires: 0 } },
        "Validation failed\n\n0 is not a valid queue expiry\n",
      ],
      [
        { pattern: "^x", definition: { "max-length": 1.5 } },
        "Validation failed\n\n1.5 is not a valid maximum length\n",
      ],
      [
        { pattern: "^x", definition: { "max-length-bytes": -2 } },
        "Validation failed\n\n-2 is not a valid maximum length in bytes\n",
      ],
      [
        { pattern: "^x", definition: { "delivery-limit": -2 } },
        "Validation failed\n\n-2 is not a valid delivery limit\n",
      ],
      [
        { pattern: "^x", definition: { "dead-letter-exchange": 5 } },
        "Validation failed\n\n5 is not a valid dead letter exchange name\n",
      ],
      [
        { pattern: "^x", definition: { "max-priority": 3 } },
        'Validation failed\n\n[{&lt;&lt;"max-priority"&gt;&gt;,3}] are not recognised policy settings\n',
      ],
      [
        { pattern: "^x", definition: { expires: 10 }, "apply-to": "nope" },
        "Validation failed\n\napply-to 'nope' unrecognised; should be 'queues', 'exchanges' or 'all'\n",
      ],
      [
        { pattern: "^x", definition: { expires: 10 }, priority: "7" },
        'Validation failed\n\npriority should be a number, actually was &lt;&lt;"7"&gt;&gt;\n',
      ],
      [
        { pattern: 5, definition: { expires: 10 } },
        "Validation failed\n\npattern should be a binary but was 5\n",
      ],
    ];
    for (const [body, reason] of cases) {
      const answer = await expectError(await putPolicy("bad", body), 400, "bad_request");
      expect(answer.reason, JSON.stringify(body)).toBe(reason);
    }
    const badPattern = await expectError(
      await putPolicy("bad", { pattern: "(", definition: { expires: 10 } }),
      400,
    );
    expect(badPattern.reason).toContain("pattern should be regular expression but is invalid");
    await expectError(await call("GET", "/api/policies/%2F/bad"), 404);
  });

  it("lets operator policies set only limits, with RabbitMQ's unescaped reasons", async () => {
    const overflow = await expectError(
      await putOperatorPolicy("op.bad", { pattern: "^x", definition: { overflow: "drop-head" } }),
      400,
    );
    expect(overflow.reason).toBe(
      'Validation failed\n\n[{<<"overflow">>,<<"drop-head">>}] are not recognised policy settings\n',
    );
    const ttl = await expectError(
      await putOperatorPolicy("op.bad", { pattern: "^x", definition: { "message-ttl": "a" } }),
      400,
    );
    expect(ttl.reason).toBe('Validation failed\n\n<<"a">> is not a valid message TTL\n');
    const body = {
      pattern: "^api\\.op",
      definition: { "max-length": 2, expires: 100000, "delivery-limit": 3 },
    };
    expect((await putOperatorPolicy("op.ok", body)).status).toBe(201);
    const listed = await json<{ name: string }[]>(await call("GET", "/api/operator-policies"));
    expect(listed.map((p) => p.name)).toContain("op.ok");
    expect((await call("DELETE", "/api/operator-policies/%2F/op.ok")).status).toBe(204);
  });
});

describe("policies: who may write them", () => {
  it("lets a policymaker with access to the vhost write policies, not operator policies", async () => {
    const maker = await createUser("pol-maker", "secret", "policymaker");
    await grant("/", "pol-maker");
    const body = { pattern: "^perm\\.maker", definition: { "max-length": 1 } };
    expect((await putPolicy("by-maker", body, maker)).status).toBe(201);
    const operator = await expectError(await putOperatorPolicy("by-maker", body, maker), 403);
    expect(operator.reason).toBe("Not administrator user");
    expect((await call("DELETE", "/api/policies/%2F/by-maker", { auth: maker })).status).toBe(204);
  });

  it("refuses management and monitoring users, and a policymaker without access to the vhost", async () => {
    const body = { pattern: "^perm\\.other", definition: { "max-length": 1 } };
    const manager = await createUser("pol-manager", "secret", "management");
    await grant("/", "pol-manager");
    await expectError(await putPolicy("by-manager", body, manager), 403, "access_refused");
    const monitor = await createUser("pol-monitor", "secret", "monitoring");
    await expectError(await putPolicy("by-monitor", body, monitor), 403, "access_refused");
    const outsider = await createUser("pol-outsider", "secret", "policymaker");
    await expectError(await putPolicy("by-outsider", body, outsider), 403, "access_refused");
    await expectError(await call("GET", "/api/policies/%2F/by-manager"), 404);
    // Reading is for anyone who sees the vhost.
    expect((await call("GET", "/api/policies/%2F", { auth: manager })).status).toBe(200);
  });
});

describe("policies: applied to queues", () => {
  it("applies to matching queues at once and shows on them", async () => {
    await declareQueue("apply.now");
    await declareQueue("other.now");
    for (const p of ["1", "2", "3", "4"]) {
      await publish("", "apply.now", p);
      await publish("", "other.now", p);
    }
    const body = { pattern: "^apply\\.", definition: { "max-length": 2 }, "apply-to": "queues" };
    expect((await putPolicy("apply-now", body)).status).toBe(201);
    expect(await info("apply.now")).toMatchObject({
      messages: 2,
      policy: "apply-now",
      operator_policy: null,
      effective_policy_definition: { "max-length": 2 },
    });
    expect(await info("other.now")).toMatchObject({ messages: 4, policy: null });
    expect(await drain("apply.now")).toEqual(["3", "4"]);
    // The queue list shows it too.
    const listed = await json<({ name: string } & QueueInfo)[]>(
      await call("GET", "/api/queues/%2F"),
    );
    expect(listed.find((q) => q.name === "apply.now")?.policy).toBe("apply-now");
    await call("DELETE", "/api/policies/%2F/apply-now");
    expect(await info("apply.now")).toMatchObject({
      policy: null,
      effective_policy_definition: {},
    });
    for (const p of ["5", "6", "7"]) await publish("", "apply.now", p);
    expect(await info("apply.now")).toMatchObject({ messages: 3 });
  });

  it("applies to queues declared later", async () => {
    await putPolicy("later", { pattern: "^later\\.", definition: { "max-length": 1 } });
    await declareQueue("later.q");
    for (const p of ["a", "b", "c"]) await publish("", "later.q", p);
    expect(await drain("later.q")).toEqual(["c"]);
    await call("DELETE", "/api/policies/%2F/later");
  });

  it("does not apply a policy for exchanges to queues", async () => {
    await putPolicy("exchanges-only", {
      pattern: "^exonly\\.",
      definition: { "max-length": 1 },
      "apply-to": "exchanges",
    });
    await declareQueue("exonly.q");
    for (const p of ["a", "b"]) await publish("", "exonly.q", p);
    expect(await info("exonly.q")).toMatchObject({ messages: 2, policy: null });
    await call("DELETE", "/api/policies/%2F/exchanges-only");
  });

  it("applies only the highest-priority policy, without merging the others", async () => {
    await putPolicy("prio-low", {
      pattern: "^prio\\.",
      definition: { "max-length": 1, "message-ttl": 60000 },
      priority: 1,
    });
    await putPolicy("prio-high", {
      pattern: "^prio\\.q",
      definition: { "max-length": 3 },
      priority: 5,
    });
    await declareQueue("prio.q");
    for (const p of ["1", "2", "3", "4"]) await publish("", "prio.q", p);
    expect(await info("prio.q")).toMatchObject({
      messages: 3,
      policy: "prio-high",
      effective_policy_definition: { "max-length": 3 },
    });
    await call("DELETE", "/api/policies/%2F/prio-high");
    expect(await info("prio.q")).toMatchObject({ messages: 1, policy: "prio-low" });
    await call("DELETE", "/api/policies/%2F/prio-low");
  });

  it("takes the lower of a policy's and an operator policy's limit, either way round", async () => {
    await putPolicy("min-pol", {
      pattern: "^min\\.",
      definition: { "max-length": 10, "message-ttl": 1000, overflow: "reject-publish" },
    });
    await putOperatorPolicy("min-op", {
      pattern: "^min\\.",
      definition: { "max-length": 2, "message-ttl": 60000 },
    });
    await declareQueue("min.q");
    expect(await info("min.q")).toMatchObject({
      policy: "min-pol",
      operator_policy: "min-op",
      effective_policy_definition: {
        "max-length": 2,
        "message-ttl": 1000,
        overflow: "reject-publish",
      },
    });
    expect((await publish("", "min.q", "1")).status).toBe(200);
    expect((await publish("", "min.q", "2")).status).toBe(200);
    // reject-publish from the policy, at the operator's limit of 2.
    expect((await publish("", "min.q", "3")).status).toBe(400);
    await call("DELETE", "/api/policies/%2F/min-pol");
    await call("DELETE", "/api/operator-policies/%2F/min-op");
  });

  it("meets queue arguments as RabbitMQ does: lower limit wins, the argument's dead-letter exchange wins", async () => {
    await declareExchange("argpol.dlx.arg", "fanout");
    await declareExchange("argpol.dlx.pol", "fanout");
    await declareQueue("argpol.dead.arg");
    await declareQueue("argpol.dead.pol");
    await bindQueue("argpol.dlx.arg", "argpol.dead.arg");
    await bindQueue("argpol.dlx.pol", "argpol.dead.pol");
    await putPolicy("argpol", {
      pattern: "^argpol\\.q",
      definition: { "max-length": 5, "dead-letter-exchange": "argpol.dlx.pol" },
    });
    await declareQueue("argpol.q", {
      arguments: { "x-max-length": 2, "x-dead-letter-exchange": "argpol.dlx.arg" },
    });
    for (const p of ["1", "2", "3"]) await publish("", "argpol.q", p);
    expect(await info("argpol.q")).toMatchObject({ messages: 2 });
    await until(async () => (await info("argpol.dead.arg")).messages > 0);
    expect(await drain("argpol.dead.arg")).toEqual(["1"]);
    expect(await drain("argpol.dead.pol")).toEqual([]);
    await call("DELETE", "/api/policies/%2F/argpol");
  });

  it("dead-letters through a policy's dead-letter exchange and expires through its message-ttl", async () => {
    await declareExchange("poldl.dlx", "fanout");
    await declareQueue("poldl.dead");
    await bindQueue("poldl.dlx", "poldl.dead");
    await putPolicy("poldl", {
      pattern: "^poldl\\.q$",
      definition: { "dead-letter-exchange": "poldl.dlx", "message-ttl": 50 },
    });
    await declareQueue("poldl.q");
    await publish("", "poldl.q", "expires");
    await until(async () => (await info("poldl.dead")).messages > 0);
    const [dead] = await getMessages("poldl.dead");
    expect(dead?.payload).toBe("expires");
    expect(dead?.properties.headers).toMatchObject({
      "x-death": [expect.objectContaining({ reason: "expired", queue: "poldl.q" })],
    });
    await call("DELETE", "/api/policies/%2F/poldl");
  });

  it("deletes a queue unused for a policy's expires", async () => {
    await putPolicy("polexp", { pattern: "^polexp\\.", definition: { expires: 200 } });
    await declareQueue("polexp.q");
    await until(async () => (await call("GET", "/api/queues/%2F/polexp.q")).status === 404);
    expect((await call("GET", "/api/queues/%2F/polexp.q")).status).toBe(404);
    await call("DELETE", "/api/policies/%2F/polexp");
  });
});

describe("policies: definitions", () => {
  it("exports policies and operator policies, and imports them applied to the imported queues", async () => {
    const vhost = "pol-defs";
    expect((await call("PUT", `/api/vhosts/${vhost}`, { body: {} })).status).toBe(201);
    const file = {
      policies: [
        {
          vhost,
          name: "imported",
          pattern: "^imp\\.",
          "apply-to": "queues",
          definition: { "max-length": 1 },
          priority: 2,
        },
      ],
      operator_policies: [
        {
          vhost,
          name: "imported-op",
          pattern: "^imp\\.",
          "apply-to": "queues",
          definition: { "message-ttl": 60000 },
          priority: 0,
        },
      ],
      queues: [{ name: "imp.q", vhost, durable: true, auto_delete: false, arguments: {} }],
    };
    expect((await call("POST", "/api/definitions", { body: file })).status).toBe(204);
    const queue = await json<QueueInfo>(await call("GET", `/api/queues/${vhost}/imp.q`));
    expect(queue).toMatchObject({
      policy: "imported",
      operator_policy: "imported-op",
      effective_policy_definition: { "max-length": 1, "message-ttl": 60000 },
    });
    const exported = await json<{ policies: unknown[]; operator_policies: unknown[] }>(
      await call("GET", "/api/definitions"),
    );
    expect(exported.policies).toContainEqual(file.policies[0]);
    expect(exported.operator_policies).toContainEqual(file.operator_policies[0]);
    const perVhost = await json<{ policies: unknown[] }>(
      await call("GET", `/api/definitions/${vhost}`),
    );
    expect(perVhost.policies).toEqual(file.policies);
  });

  it("refuses an import with an invalid policy, changing nothing", async () => {
    const answer = await expectError(
      await call("POST", "/api/definitions", {
        body: {
          policies: [{ vhost: "/", name: "broken", pattern: "^x", definition: { expires: 0 } }],
          queues: [{ name: "not-imported", vhost: "/", durable: true, auto_delete: false }],
        },
      }),
      400,
    );
    expect(answer.reason).toContain("0 is not a valid queue expiry");
    expect((await call("GET", "/api/queues/%2F/not-imported")).status).toBe(404);
  });
});
