// RabbitMQ's own rabbitmqadmin against the broker, unchanged: the script is fetched from a local
// RabbitMQ node with the management plugin (its /cli/rabbitmqadmin, RabbitMQ 3.10's), that node
// is stopped, and the script runs against `wrangler dev` for declare / list / publish / get /
// purge / delete / export / import / close of every object kind the broker has (exchange, queue,
// binding, vhost, user, permission, vhost limit, runtime parameter, connection). Policies are
// not there yet (README, Not there yet). Then the served OpenAPI document is validated against
// the OpenAPI 3.1 JSON schema, and the seed articles' examples run through their npm scripts, on
// the project's pinned Node.
//
// The rabbitmqadmin part skips, saying so, when rabbitmq-server or python3 is not installed.
//
//   npm run test:rabbitmqadmin

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import { ROOT, startBroker } from "../../bench/lib/broker.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "../../bench/lib/rabbitmq.mjs";

const run = promisify(execFile);
const COMMAND_TIMEOUT_MS = 60_000;

const python = spawnSync("python3", ["--version"]).status === 0;
const found = findRabbitMQ();
const skip = !python
  ? "python3 is not installed: rabbitmqadmin is a Python script (apt-get install python3)"
  : (found.skip ?? false);
if (skip) console.log(`skipping the rabbitmqadmin test: ${skip}`);

let broker = null;
let dir = null;
let script = null;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "rabbitmqadmin-"));
  broker = await startBroker({ prefix: "broker-rabbitmqadmin-" });
  if (skip) return;
  const { node } = await startRabbitMQ(found, { management: true });
  try {
    const response = await fetch(`${node.managementUrl}/cli/rabbitmqadmin`);
    assert.equal(response.status, 200, "the RabbitMQ node serves /cli/rabbitmqadmin");
    script = path.join(dir, "rabbitmqadmin");
    fs.writeFileSync(script, await response.text());
  } finally {
    await stopRabbitMQ();
  }
});

