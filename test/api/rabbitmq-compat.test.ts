/**
 * What RabbitMQ's own tools send and expect, as a real RabbitMQ 3.10.8 answered it: strings where
 * the management API coerces them, wrong types named in the reason, properties_key in both
 * encodings, the per-vhost definitions format and its import, and RabbitMQ's binding order.
 */
import { describe, expect, it } from "vitest";
import { createVhost } from "../support/access";
import {
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  expectError,
  json,
  publish,
} from "../support/api";

describe("coercions RabbitMQ's management API makes", () => {
  it('declares exchanges and queues with "true" and "false" given as strings (rabbitmqadmin)', async () => {
    const created = await call("PUT", "/api/exchanges/%2F/compat.ex.strings", {
      body: { type: "topic", durable: "false", auto_delete: "false", internal: "false" },
    });
    expect(created.status).toBe(201);
    const exchange = await json<Record<string, unknown>>(
      await call("GET", "/api/exchanges/%2F/compat.ex.strings"),
    );
    expect(exchange).toMatchObject({ durable: false, auto_delete: false, internal: false });

    const queue = await call("PUT", "/api/queues/%2F/compat.q.strings", {
      body: { durable: "true", auto_delete: "false", arguments: {} },
    });
    expect(queue.status).toBe(201);
    const shown = await json<Record<string, unknown>>(
      await call("GET", "/api/queues/%2F/compat.q.strings"),
    );
    expect(shown).toMatchObject({ durable: true, auto_delete: false });
  });

  it("gets messages with count and truncate given as strings", async () => {
    await declareQueue("compat.q.get");
    await publish("", "compat.q.get", "0123456789");
    const response = await call("POST", "/api/queues/%2F/compat.q.get/get", {
      body: { count: "1", ackmode: "ack_requeue_true", encoding: "auto", truncate: "4" },
    });
    expect(response.status).toBe(200);
    const [message] = await json<{ payload: string; payload_bytes: number }[]>(response);
    expect(message).toMatchObject({ payload: "0123", payload_bytes: 10 });
  });

  it("names a value of the wrong type, not a missing key", async () => {
    const notInteger = await expectError(
      await call("POST", "/api/queues/%2F/compat.q.get/get", {
        body: { count: "abc", ackmode: "ack_requeue_true", encoding: "auto" },
      }),
      400,
      "bad_request",
    );
    expect(notInteger.reason).toBe('[{not_integer,count,"abc"}]');
    const notBoolean = await expectError(
      await call("PUT", "/api/queues/%2F/compat.q.bool", { body: { auto_delete: 1 } }),
      400,
    );
    expect(notBoolean.reason).toBe("[{not_boolean,auto_delete,1}]");
    const notString = await expectError(
      await call("POST", "/api/exchanges/%2F/amq.direct/publish", {
        body: { properties: {}, routing_key: 5, payload: "x", payload_encoding: "string" },
      }),
      400,
    );
    expect(notString.reason).toBe("[{not_string,routing_key,5}]");
  });

  it("keeps RabbitMQ's refusals where it does not coerce (limits, queue arguments, properties)", async () => {
    await expectError(
      await call("PUT", "/api/vhost-limits/%2F/max-queues", { body: { value: "10" } }),
      400,
    );
    await expectError(
      await call("PUT", "/api/queues/%2F/compat.q.args", {
        body: { arguments: { "x-max-length": "10" } },
      }),
      400,
    );
    await expectError(
      await call("POST", "/api/exchanges/%2F/amq.default/publish", {
        body: {
          properties: { delivery_mode: "2" },
          routing_key: "compat.q.get",
          payload: "x",
          payload_encoding: "string",
        },
      }),
      400,
    );
  });
});

describe("RabbitMQ's error reasons", () => {
  it("answers a publish to a missing exchange as RabbitMQ does", async () => {
    const body = await expectError(await publish("compat.nowhere", "k", "m"), 400, "bad_request");
    expect(body.reason).toBe("404 NOT_FOUND - no exchange 'compat.nowhere' in vhost '/'");
  });

  // Each reason as RabbitMQ 3.10.8 answered the same request.
  it("names the missing queue of a get, and the missing end of a binding", async () => {
    const get = await expectError(
      await call("POST", "/api/queues/%2F/compat.noq/get", {
        body: { count: 1, ackmode: "ack_requeue_true", encoding: "auto" },
      }),
      404,
    );
    expect(get.reason).toBe("NOT_FOUND - no queue 'compat.noq' in vhost '/'");
    await declareExchange("compat.bind.ex", "direct");
    await declareQueue("compat.bind.q");
    const noExchange = await expectError(
      await call("POST", "/api/bindings/%2F/e/compat.noex/q/compat.bind.q", { body: {} }),
      404,
    );
    expect(noExchange.reason).toBe("no exchange 'compat.noex' in vhost '/'");
    const noQueue = await expectError(
      await call("POST", "/api/bindings/%2F/e/compat.bind.ex/q/compat.noq", { body: {} }),
      404,
    );
    expect(noQueue.reason).toBe("no queue 'compat.noq' in vhost '/'");
  });

  it("names the queue of an invalid argument and the unsupported encoding of a get", async () => {
    const ttl = await expectError(
      await call("PUT", "/api/queues/%2F/compat.ttl", {
        body: { arguments: { "x-message-ttl": -1 } },
      }),
      400,
    );
    expect(ttl.reason).toMatch(
      /^invalid arg 'x-message-ttl' for queue 'compat.ttl' in vhost '\/': /,
    );
    await declareQueue("compat.enc");
    const encoding = await expectError(
      await call("POST", "/api/queues/%2F/compat.enc/get", {
        body: { count: 1, ackmode: "ack_requeue_true", encoding: "weird" },
      }),
      400,
    );
    expect(encoding.reason).toContain("Unsupported encoding. Please use auto or base64.");
  });
});

