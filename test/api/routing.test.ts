/**
 * Routing end to end over HTTP: declare, bind, publish, get. The semantics are RabbitMQ's
 * (../shared/reference/rabbitmq-http-api.md, "Routing semantics in one place"): every exchange
 * type, the default and built-in exchanges, exchange-to-exchange bindings (cycles included),
 * alternate and internal exchanges, at-most-once delivery per queue and per-queue order.
 */
import { describe, expect, it } from "vitest";
import type { RoutableMessage } from "../../src/routing/exchange-type";
import { SPECIMEN_LIST } from "../routing/specimens";
import {
  bindExchange,
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  drain,
  expectError,
  getMessages,
  json,
  publish,
  routed,
  seg,
} from "../support/api";

interface BatchMessage {
  readonly properties: Record<string, unknown>;
  readonly routing_key: string;
  readonly payload: string;
  readonly payload_encoding: "string" | "base64";
}

/** Fails with the answer's body when the status is not the expected one. */
async function expectStatus(response: Response, status: number): Promise<Response> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${await response.text()}`);
  }
  return response;
}

async function exchange(name: string, type: string, extra: Record<string, unknown> = {}) {
  await expectStatus(await declareExchange(name, type, extra), 201);
}

async function queues(...names: string[]): Promise<void> {
  for (const name of names) await expectStatus(await declareQueue(name), 201);
}

async function bind(source: string, queue: string, key = "", args: Record<string, unknown> = {}) {
  await expectStatus(await bindQueue(source, queue, key, args), 201);
}

async function link(source: string, destination: string, key = "") {
  await expectStatus(await bindExchange(source, destination, key), 201);
}

const withHeaders = (headers: Record<string, unknown>) => ({ properties: { headers } });

async function publishBatch(
  exchangeName: string,
  messages: readonly BatchMessage[],
): Promise<boolean[]> {
  const response = await expectStatus(
    await call("POST", `/api/exchanges/%2F/${seg(exchangeName)}/publish-batch`, {
      body: { messages },
    }),
    200,
  );
  const { results } = await json<{ results: { routed: boolean }[] }>(response);
  return results.map((r) => r.routed);
}

const message = (routingKey: string, payload: string): BatchMessage => ({
  properties: {},
  routing_key: routingKey,
  payload,
  payload_encoding: "string",
});

describe("each exchange type delivers through HTTP", () => {
  it("direct delivers to the queues whose binding key equals the routing key", async () => {
    await exchange("dir.x", "direct");
    await queues("dir.a", "dir.b");
    await bind("dir.x", "dir.a", "a");
    await bind("dir.x", "dir.b", "b");

    expect(await routed("dir.x", "a", "to-a")).toBe(true);
    expect(await routed("dir.x", "b", "to-b")).toBe(true);
    expect(await routed("dir.x", "A", "nowhere")).toBe(false);
    expect(await routed("dir.x", "a.b", "nowhere")).toBe(false);
    expect(await drain("dir.a")).toEqual(["to-a"]);
    expect(await drain("dir.b")).toEqual(["to-b"]);
  });

  it("fanout delivers to every bound queue whatever the routing key", async () => {
    await exchange("fan.x", "fanout");
    await queues("fan.a", "fan.b", "fan.c");
    await bind("fan.x", "fan.a", "ignored");
    await bind("fan.x", "fan.b");
    await bind("fan.x", "fan.c", "x.y");

    expect(await routed("fan.x", "anything", "m1")).toBe(true);
    expect(await routed("fan.x", "", "m2")).toBe(true);
    for (const queue of ["fan.a", "fan.b", "fan.c"]) {
      expect(await drain(queue)).toEqual(["m1", "m2"]);
    }
  });

  it("topic matches * to one word and # to zero or more words", async () => {
    await exchange("top.x", "topic");
    await queues("top.star", "top.hash", "top.all", "top.mid");
    await bind("top.x", "top.star", "order.*");
    await bind("top.x", "top.hash", "order.#");
    await bind("top.x", "top.all", "#");
    await bind("top.x", "top.mid", "*.created.#");

    expect(await routed("top.x", "order.created", "k1")).toBe(true);
    expect(await routed("top.x", "order", "k2")).toBe(true);
    expect(await routed("top.x", "order.created.eu", "k3")).toBe(true);
    expect(await routed("top.x", "user.created", "k4")).toBe(true);
    expect(await routed("top.x", "", "k5")).toBe(true);

    expect(await drain("top.star")).toEqual(["k1"]);
    expect(await drain("top.hash")).toEqual(["k1", "k2", "k3"]);
    expect(await drain("top.all")).toEqual(["k1", "k2", "k3", "k4", "k5"]);
    expect(await drain("top.mid")).toEqual(["k1", "k3", "k4"]);
  });

  it("topic answers routed false when no binding matches", async () => {
    await exchange("topn.x", "topic");
    await queues("topn.q");
    await bind("topn.x", "topn.q", "order.*");
    expect(await routed("topn.x", "order")).toBe(false);
    expect(await routed("topn.x", "order.a.b")).toBe(false);
    expect(await routed("topn.x", "user.a")).toBe(false);
    expect(await drain("topn.q")).toEqual([]);
  });

  it("headers with x-match all needs every argument among properties.headers", async () => {
    await exchange("hall.x", "headers");
    await queues("hall.q");
    await bind("hall.x", "hall.q", "", { "x-match": "all", format: "pdf", type: "report" });

    const both = withHeaders({ format: "pdf", type: "report", extra: 1 });
    expect(await routed("hall.x", "any-key", "both", both)).toBe(true);
    expect(await routed("hall.x", "", "one", withHeaders({ format: "pdf" }))).toBe(false);
    expect(await routed("hall.x", "", "none")).toBe(false);
    expect(await drain("hall.q")).toEqual(["both"]);
  });

  it("headers with x-match any needs one argument among properties.headers", async () => {
    await exchange("hany.x", "headers");
    await queues("hany.q");
    await bind("hany.x", "hany.q", "", { "x-match": "any", format: "pdf", type: "report" });

    expect(await routed("hany.x", "", "one", withHeaders({ format: "pdf" }))).toBe(true);
    expect(await routed("hany.x", "", "other", withHeaders({ type: "report" }))).toBe(true);
    expect(await routed("hany.x", "", "wrong", withHeaders({ format: "zip" }))).toBe(false);
    expect(await drain("hany.q")).toEqual(["one", "other"]);
  });

  it('headers tells the number 1 from the string "1"', async () => {
    await exchange("htype.x", "headers");
    await queues("htype.num", "htype.str");
    await bind("htype.x", "htype.num", "", { h: 1 });
    await bind("htype.x", "htype.str", "", { h: "1" });

    expect(await routed("htype.x", "", "number", withHeaders({ h: 1 }))).toBe(true);
    expect(await routed("htype.x", "", "string", withHeaders({ h: "1" }))).toBe(true);
    expect(await drain("htype.num")).toEqual(["number"]);
    expect(await drain("htype.str")).toEqual(["string"]);
  });
});

describe("the default exchange", () => {
  it("delivers to the queue named by the routing key", async () => {
    await queues("def.q");
    expect(await routed("amq.default", "def.q", "hello")).toBe(true);
    const [got] = await getMessages("def.q");
    expect(got).toMatchObject({ payload: "hello", exchange: "", routing_key: "def.q" });
  });

  it("answers routed false for a queue that does not exist", async () => {
    const response = await expectStatus(await publish("amq.default", "def.missing", "m"), 200);
    expect(await json(response)).toEqual({ routed: false });
  });

  it("answers routed false for the empty routing key", async () => {
    expect(await routed("amq.default", "")).toBe(false);
  });

  it("answers routed false for a queue that was deleted", async () => {
    await queues("def.gone");
    await expectStatus(await call("DELETE", "/api/queues/%2F/def.gone"), 204);
    expect(await routed("amq.default", "def.gone")).toBe(false);
  });
});

describe("publishing to an exchange that does not exist", () => {
  // RabbitMQ 3.10's management API relays the channel error as a 400 (checked on a real node).
  it("answers RabbitMQ's 400 404 NOT_FOUND - no exchange", async () => {
    const body = await expectError(await publish("nox.x", "k", "m"), 400, "bad_request");
    expect(body.reason).toBe("404 NOT_FOUND - no exchange 'nox.x' in vhost '/'");
  });

  it("answers the same once the exchange is deleted", async () => {
    await exchange("noxdel.x", "fanout");
    await expectStatus(await call("DELETE", "/api/exchanges/%2F/noxdel.x"), 204);
    await expectError(await publish("noxdel.x", "k", "m"), 400, "bad_request");
  });
});

describe("the built-in exchanges", () => {
  it.each([
    ["amq.direct", "direct"],
    ["amq.fanout", "fanout"],
    ["amq.topic", "topic"],
    ["amq.headers", "headers"],
    ["amq.match", "headers"],
  ])("%s exists as a durable %s exchange", async (name, type) => {
    const response = await expectStatus(await call("GET", `/api/exchanges/%2F/${name}`), 200);
    expect(await json(response)).toMatchObject({ name, vhost: "/", type, durable: true });
  });

  it("route once bound", async () => {
    await queues("bi.direct", "bi.fanout", "bi.topic", "bi.headers", "bi.match");
    await bind("amq.direct", "bi.direct", "bi.key");
    await bind("amq.fanout", "bi.fanout");
    await bind("amq.topic", "bi.topic", "bi.*");
    await bind("amq.headers", "bi.headers", "", { route: "bi.headers" });
    await bind("amq.match", "bi.match", "", { route: "bi.match" });

    expect(await routed("amq.direct", "bi.key", "d")).toBe(true);
    expect(await routed("amq.fanout", "whatever", "f")).toBe(true);
    expect(await routed("amq.topic", "bi.t", "t")).toBe(true);
    expect(await routed("amq.headers", "", "h", withHeaders({ route: "bi.headers" }))).toBe(true);
    expect(await routed("amq.match", "", "m", withHeaders({ route: "bi.match" }))).toBe(true);

    expect(await drain("bi.direct")).toEqual(["d"]);
    expect(await drain("bi.fanout")).toEqual(["f"]);
    expect(await drain("bi.topic")).toEqual(["t"]);
    expect(await drain("bi.headers")).toEqual(["h"]);
    expect(await drain("bi.match")).toEqual(["m"]);
  });
});

describe("a message reaches each queue at most once", () => {
  it("delivers once to a topic queue bound with order.*, order.# and #", async () => {
    await exchange("once.x", "topic");
    await queues("once.q");
    for (const key of ["order.*", "order.#", "#"]) await bind("once.x", "once.q", key);
    expect(await routed("once.x", "order.created", "one")).toBe(true);
    expect(await drain("once.q")).toEqual(["one"]);
  });

  it("delivers once to a headers queue bound twice with arguments that both match", async () => {
    await exchange("onceh.x", "headers");
    await queues("onceh.q");
    await bind("onceh.x", "onceh.q", "", { a: 1 });
    await bind("onceh.x", "onceh.q", "", { b: 2 });
    expect(await routed("onceh.x", "", "one", withHeaders({ a: 1, b: 2 }))).toBe(true);
    expect(await drain("onceh.q")).toEqual(["one"]);
  });

  it("delivers once to a queue reachable through two exchange-to-exchange paths", async () => {
    await exchange("dia.top", "fanout");
    await exchange("dia.left", "fanout");
    await exchange("dia.right", "direct");
    await queues("dia.q");
    await link("dia.top", "dia.left");
    await link("dia.top", "dia.right", "k");
    await bind("dia.left", "dia.q");
    await bind("dia.right", "dia.q", "k");
    await bind("dia.top", "dia.q");

    expect(await routed("dia.top", "k", "one")).toBe(true);
    expect(await drain("dia.q")).toEqual(["one"]);
  });
});

describe("exchange-to-exchange bindings", () => {
  it("route A(topic) -> B(fanout) -> queue, keeping exchange A and the routing key", async () => {
    await exchange("e2e.a", "topic");
    await exchange("e2e.b", "fanout");
    await queues("e2e.q");
    await link("e2e.a", "e2e.b", "order.*");
    await bind("e2e.b", "e2e.q");

    expect(await routed("e2e.a", "order.created", "through")).toBe(true);
    expect(await routed("e2e.a", "user.created", "filtered")).toBe(false);
    const got = await getMessages("e2e.q");
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({
      payload: "through",
      exchange: "e2e.a",
      routing_key: "order.created",
    });
  });

  it("route along a chain of several exchanges", async () => {
    await exchange("chain.1", "direct");
    await exchange("chain.2", "topic");
    await exchange("chain.3", "fanout");
    await queues("chain.q");
    await link("chain.1", "chain.2", "a.b");
    await link("chain.2", "chain.3", "a.#");
    await bind("chain.3", "chain.q");

    expect(await routed("chain.1", "a.b", "deep")).toBe(true);
    expect(await drain("chain.q")).toEqual(["deep"]);
  });

  it("route along a chain longer than 32 exchanges", { timeout: 30_000 }, async () => {
    const length = 36;
    const names = Array.from({ length }, (_, i) => `long.${i}`);
    for (const name of names) await exchange(name, "fanout");
    await queues("long.q");
    for (let i = 0; i + 1 < length; i++) await link(names[i] ?? "", names[i + 1] ?? "");
    await bind(names[length - 1] ?? "", "long.q");
    expect(await routed("long.0", "k", "far")).toBe(true);
    expect(await drain("long.q")).toEqual(["far"]);
  });

  it("deliver exactly one copy per queue around a cycle A -> B -> A, promptly", {
    timeout: 10_000,
  }, async () => {
    await exchange("cyc.a", "fanout");
    await exchange("cyc.b", "fanout");
    await queues("cyc.qa", "cyc.qb");
    await link("cyc.a", "cyc.b");
    await link("cyc.b", "cyc.a");
    await bind("cyc.a", "cyc.qa");
    await bind("cyc.b", "cyc.qb");

    const started = Date.now();
    expect(await routed("cyc.a", "k", "from-a")).toBe(true);
    expect(await routed("cyc.b", "k", "from-b")).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await drain("cyc.qa")).toEqual(["from-a", "from-b"]);
    expect(await drain("cyc.qb")).toEqual(["from-a", "from-b"]);
  });

  it("deliver one copy to a queue bound to both exchanges of a cycle", {
    timeout: 10_000,
  }, async () => {
    await exchange("cyc2.a", "fanout");
    await exchange("cyc2.b", "fanout");
    await queues("cyc2.q");
    await link("cyc2.a", "cyc2.b");
    await link("cyc2.b", "cyc2.a");
    await bind("cyc2.a", "cyc2.q");
    await bind("cyc2.b", "cyc2.q");
    expect(await routed("cyc2.a", "k", "one")).toBe(true);
    expect(await routed("cyc2.b", "k", "two")).toBe(true);
    expect(await drain("cyc2.q")).toEqual(["one", "two"]);
  });

  it("deliver once through an exchange bound to itself", { timeout: 10_000 }, async () => {
    await exchange("self.x", "fanout");
    await queues("self.q");
    await link("self.x", "self.x");
    await bind("self.x", "self.q");
    expect(await routed("self.x", "k", "once")).toBe(true);
    expect(await drain("self.q")).toEqual(["once"]);
  });
});

// That an alternate exchange gets what its exchange cannot route, and only that, is checked for
// every exchange type at the end of this file.
describe("alternate exchanges", () => {
  it("leave a message unrouted when the alternate exchange does not exist", async () => {
    await exchange("aem.main", "direct", { arguments: { "alternate-exchange": "aem.missing" } });
    await queues("aem.q");
    await bind("aem.main", "aem.q", "known");
    expect(await routed("aem.main", "unknown")).toBe(false);
  });

  it("leave a message unrouted when the alternate exchange routes it nowhere", async () => {
    await exchange("aen.ae", "direct");
    await exchange("aen.main", "direct", { arguments: { "alternate-exchange": "aen.ae" } });
    await queues("aen.q");
    await bind("aen.ae", "aen.q", "other");
    expect(await routed("aen.main", "unknown")).toBe(false);
    expect(await drain("aen.q")).toEqual([]);
  });

  it("apply to an exchange reached through an exchange-to-exchange binding", async () => {
    await exchange("aemid.ae", "fanout");
    await exchange("aemid.mid", "direct", { arguments: { "alternate-exchange": "aemid.ae" } });
    await exchange("aemid.front", "fanout");
    await queues("aemid.q");
    await link("aemid.front", "aemid.mid");
    await bind("aemid.ae", "aemid.q");
    expect(await routed("aemid.front", "unknown", "caught")).toBe(true);
    expect(await drain("aemid.q")).toEqual(["caught"]);
  });

  it("may be internal and still receive what their exchange cannot route", async () => {
    await exchange("aeint.ae", "fanout", { internal: true });
    await exchange("aeint.main", "direct", { arguments: { "alternate-exchange": "aeint.ae" } });
    await queues("aeint.q");
    await bind("aeint.ae", "aeint.q");
    expect(await routed("aeint.main", "unknown", "caught")).toBe(true);
    expect(await drain("aeint.q")).toEqual(["caught"]);
  });

  it("that name each other end without a hang", { timeout: 10_000 }, async () => {
    await exchange("aeloop.a", "direct", { arguments: { "alternate-exchange": "aeloop.b" } });
    await exchange("aeloop.b", "direct", { arguments: { "alternate-exchange": "aeloop.a" } });
    expect(await routed("aeloop.a", "unknown")).toBe(false);
  });
});

describe("internal exchanges", () => {
  it("refuse a direct publish with 403 access_refused", async () => {
    await exchange("int.x", "fanout", { internal: true });
    await queues("int.q");
    await bind("int.x", "int.q");
    await expectError(await publish("int.x", "k", "m"), 403, "access_refused");
    expect(await drain("int.q")).toEqual([]);
  });

  it("refuse a batch publish with 403 access_refused", async () => {
    await exchange("intb.x", "fanout", { internal: true });
    const response = await call("POST", "/api/exchanges/%2F/intb.x/publish-batch", {
      body: { messages: [message("k", "m")] },
    });
    await expectError(response, 403, "access_refused");
  });

  it("still route what reaches them through an exchange-to-exchange binding", async () => {
    await exchange("intv.front", "direct");
    await exchange("intv.inner", "fanout", { internal: true });
    await queues("intv.q");
    await link("intv.front", "intv.inner", "k");
    await bind("intv.inner", "intv.q");
    expect(await routed("intv.front", "k", "inside")).toBe(true);
    expect(await drain("intv.q")).toEqual(["inside"]);
  });
});

describe("per-queue order", () => {
  it("keeps each producer's messages in order under concurrent publishes, without loss or duplicates", {
    timeout: 60_000,
  }, async () => {
    await exchange("conc.x", "direct");
    await queues("conc.q");
    await bind("conc.x", "conc.q", "k");

    const producers = 8;
    const perProducer = 25;
    const verdicts = await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const answers: boolean[] = [];
        for (let i = 0; i < perProducer; i++) {
          answers.push(await routed("conc.x", "k", `p${p}-${i}`));
        }
        return answers;
      }),
    );
    expect(verdicts.flat().every(Boolean)).toBe(true);

    const payloads = await drain("conc.q");
    expect(payloads).toHaveLength(producers * perProducer);
    expect(new Set(payloads).size).toBe(payloads.length);
    for (let p = 0; p < producers; p++) {
      const own = payloads.filter((payload) => payload.startsWith(`p${p}-`));
      expect(own).toEqual(Array.from({ length: perProducer }, (_, i) => `p${p}-${i}`));
    }
  });
});

describe("batch publish", () => {
  it("preserves order within the batch and answers routed per message", async () => {
    await exchange("batch.x", "direct");
    await queues("batch.q");
    await bind("batch.x", "batch.q", "k");

    const payloads = Array.from({ length: 20 }, (_, i) => `b${i}`);
    const results = await publishBatch(
      "batch.x",
      payloads.map((payload) => message("k", payload)),
    );
    expect(results).toEqual(payloads.map(() => true));
    expect(await drain("batch.q")).toEqual(payloads);
  });

  it("answers true and false in order for a mix of routable and unroutable keys", async () => {
    await exchange("mix.x", "topic");
    await queues("mix.a", "mix.b");
    await bind("mix.x", "mix.a", "a.*");
    await bind("mix.x", "mix.b", "b.#");

    const results = await publishBatch("mix.x", [
      message("a.1", "m0"),
      message("c.1", "m1"),
      message("b", "m2"),
      message("a", "m3"),
      message("b.x.y", "m4"),
      message("a.2", "m5"),
    ]);
    expect(results).toEqual([true, false, true, false, true, true]);
    expect(await drain("mix.a")).toEqual(["m0", "m5"]);
    expect(await drain("mix.b")).toEqual(["m2", "m4"]);
  });

  it("routes a batch through the default exchange to each named queue in order", async () => {
    await queues("bdef.a", "bdef.b");
    const results = await publishBatch("amq.default", [
      message("bdef.a", "a1"),
      message("bdef.b", "b1"),
      message("bdef.none", "lost"),
      message("bdef.a", "a2"),
      message("bdef.b", "b2"),
    ]);
    expect(results).toEqual([true, true, false, true, true]);
    expect(await drain("bdef.a")).toEqual(["a1", "a2"]);
    expect(await drain("bdef.b")).toEqual(["b1", "b2"]);
  });

  it("delivers each message of a batch once to a queue reached by several bindings", async () => {
    await exchange("bonce.x", "topic");
    await queues("bonce.q");
    await bind("bonce.x", "bonce.q", "a.*");
    await bind("bonce.x", "bonce.q", "#");
    const results = await publishBatch("bonce.x", [
      message("a.b", "m0"),
      message("z", "m1"),
      message("a.c", "m2"),
    ]);
    expect(results).toEqual([true, true, true]);
    expect(await drain("bonce.q")).toEqual(["m0", "m1", "m2"]);
  });
});

/** Publishes a specimen's message (test/routing/specimens.ts) and answers `routed`. */
async function sendSpecimen(exchangeName: string, message: RoutableMessage, payload: string) {
  const response = await expectStatus(
    await publish(exchangeName, message.routingKey, payload, {
      properties: message.headers ? { headers: message.headers } : {},
    }),
    200,
  );
  return (await json<{ routed: boolean }>(response)).routed;
}

// What every exchange type does, run once per type with its specimen; what only one type does
// is above.
describe.each(SPECIMEN_LIST)("a %s exchange in the broker", (type, specimen) => {
  const { binding, routes, misses } = specimen;
  const name = (what: string) => `xt.${type}.${what}`;

  it("routes what its binding matches into the bound queue, nothing else, until unbound", async () => {
    const exchange = name("main");
    const queue = name("q");
    await expectStatus(await declareExchange(exchange, type), 201);
    await expectStatus(await declareQueue(queue), 201);
    await expectStatus(await bindQueue(exchange, queue, binding.key, binding.args), 201);

    expect(await sendSpecimen(exchange, routes, "matched")).toBe(true);
    if (misses) expect(await sendSpecimen(exchange, misses.message, "missed")).toBe(false);
    const got = await getMessages(queue);
    expect(got.map((m) => m.payload)).toEqual(["matched"]);
    expect(got[0]).toMatchObject({ exchange, routing_key: routes.routingKey });

    const listed = await json<{ properties_key: string }[]>(
      await call("GET", `/api/bindings/%2F/e/${seg(exchange)}/q/${seg(queue)}`),
    );
    expect(listed).toHaveLength(1);
    await expectStatus(
      await call(
        "DELETE",
        `/api/bindings/%2F/e/${seg(exchange)}/q/${seg(queue)}/${seg(listed[0]?.properties_key ?? "")}`,
      ),
      204,
    );
    expect(await sendSpecimen(exchange, routes, "after unbind")).toBe(false);
    expect(await drain(queue)).toEqual([]);
  });

  it("hands what it cannot route to its alternate exchange, and only that", async () => {
    const exchange = name("ae.main");
    const alternate = name("ae.alt");
    const bound = name("ae.bound");
    const unrouted = name("ae.unrouted");
    await expectStatus(await declareExchange(alternate, "fanout"), 201);
    await expectStatus(
      await declareExchange(exchange, type, { arguments: { "alternate-exchange": alternate } }),
      201,
    );
    await expectStatus(await declareQueue(bound), 201);
    await expectStatus(await declareQueue(unrouted), 201);
    await expectStatus(await bindQueue(alternate, unrouted), 201);

    // Without bindings every type routes nothing itself.
    expect(await sendSpecimen(exchange, routes, "before binding")).toBe(true);
    await expectStatus(await bindQueue(exchange, bound, binding.key, binding.args), 201);
    expect(await sendSpecimen(exchange, routes, "matched")).toBe(true);
    if (misses) expect(await sendSpecimen(exchange, misses.message, "missed")).toBe(true);

    expect(await drain(bound)).toEqual(["matched"]);
    expect(await drain(unrouted)).toEqual(
      misses ? ["before binding", "missed"] : ["before binding"],
    );
  });

  it("routes through an exchange-to-exchange binding as through a queue binding", async () => {
    const source = name("e2e.source");
    const destination = name("e2e.destination");
    const queue = name("e2e.q");
    await expectStatus(await declareExchange(source, type), 201);
    await expectStatus(await declareExchange(destination, "fanout"), 201);
    await expectStatus(await declareQueue(queue), 201);
    await expectStatus(await bindExchange(source, destination, binding.key, binding.args), 201);
    await expectStatus(await bindQueue(destination, queue), 201);

    expect(await sendSpecimen(source, routes, "through")).toBe(true);
    if (misses) expect(await sendSpecimen(source, misses.message, "missed")).toBe(false);
    const got = await getMessages(queue);
    // The copy keeps the exchange it was published to, as in RabbitMQ.
    expect(got.map((m) => [m.payload, m.exchange])).toEqual([["through", source]]);
  });
});
