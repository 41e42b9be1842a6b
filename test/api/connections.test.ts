/**
 * The endpoints tools call about open connections and the node: /api/connections, /api/channels,
 * /api/consumers, closing a connection with DELETE, /api/nodes, /api/parameters, /api/extensions
 * and the RabbitMQ internals a node without them answers.
 */
import { describe, expect, it } from "vitest";
import { basic, createUser, grant } from "../support/access";
import { call, declareQueue, expectError, json, publish } from "../support/api";
import { flushReports } from "../support/reports";
import { deliveries, isType, openConsumer, openSocket } from "../support/socket";

type Item = Record<string, unknown>;

async function list(path: string, auth?: string): Promise<Item[]> {
  const response = await call("GET", path, auth ? { auth } : {});
  expect(response.status).toBe(200);
  return json<Item[]>(response);
}

async function queueCounts(queue: string): Promise<Item> {
  return json<Item>(await call("GET", `/api/queues/%2F/${queue}`));
}

describe("/api/connections, /api/channels and /api/consumers", () => {
  it("lists a consumer connection with its user, vhost, channel and consumers", async () => {
    await declareQueue("conn.listed");
    const socket = await openConsumer("conn.listed");
    socket.send({ type: "consume", tag: "listed-tag", prefetch: 7 });
    await socket.next(isType("consume_ok"));

    const mine = (await list("/api/connections")).find(
      (c) => c.protocol === "WebSocket (consumer)" && c.vhost === "/",
    );
    expect(mine).toMatchObject({
      user: "guest",
      vhost: "/",
      state: "running",
      channels: 1,
      type: "network",
    });
    const name = mine?.name as string;
    expect((await json<Item>(await call("GET", `/api/connections/${name}`))).name).toBe(name);
    expect((await list("/api/vhosts/%2F/connections")).map((c) => c.name)).toContain(name);

    const channel = (await list("/api/channels")).find((c) => c.name === `${name} (1)`);
    expect(channel).toMatchObject({ consumer_count: 1, prefetch_count: 7, user: "guest" });
    expect(await list(`/api/connections/${name}/channels`)).toHaveLength(1);

    const consumers = await list("/api/consumers/%2F");
    expect(consumers.find((c) => c.consumer_tag === "listed-tag")).toMatchObject({
      queue: { name: "conn.listed", vhost: "/" },
      ack_required: true,
      prefetch_count: 7,
      channel_details: { connection_name: name, user: "guest" },
    });
    expect((await list("/api/consumers")).some((c) => c.consumer_tag === "listed-tag")).toBe(true);
    // No nulls: rabbitmqadmin's table format fails on a null in a column it shows.
    for (const item of [mine, channel, ...consumers, ...(await list("/api/nodes"))]) {
      expect(Object.values(item ?? {})).not.toContain(null);
    }
    // The overview's consumers come from the queues' reports to their vhost (at most 1 s old).
    await flushReports("/", "conn.listed");
    const overview = await json<{ object_totals: Item }>(await call("GET", "/api/overview"));
    expect(overview.object_totals.connections).toBeGreaterThanOrEqual(1);
    expect(overview.object_totals.consumers).toBeGreaterThanOrEqual(1);
    socket.close();
  });

  it("closes a connection on DELETE, and its consumers' unacked messages return to the queue", async () => {
    await declareQueue("conn.closed");
    for (const n of [1, 2, 3]) await publish("", "conn.closed", `m${n}`);
    const socket = await openConsumer("conn.closed");
    socket.send({ type: "consume", tag: "closing-tag", prefetch: 10 });
    await socket.next(isType("consume_ok"));
    await deliveries(socket, 3);
    expect(await queueCounts("conn.closed")).toMatchObject({
      messages_ready: 0,
      messages_unacknowledged: 3,
    });
    const consumer = (await list("/api/consumers/%2F")).find(
      (c) => c.consumer_tag === "closing-tag",
    );
    const details = (consumer?.channel_details ?? {}) as { name?: string };
    expect(details.name).toMatch(/ \(1\)$/);
    const connection = (details.name ?? "").slice(0, -" (1)".length);

    const deleted = await call("DELETE", `/api/connections/${connection}`, {
      headers: { "X-Reason": "maintenance" },
    });
    expect(deleted.status).toBe(204);
    const error = await socket.next(isType("error"));
    expect(error).toMatchObject({
      code: "connection_forced",
      reason: "CONNECTION_FORCED - maintenance",
    });
    expect((await socket.whenClosed()).code).toBe(4320);
    expect(await queueCounts("conn.closed")).toMatchObject({
      messages_ready: 3,
      messages_unacknowledged: 0,
      consumers: 0,
    });
    expect((await list("/api/connections")).map((c) => c.name)).not.toContain(connection);
    await expectError(await call("DELETE", `/api/connections/${connection}`), 404);
  });

  it("shows a management user only its own connections, and lets it close only those", async () => {
    await declareQueue("conn.own");
    await createUser("conn-watcher", "pw", "management");
    await grant("/", "conn-watcher");
    const socket = await openConsumer("conn.own");
    const theirs = await list("/api/connections", basic("conn-watcher", "pw"));
    expect(theirs).toEqual([]);
    const guests = await list("/api/connections");
    const name = guests.find((c) => c.user === "guest")?.name as string;
    await expectError(
      await call("DELETE", `/api/connections/${name}`, { auth: basic("conn-watcher", "pw") }),
      404,
    );
    socket.close();
  });

  it("lists a producer connection as a confirm channel and marks it closing on DELETE", async () => {
    const producer = await openSocket("/api/publish/%2F");
    const mine = (await list("/api/connections")).find(
      (c) => c.protocol === "WebSocket (producer)" && c.state === "running",
    );
    const name = mine?.name as string;
    expect((await list("/api/channels")).find((c) => c.name === `${name} (1)`)).toMatchObject({
      confirm: true,
      consumer_count: 0,
    });
    expect((await call("DELETE", `/api/connections/${name}`)).status).toBe(204);
    expect(await json<Item>(await call("GET", `/api/connections/${name}`))).toMatchObject({
      state: "closing",
    });
    producer.close();
  });
});