describe("properties_key in both encodings", () => {
  it("deletes a binding named by its key as listed or as typed", async () => {
    await declareExchange("compat.pk", "topic");
    await declareQueue("compat.pk.q");
    await bindQueue("compat.pk", "compat.pk.q", "f.*");
    await bindQueue("compat.pk", "compat.pk.q", "g.*");
    await bindQueue("compat.pk", "compat.pk.q", "a b~c/d");
    const base = "/api/bindings/%2F/e/compat.pk/q/compat.pk.q";
    const keys = async () =>
      (await json<{ properties_key: string }[]>(await call("GET", base))).map(
        (b) => b.properties_key,
      );
    expect(await keys()).toEqual(["a+b%7Ec%2Fd", "f.%2A", "g.%2A"]);
    // As typed: rabbitmqadmin sends properties_key=f.* %-encoded once, so "f.*" arrives.
    expect((await call("GET", `${base}/f.*`)).status).toBe(200);
    expect((await call("DELETE", `${base}/f.*`)).status).toBe(204);
    // As listed: the key itself, %-encoded in the URL.
    expect((await call("DELETE", `${base}/${encodeURIComponent("g.%2A")}`)).status).toBe(204);
    expect((await call("DELETE", `${base}/${encodeURIComponent("a+b%7Ec%2Fd")}`)).status).toBe(204);
    expect(await keys()).toEqual([]);
    await expectError(await call("GET", `${base}/f.*`), 404);
  });
});

describe("per-vhost definitions", () => {
  it("lists bindings in a vhost export in RabbitMQ's order: source, routing key, destination", async () => {
    await createVhost("compat-order");
    for (const name of ["ex1", "ex4"]) await declareExchange(name, "topic", {}, "compat-order");
    for (const name of ["q1", "q3"]) await declareQueue(name, {}, "compat-order");
    const bind = (source: string, letter: string, destination: string, key: string) =>
      call("POST", `/api/bindings/compat-order/e/${source}/${letter}/${destination}`, {
        body: { routing_key: key },
      });
    await bind("ex1", "q", "q1", "zz");
    await bind("ex1", "q", "q1", "aa");
    await bind("ex1", "q", "q3", "b");
    await bind("ex4", "q", "q1", "a");
    await bind("ex1", "e", "ex4", "x");
    const file = await json<{ bindings: { source: string; routing_key: string }[] }>(
      await call("GET", "/api/definitions/compat-order"),
    );
    // The order RabbitMQ 3.10.8 exported the same topology in.
    expect(file.bindings.map((b) => `${b.source}:${b.routing_key}`)).toEqual([
      "ex1:aa",
      "ex1:b",
      "ex1:x",
      "ex1:zz",
      "ex4:a",
    ]);
  });

  it("imports one vhost's export into another vhost (POST /api/definitions/{vhost})", async () => {
    await createVhost("compat-from");
    await createVhost("compat-to");
    await declareExchange("orders", "topic", {}, "compat-from");
    await declareQueue("inventory", {}, "compat-from");
    await call("POST", "/api/bindings/compat-from/e/orders/q/inventory", {
      body: { routing_key: "order.*" },
    });
    const exported = await json<Record<string, unknown>>(
      await call("GET", "/api/definitions/compat-from"),
    );
    const imported = await call("POST", "/api/definitions/compat-to", { body: exported });
    expect(imported.status).toBe(204);
    const bindings = await json<{ source: string; vhost: string; routing_key: string }[]>(
      await call("GET", "/api/bindings/compat-to/e/orders/q/inventory"),
    );
    expect(bindings).toMatchObject([
      { source: "orders", vhost: "compat-to", routing_key: "order.*" },
    ]);
    // A file naming another vhost, or users, still lands in the target vhost only.
    const other = await call("POST", "/api/definitions/compat-to", {
      body: {
        users: [{ name: "compat-ignored", password: "x", tags: "" }],
        queues: [
          { name: "qq", vhost: "elsewhere", durable: true, auto_delete: false, arguments: {} },
        ],
      },
    });
    expect(other.status).toBe(204);
    expect((await call("GET", "/api/queues/compat-to/qq")).status).toBe(200);
    expect((await call("GET", "/api/users/compat-ignored")).status).toBe(404);
  });
});