after(async () => {
  await broker?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** rabbitmqadmin with the flags the issue used; answers stdout, throws with stderr on failure. */
async function admin(...args) {
  const flags = [
    "--host",
    "127.0.0.1",
    "--port",
    String(broker.port),
    "-u",
    "guest",
    "-p",
    "guest",
  ];
  try {
    const { stdout } = await run("python3", [script, ...flags, ...args], {
      timeout: COMMAND_TIMEOUT_MS,
    });
    return stdout;
  } catch (error) {
    throw new Error(`rabbitmqadmin ${args.join(" ")} failed: ${error.stderr || error.message}`);
  }
}

/** A listing as JSON (rabbitmqadmin's raw_json format). */
async function list(...args) {
  return JSON.parse(await admin("-f", "raw_json", ...args));
}

const names = (items) => items.map((item) => item.name);

describe("rabbitmqadmin (RabbitMQ 3.10) against the broker", { skip }, () => {
  test("declares, lists and deletes vhosts, users, permissions and vhost limits", async () => {
    await admin("declare", "vhost", "name=tools-vhost", "tracing=false");
    assert.ok(names(await list("list", "vhosts")).includes("tools-vhost"));
    await admin("declare", "user", "name=tools-user", "password=secret", "tags=management");
    assert.ok(names(await list("list", "users")).includes("tools-user"));
    await admin(
      "declare",
      "permission",
      "vhost=tools-vhost",
      "user=tools-user",
      "configure=.*",
      "write=.*",
      "read=^tools",
    );
    const permission = (await list("list", "permissions")).find((p) => p.user === "tools-user");
    assert.deepEqual(
      { vhost: permission.vhost, read: permission.read },
      { vhost: "tools-vhost", read: "^tools" },
    );
    await admin("declare", "vhost_limit", "vhost=tools-vhost", "name=max-queues", "value=10");
    const limits = await list("list", "vhost_limits");
    assert.deepEqual(limits.find((l) => l.vhost === "tools-vhost")?.value, { "max-queues": 10 });
    const parameters = await list("list", "parameters");
    assert.ok(parameters.some((p) => p.component === "vhost-limits" && p.vhost === "tools-vhost"));
    await admin("delete", "vhost_limit", "vhost=tools-vhost", "name=max-queues");
    await admin("delete", "permission", "vhost=tools-vhost", "user=tools-user");
    await admin("delete", "user", "name=tools-user");
    await admin("delete", "vhost", "name=tools-vhost");
    assert.ok(!names(await list("list", "users")).includes("tools-user"));
    assert.ok(!names(await list("list", "vhosts")).includes("tools-vhost"));
  });

  test("declares an exchange, a queue and a binding, publishes, gets, purges and deletes", async () => {
    // rabbitmqadmin sends "durable": "true", "count": "1", "truncate" as strings.
    await admin("declare", "exchange", "name=tools.orders", "type=topic", "durable=true");
    await admin("declare", "queue", "name=tools.inventory", "durable=true");
    await admin(
      "declare",
      "binding",
      "source=tools.orders",
      "destination=tools.inventory",
      "routing_key=order.*",
    );
    const exchange = (await list("list", "exchanges")).find((e) => e.name === "tools.orders");
    assert.equal(exchange.type, "topic");
    assert.equal(exchange.durable, true);
    const bindings = await list("list", "bindings");
    assert.ok(bindings.some((b) => b.source === "tools.orders" && b.routing_key === "order.*"));

    await admin("publish", "exchange=tools.orders", "routing_key=order.created", "payload=first");
    await admin("publish", "exchange=tools.orders", "routing_key=order.paid", "payload=second");
    const [looked] = await list("get", "queue=tools.inventory");
    assert.equal(looked.payload, "first");
    assert.equal(looked.message_count, 1);
    const queue = (await list("list", "queues")).find((q) => q.name === "tools.inventory");
    assert.equal(queue.messages, 2);
    const [taken] = await list("get", "queue=tools.inventory", "ackmode=ack_requeue_false");
    assert.equal(taken.redelivered, true);
    await admin("purge", "queue", "name=tools.inventory");
    assert.deepEqual(await list("get", "queue=tools.inventory", "count=5"), []);

    // A properties_key typed as the routing key, unencoded: RabbitMQ accepts it, so do we.
    await admin(
      "delete",
      "binding",
      "source=tools.orders",
      "destination_type=queue",
      "destination=tools.inventory",
      "properties_key=order.*",
    );
    const left = await list("list", "bindings");
    assert.ok(!left.some((b) => b.source === "tools.orders"));
    await admin("delete", "queue", "name=tools.inventory");
    await admin("delete", "exchange", "name=tools.orders");
    assert.ok(!names(await list("list", "queues")).includes("tools.inventory"));
    assert.ok(!names(await list("list", "exchanges")).includes("tools.orders"));
  });

  test("exports one vhost and imports it into another (-V vhost export / import)", async () => {
    await admin("declare", "vhost", "name=tools-from");
    await admin("declare", "vhost", "name=tools-to");
    await admin("-V", "tools-from", "declare", "exchange", "name=shop", "type=direct");
    await admin("-V", "tools-from", "declare", "queue", "name=stock");
    await admin(
      "-V",
      "tools-from",
      "declare",
      "binding",
      "source=shop",
      "destination=stock",
      "routing_key=stock",
    );
    const file = path.join(dir, "tools-from.json");
    await admin("-V", "tools-from", "export", file);
    const exported = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.equal(exported.queues[0].vhost, undefined, "a vhost export names no vhost");
    await admin("-V", "tools-to", "import", file);
    const bindings = await list("-V", "tools-to", "list", "bindings");
    assert.ok(bindings.some((b) => b.source === "shop" && b.destination === "stock"));
    const all = path.join(dir, "all.json");
    await admin("export", all);
    assert.ok(JSON.parse(fs.readFileSync(all, "utf8")).vhosts.some((v) => v.name === "tools-to"));
    await admin("import", all);
    await admin("delete", "vhost", "name=tools-from");
    await admin("delete", "vhost", "name=tools-to");
  });

  test("lists nodes, connections, channels and consumers, and closes a connection", async () => {
    assert.equal((await list("list", "nodes"))[0].name, "workers");
    await admin("declare", "queue", "name=tools.consumed");
    await admin("publish", "routing_key=tools.consumed", "payload=held");
    const ticket = await fetch(`${broker.url}/api/tickets`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ vhost: "/" }),
    }).then((r) => r.json());
    const socket = new WebSocket(
      `ws://127.0.0.1:${broker.port}/api/queues/%2F/tools.consumed/consume?ticket=${ticket.ticket}`,
    );
    const frames = [];
    const closed = new Promise((resolve) => socket.addEventListener("close", resolve));
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve);
      socket.addEventListener("error", reject);
    });
    const delivered = new Promise((resolve) =>
      socket.addEventListener("message", (event) => {
        frames.push(JSON.parse(event.data));
        if (frames.some((f) => f.type === "deliver")) resolve();
      }),
    );
    socket.send(JSON.stringify({ type: "consume", tag: "tools-consumer", prefetch: 5 }));
    await delivered;

    // rabbitmqadmin's own table format too: it fails on a null in any column it shows.
    for (const kind of ["nodes", "connections", "channels", "consumers", "queues", "exchanges"]) {
      await admin("list", kind);
      await admin("-f", "long", "list", kind);
    }
    await admin("show", "overview");
    const [connection] = (await list("list", "connections")).filter((c) => c.user === "guest");
    assert.ok(connection, "the consumer's connection is listed");
    assert.ok((await list("list", "channels")).some((c) => c.name === `${connection.name} (1)`));
    const consumers = await list("list", "consumers");
    assert.ok(consumers.some((c) => c.consumer_tag === "tools-consumer"));

    await admin("close", "connection", `name=${connection.name}`);
    await closed;
    const queue = (await list("list", "queues")).find((q) => q.name === "tools.consumed");
    assert.equal(queue.messages_ready, 1, "the unacked message is back in the queue");
    await admin("delete", "queue", "name=tools.consumed");
  });
});

describe("the OpenAPI document", () => {
  // Validated here, outside the Workers runtime: the validator compiles JSON schemas to code,
  // which workerd does not allow.
  test("is valid OpenAPI 3.1 (checked against the specification's JSON schema)", async () => {
    const response = await fetch(`${broker.url}/api/openapi.json`, {
      headers: { authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}` },
    });
    assert.equal(response.status, 200);
    const document = await response.json();
    const result = await new Validator().validate(document);
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors)?.slice(0, 2000));
    assert.equal(result.valid, true);
  });
});

describe("the examples through their npm scripts (the pinned Node)", () => {
  test("order-flow send and receive", async () => {
    const env = { ...process.env, BROKER_URL: `http://guest:guest@127.0.0.1:${broker.port}/%2F` };
    const options = { cwd: ROOT, env, timeout: COMMAND_TIMEOUT_MS };
    const sent = await run("npm", ["run", "--silent", "example:send", "--", "2"], options);
    assert.match(sent.stdout, /2/);
    const received = await run(
      "npm",
      ["run", "--silent", "example:receive", "--", "--exit-after-idle", "2000"],
      options,
    );
    assert.ok(received.stdout.trim().split("\n").length >= 2, received.stdout);
  });
});