describe("the node and RabbitMQ's internals", () => {
  it("shows this broker as one node with its limits and uptime", async () => {
    const [node = {}] = await list("/api/nodes");
    expect(node).toMatchObject({ name: "workers", running: true, type: "disc" });
    expect(typeof node.uptime).toBe("number");
    expect((node.limits as Item).max_message_bytes).toBe(65536);
    expect((await call("GET", "/api/nodes/workers")).status).toBe(200);
    await expectError(await call("GET", "/api/nodes/rabbit@elsewhere"), 404);
  });

  it("answers extensions, feature flags, global parameters and alarms as a node without them", async () => {
    expect(await list("/api/extensions")).toEqual([]);
    expect(await list("/api/feature-flags")).toEqual([]);
    expect(await list("/api/global-parameters")).toEqual([]);
    expect(await json(await call("GET", "/api/health/checks/alarms"))).toEqual({ status: "ok" });
    await expectError(await call("GET", "/api/federation-links"), 404);
    await expectError(await call("GET", "/api/shovels"), 404);
  });

  it("shows vhost limits as runtime parameters, and takes them as such", async () => {
    expect(
      (
        await call("PUT", "/api/parameters/vhost-limits/%2F/limits", {
          body: { value: { "max-queues": 500 } },
        })
      ).status,
    ).toBe(201);
    expect(await json(await call("GET", "/api/parameters/vhost-limits/%2F/limits"))).toEqual({
      value: { "max-queues": 500 },
      vhost: "/",
      component: "vhost-limits",
      name: "limits",
    });
    expect(await json(await call("GET", "/api/vhost-limits/%2F"))).toEqual([
      { vhost: "/", value: { "max-queues": 500 } },
    ]);
    expect((await list("/api/parameters")).length).toBe(1);
    expect(await list("/api/parameters/federation-upstream")).toEqual([]);
    const refused = await expectError(
      await call("PUT", "/api/parameters/federation-upstream/%2F/up", { body: { value: {} } }),
      400,
    );
    expect(refused.reason).toContain("component federation-upstream not found");
    expect((await call("DELETE", "/api/parameters/vhost-limits/%2F/limits")).status).toBe(204);
    expect(await list("/api/parameters")).toEqual([]);
  });
});
