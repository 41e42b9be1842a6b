/**
 * Delayed delivery: the x-delayed-message exchange type with x-delayed-type and the x-delay
 * header (the rabbitmq-delayed-message-exchange plugin's interface). A held message waits in
 * the exchange object's SQLite and is routed when due, by the exchange's bindings at that time.
 *
 * Every wait here is a barrier: a queue's count reaching what is expected, or the exchange's
 * `messages_delayed` reaching 0 (a held message is deleted only once its destinations stored it).
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { exchangeStub } from "../../src/gateway/stubs";
import { createUser, grant } from "../support/access";
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
} from "../support/api";
import { EVENTUALLY } from "../support/barriers";
import { isType, openSocket, sleep } from "../support/socket";

const delayed = (type: string, extra: Record<string, unknown> = {}) => ({
  arguments: { "x-delayed-type": type, ...extra },
});
const delayBy = (ms: unknown, headers: Record<string, unknown> = {}) => ({
  properties: { headers: { ...headers, "x-delay": ms } },
});

interface ExchangeInfo {
  type: string;
  arguments: Record<string, unknown>;
  messages_delayed?: number;
}
const exchangeInfo = async (name: string) =>
  json<ExchangeInfo>(await call("GET", `/api/exchanges/%2F/${name}`));
const messagesIn = async (queue: string) =>
  (await json<{ messages: number }>(await call("GET", `/api/queues/%2F/${queue}`))).messages;

/** Waits until the exchange holds nothing: every released message is stored where it went. */
async function untilReleased(exchange: string): Promise<void> {
  await vi.waitFor(
    async () => expect((await exchangeInfo(exchange)).messages_delayed).toBe(0),
    EVENTUALLY,
  );
}

async function untilCount(queue: string, n: number): Promise<void> {
  await vi.waitFor(async () => expect(await messagesIn(queue)).toBe(n), EVENTUALLY);
}

/** One publish-batch: its messages share one publish time, so their due times differ by x-delay. */
async function publishBatch(
  exchange: string,
  messages: { payload: string; delay?: number; routing_key?: string }[],
) {
  const response = await call("POST", `/api/exchanges/%2F/${exchange}/publish-batch`, {
    body: {
      messages: messages.map((m) => ({
        routing_key: m.routing_key ?? "",
        payload: m.payload,
        payload_encoding: "string",
        properties: m.delay === undefined ? {} : { headers: { "x-delay": m.delay } },
      })),
    },
  });
  expect(response.status).toBe(200);
  return (await json<{ results: Record<string, unknown>[] }>(response)).results;
}

async function heldRows(exchange: string): Promise<{ rows: number; alarm: number | null }> {
  const stub = exchangeStub(env, "/", exchange) as unknown as DurableObjectStub;
  return runInDurableObject(stub, async (_instance, state) => ({
    rows: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delayed").one().n,
    alarm: await state.storage.getAlarm(),
  }));
}

describe("declaring a delayed exchange", () => {
  it("declares x-delayed-message with an x-delayed-type and shows messages_delayed", async () => {
    const response = await declareExchange("dl.declared", "x-delayed-message", delayed("topic"));
    expect(response.status).toBe(201);
    expect(await exchangeInfo("dl.declared")).toMatchObject({
      type: "x-delayed-message",
      arguments: { "x-delayed-type": "topic" },
      messages_delayed: 0,
    });
    const overview = await json<{ exchange_types: { name: string; description: string }[] }>(
      await call("GET", "/api/overview"),
    );
    expect(overview.exchange_types).toContainEqual(
      expect.objectContaining({
        name: "x-delayed-message",
        description: "Delayed Message Exchange.",
      }),
    );
  });

  it.each([
    [
      "without x-delayed-type",
      {},
      "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
    ],
    [
      "with a non-string x-delayed-type",
      { "x-delayed-type": 5 },
      "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type",
    ],
    [
      "with itself as x-delayed-type",
      { "x-delayed-type": "x-delayed-message" },
      "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'",
    ],
    [
      "with an unknown x-delayed-type",
      { "x-delayed-type": "x-consistent-hash" },
      "unknown exchange type 'x-consistent-hash'",
    ],
  ])("refuses a declaration %s with 400 and the plugin's reason", async (_, args, reason) => {
    const name = `dl.bad-${Object.keys(args).length}-${String(Object.values(args)[0])}`;
    const body = await expectError(
      await declareExchange(name, "x-delayed-message", { arguments: args }),
      400,
      "bad_request",
    );
    expect(body.reason).toBe(reason);
    expect((await call("GET", `/api/exchanges/%2F/${encodeURIComponent(name)}`)).status).toBe(404);
  });

  it("refuses a redeclaration with another x-delayed-type", async () => {
    await declareExchange("dl.redeclared", "x-delayed-message", delayed("direct"));
    expect(
      (await declareExchange("dl.redeclared", "x-delayed-message", delayed("direct"))).status,
    ).toBe(204);
    const body = await expectError(
      await declareExchange("dl.redeclared", "x-delayed-message", delayed("fanout")),
      400,
    );
    expect(body.reason).toBe(
      "inequivalent arg 'x-delayed-type' for exchange 'dl.redeclared' in vhost '/': received 'fanout' but current is 'direct'",
    );
  });

  it("refuses a definitions import whose delayed exchange has no valid x-delayed-type", async () => {
    const body = await expectError(
      await call("POST", "/api/definitions", {
        body: {
          exchanges: [
            {
              name: "dl.import-bad",
              vhost: "/",
              type: "x-delayed-message",
              durable: true,
              auto_delete: false,
              internal: false,
              arguments: {},
            },
          ],
        },
      }),
      400,
    );
    expect(body.reason).toContain("'x-delayed-type' must be an existing exchange type");
  });
});

describe("publishing to a delayed exchange", () => {
  it("holds a message with a positive x-delay, answers routed+delayed, and routes it when due", async () => {
    await declareExchange("dl.basic", "x-delayed-message", delayed("direct"));
    await declareQueue("dl.basic-q");
    await bindQueue("dl.basic", "dl.basic-q", "k");
    const response = await publish("dl.basic", "k", "later", delayBy(150, { trace: "t1" }));
    expect(await json(response)).toEqual({ routed: true, delayed: true });
    expect(await messagesIn("dl.basic-q")).toBe(0);
    expect((await exchangeInfo("dl.basic")).messages_delayed).toBe(1);
    await untilReleased("dl.basic");
    const [got] = await getMessages("dl.basic-q");
    expect(got?.payload).toBe("later");
    expect(got?.routing_key).toBe("k");
    // As the plugin does, x-delay comes out negative: another delayed exchange will not hold it again.
    expect(got?.properties.headers).toEqual({ trace: "t1", "x-delay": -150 });
  });

  it("routes at once a message whose x-delay is absent, zero, negative or not a number", async () => {
    await declareExchange("dl.now", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.now-q");
    await bindQueue("dl.now", "dl.now-q");
    const results = await publishBatch("dl.now", [
      { payload: "absent" },
      { payload: "zero", delay: 0 },
      { payload: "negative", delay: -500 },
    ]);
    expect(results).toEqual([{ routed: true }, { routed: true }, { routed: true }]);
    expect(await json(await publish("dl.now", "", "word", delayBy("soon")))).toEqual({
      routed: true,
    });
    expect(await drain("dl.now-q")).toEqual(["absent", "zero", "negative", "word"]);
    expect((await exchangeInfo("dl.now")).messages_delayed).toBe(0);
  });

  it("reads x-delay as the plugin does: a decimal truncated, a string of digits parsed", async () => {
    await declareExchange("dl.forms", "x-delayed-message", delayed("fanout"));
    const results = await Promise.all([
      publish("dl.forms", "", "decimal", delayBy(60_000.9)),
      publish("dl.forms", "", "string", delayBy("60000")),
      publish("dl.forms", "", "fraction", delayBy(0.5)),
    ]);
    expect(await Promise.all(results.map((r) => json(r)))).toEqual([
      { routed: true, delayed: true },
      { routed: true, delayed: true },
      { routed: false },
    ]);
    expect((await exchangeInfo("dl.forms")).messages_delayed).toBe(2);
  });

  it("routes by the bindings as they are at release time, not at publish time", async () => {
    await declareExchange("dl.late-bind", "x-delayed-message", delayed("direct"));
    await declareQueue("dl.late-bind-q");
    const response = await publish("dl.late-bind", "k", "bound-later", delayBy(200));
    expect(await json(response)).toEqual({ routed: true, delayed: true });
    await bindQueue("dl.late-bind", "dl.late-bind-q", "k");
    await untilReleased("dl.late-bind");
    expect(await drain("dl.late-bind-q")).toEqual(["bound-later"]);
  });

  it("sends a message unroutable at release time to the alternate exchange", async () => {
    await declareExchange("dl.ae", "fanout");
    await declareQueue("dl.ae-q");
    await bindQueue("dl.ae", "dl.ae-q");
    await declareExchange(
      "dl.with-ae",
      "x-delayed-message",
      delayed("direct", { "alternate-exchange": "dl.ae" }),
    );
    await publish("dl.with-ae", "nowhere", "to-ae", delayBy(30));
    await untilReleased("dl.with-ae");
    expect(await drain("dl.ae-q")).toEqual(["to-ae"]);
  });
});

describe("routing at release by each x-delayed-type", () => {
  it("direct: by routing key", async () => {
    await declareExchange("dl.direct", "x-delayed-message", delayed("direct"));
    for (const q of ["dl.direct-a", "dl.direct-b"]) await declareQueue(q);
    await bindQueue("dl.direct", "dl.direct-a", "a");
    await bindQueue("dl.direct", "dl.direct-b", "b");
    await publishBatch("dl.direct", [
      { payload: "to-a", delay: 20, routing_key: "a" },
      { payload: "to-b", delay: 20, routing_key: "b" },
      { payload: "to-none", delay: 20, routing_key: "c" },
    ]);
    await untilReleased("dl.direct");
    expect(await drain("dl.direct-a")).toEqual(["to-a"]);
    expect(await drain("dl.direct-b")).toEqual(["to-b"]);
  });

  it("fanout: to every bound queue", async () => {
    await declareExchange("dl.fanout", "x-delayed-message", delayed("fanout"));
    for (const q of ["dl.fanout-a", "dl.fanout-b"]) {
      await declareQueue(q);
      await bindQueue("dl.fanout", q, "ignored");
    }
    await publishBatch("dl.fanout", [{ payload: "all", delay: 20, routing_key: "any" }]);
    await untilReleased("dl.fanout");
    expect(await drain("dl.fanout-a")).toEqual(["all"]);
    expect(await drain("dl.fanout-b")).toEqual(["all"]);
  });

  it("topic: by pattern", async () => {
    await declareExchange("dl.topic", "x-delayed-message", delayed("topic"));
    for (const q of ["dl.topic-eu", "dl.topic-all"]) await declareQueue(q);
    await bindQueue("dl.topic", "dl.topic-eu", "orders.eu.*");
    await bindQueue("dl.topic", "dl.topic-all", "orders.#");
    await publishBatch("dl.topic", [
      { payload: "eu", delay: 20, routing_key: "orders.eu.new" },
      { payload: "us", delay: 20, routing_key: "orders.us.new" },
      { payload: "other", delay: 20, routing_key: "invoices.eu.new" },
    ]);
    await untilReleased("dl.topic");
    expect(await drain("dl.topic-eu")).toEqual(["eu"]);
    expect(await drain("dl.topic-all")).toEqual(["eu", "us"]);
  });

  it("headers: by x-match over the headers, x-delay among them", async () => {
    await declareExchange("dl.headers", "x-delayed-message", delayed("headers"));
    for (const q of ["dl.headers-pdf", "dl.headers-any"]) await declareQueue(q);
    await bindQueue("dl.headers", "dl.headers-pdf", "", { "x-match": "all", format: "pdf" });
    await bindQueue("dl.headers", "dl.headers-any", "", {
      "x-match": "any",
      format: "pdf",
      size: "big",
    });
    await publish("dl.headers", "", "pdf", delayBy(20, { format: "pdf" }));
    await publish("dl.headers", "", "big", delayBy(20, { size: "big" }));
    await publish("dl.headers", "", "none", delayBy(20, { format: "png" }));
    await untilReleased("dl.headers");
    expect(await drain("dl.headers-pdf")).toEqual(["pdf"]);
    expect((await drain("dl.headers-any")).sort()).toEqual(["big", "pdf"]);
  });

  it("passes released messages on through exchange-to-exchange bindings", async () => {
    await declareExchange("dl.e2e", "x-delayed-message", delayed("fanout"));
    await declareExchange("dl.e2e-next", "direct");
    await declareQueue("dl.e2e-q");
    await bindExchange("dl.e2e", "dl.e2e-next");
    await bindQueue("dl.e2e-next", "dl.e2e-q", "k");
    await publish("dl.e2e", "k", "hop", delayBy(20));
    await untilReleased("dl.e2e");
    expect(await drain("dl.e2e-q")).toEqual(["hop"]);
  });
});

describe("a delayed exchange behind another exchange", () => {
  it("holds what reaches it through an exchange-to-exchange binding, as the plugin does", async () => {
    await declareExchange("dl.front", "direct");
    await declareExchange("dl.behind", "x-delayed-message", delayed("fanout", {}));
    await declareQueue("dl.behind-q");
    await declareQueue("dl.front-q");
    await bindExchange("dl.front", "dl.behind", "k");
    await bindQueue("dl.front", "dl.front-q", "k");
    await bindQueue("dl.behind", "dl.behind-q");
    expect(await json(await publish("dl.front", "k", "held", delayBy(100)))).toEqual({
      routed: true,
    });
    // The front exchange's own queue has it at once; the delayed exchange holds its copy.
    expect(await drain("dl.front-q")).toEqual(["held"]);
    expect(await messagesIn("dl.behind-q")).toBe(0);
    expect((await exchangeInfo("dl.behind")).messages_delayed).toBe(1);
    await untilReleased("dl.behind");
    const [got] = await getMessages("dl.behind-q");
    expect(got?.payload).toBe("held");
    expect(got?.properties.headers).toEqual({ "x-delay": -100 });
  });

  it("answers delayed when holding is all that became of the message", async () => {
    await declareExchange("dl.front-only", "fanout");
    await declareExchange("dl.behind-only", "x-delayed-message", delayed("fanout"));
    await bindExchange("dl.front-only", "dl.behind-only");
    expect(await json(await publish("dl.front-only", "", "m", delayBy(60_000)))).toEqual({
      routed: true,
      delayed: true,
    });
    expect(await json(await publish("dl.front-only", "", "now"))).toEqual({ routed: false });
    expect((await exchangeInfo("dl.behind-only")).messages_delayed).toBe(1);
  });
});

describe("release order and durability", () => {
  it("releases in due-time order with interleaved delays, ties in publish order", async () => {
    await declareExchange("dl.order", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.order-q");
    await bindQueue("dl.order", "dl.order-q");
    const delays = [400, 100, 300, 100, 200, 400, 0, 300, 200, 100];
    const results = await publishBatch(
      "dl.order",
      delays.map((delay, i) => ({ payload: `m${i}-${delay}`, delay })),
    );
    expect(results.filter((r) => r.delayed === true)).toHaveLength(9);
    await untilCount("dl.order-q", delays.length);
    const expected = delays
      .map((delay, i) => ({ delay, i }))
      .sort((a, b) => a.delay - b.delay || a.i - b.i)
      .map(({ delay, i }) => `m${i}-${delay}`);
    expect(await drain("dl.order-q")).toEqual(expected);
  });

  it("stores a batch of 1,000 delayed messages in one call and releases them all, in order, over several batches", async () => {
    await declareExchange("dl.many", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.many-q");
    await bindQueue("dl.many", "dl.many-q");
    const messages = Array.from({ length: 1000 }, (_, i) => ({
      payload: `n${i}`,
      delay: 50 + (i % 2) * 50,
    }));
    const results = await publishBatch("dl.many", messages);
    expect(results.every((r) => r.delayed === true)).toBe(true);
    await untilReleased("dl.many");
    const got = await drain("dl.many-q");
    const evens = messages.filter((_, i) => i % 2 === 0).map((m) => m.payload);
    const odds = messages.filter((_, i) => i % 2 === 1).map((m) => m.payload);
    expect(got).toEqual([...evens, ...odds]);
  });

  it("after the exchange object restarts while messages wait, releases them all, in order", async () => {
    await declareExchange("dl.restart", "x-delayed-message", delayed("direct"));
    await declareQueue("dl.restart-q");
    await bindQueue("dl.restart", "dl.restart-q", "k");
    const delays = [600, 300, 500, 300, 400];
    await publishBatch(
      "dl.restart",
      delays.map((delay, i) => ({ payload: `r${i}`, delay, routing_key: "k" })),
    );
    expect((await heldRows("dl.restart")).rows).toBe(5);
    // The process dies with every message still waiting: the object restarts from its storage.
    const stub = exchangeStub(env, "/", "dl.restart") as unknown as DurableObjectStub;
    await runInDurableObject(stub, (_instance, state) => {
      state.abort("simulated crash");
    }).catch(() => undefined);
    expect((await exchangeInfo("dl.restart")).messages_delayed).toBe(5);
    await untilCount("dl.restart-q", 5);
    expect(await drain("dl.restart-q")).toEqual(["r1", "r3", "r4", "r2", "r0"]);
    expect(await heldRows("dl.restart")).toEqual({ rows: 0, alarm: null });
  });

  it("releases in order what fell due while the object was down, even with its alarm lost", async () => {
    await declareExchange("dl.down", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.down-q");
    await bindQueue("dl.down", "dl.down-q");
    const delays = [90, 30, 60, 30, 10, 90];
    await publishBatch(
      "dl.down",
      delays.map((delay, i) => ({ payload: `d${i}`, delay })),
    );
    const stub = exchangeStub(env, "/", "dl.down") as unknown as DurableObjectStub;
    // Nothing releases them meanwhile: the alarm is gone, as if lost with the process.
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
    await sleep(150); // a deadline, not a race: past every due time, so all are due at once
    expect(await messagesIn("dl.down-q")).toBe(0);
    await runInDurableObject(stub, (_instance, state) => {
      state.abort("simulated crash");
    }).catch(() => undefined);
    // Any call wakes the object; starting, it re-arms its alarm for the earliest held message.
    await exchangeInfo("dl.down");
    await untilCount("dl.down-q", delays.length);
    expect(await drain("dl.down-q")).toEqual(["d4", "d1", "d3", "d2", "d0", "d5"]);
  });

  it("drops the waiting messages and the alarm when the exchange is deleted", async () => {
    await declareExchange("dl.deleted", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.deleted-q");
    await bindQueue("dl.deleted", "dl.deleted-q");
    await publishBatch("dl.deleted", [
      { payload: "a", delay: 60_000 },
      { payload: "b", delay: 90_000 },
    ]);
    expect(await heldRows("dl.deleted")).toMatchObject({ rows: 2 });
    expect((await heldRows("dl.deleted")).alarm).not.toBeNull();
    expect((await call("DELETE", "/api/exchanges/%2F/dl.deleted")).status).toBe(204);
    expect(await heldRows("dl.deleted")).toEqual({ rows: 0, alarm: null });
    // Declared again under the same name, it starts empty.
    await declareExchange("dl.deleted", "x-delayed-message", delayed("fanout"));
    expect((await exchangeInfo("dl.deleted")).messages_delayed).toBe(0);
  });

  it("holds a delay beyond the plugin's 2^32-1 ms cap instead of routing it at once", async () => {
    await declareExchange("dl.far", "x-delayed-message", delayed("fanout"));
    await declareQueue("dl.far-q");
    await bindQueue("dl.far", "dl.far-q");
    const sixtyDays = 60 * 24 * 3600 * 1000;
    expect(await json(await publish("dl.far", "", "far", delayBy(sixtyDays)))).toEqual({
      routed: true,
      delayed: true,
    });
    expect(await messagesIn("dl.far-q")).toBe(0);
    const { alarm } = await heldRows("dl.far");
    expect(alarm).toBeGreaterThan(Date.now() + sixtyDays - 60_000);
  });
});

describe("delayed exchanges in definitions and over the producer socket", () => {
  it("exports the type and x-delayed-type, and an import declares a working delayed exchange", async () => {
    await declareExchange("dl.exported", "x-delayed-message", delayed("topic"));
    const exported = await json<{ exchanges: { name: string }[] }>(
      await call("GET", "/api/definitions"),
    );
    const entry = exported.exchanges.find((e) => e.name === "dl.exported");
    expect(entry).toMatchObject({
      type: "x-delayed-message",
      arguments: { "x-delayed-type": "topic" },
    });
    const imported = { ...entry, name: "dl.imported" };
    expect(
      (await call("POST", "/api/definitions", { body: { exchanges: [imported] } })).status,
    ).toBe(204);
    expect(await exchangeInfo("dl.imported")).toMatchObject({
      type: "x-delayed-message",
      arguments: { "x-delayed-type": "topic" },
      messages_delayed: 0,
    });
    await declareQueue("dl.imported-q");
    await bindQueue("dl.imported", "dl.imported-q", "a.*");
    expect(await json(await publish("dl.imported", "a.b", "x", delayBy(20)))).toEqual({
      routed: true,
      delayed: true,
    });
    await untilReleased("dl.imported");
    expect(await drain("dl.imported-q")).toEqual(["x"]);
  });

  it("confirms delayed messages of a producer frame as routed, stored in one call", async () => {
    await declareExchange("dl.socket", "x-delayed-message", delayed("fanout"));
    const socket = await openSocket("/api/publish/%2F");
    const messages = Array.from({ length: 200 }, (_, i) => ({
      seq: i + 1,
      exchange: "dl.socket",
      routing_key: "",
      payload: `s${i}`,
      properties: { headers: { "x-delay": 60_000 } },
    }));
    socket.send({ type: "publish", messages });
    const confirm = await socket.next(isType("confirm"));
    expect(confirm).toMatchObject({ seq: 200, multiple: true, routed: true });
    expect((await exchangeInfo("dl.socket")).messages_delayed).toBe(200);
    socket.close();
  });
});

describe("who may publish to a delayed exchange", () => {
  it("takes write on the exchange, as any publish: without it, 403 and nothing held", async () => {
    await declareExchange("dl.guarded", "x-delayed-message", delayed("topic"));
    const writer = await createUser("dl-writer", "pw");
    const reader = await createUser("dl-reader", "pw");
    await grant("/", "dl-writer", "", "^dl\\.guarded$", "");
    await grant("/", "dl-reader", "", "^$", ".*");
    const body = {
      routing_key: "a.b",
      payload: "m",
      payload_encoding: "string",
      properties: { headers: { "x-delay": 60_000 } },
    };
    const path = "/api/exchanges/%2F/dl.guarded/publish";
    await expectError(await call("POST", path, { auth: reader, body }), 403, "access_refused");
    expect(
      await call("POST", `${path}-batch`, { auth: reader, body: { messages: [body] } }),
    ).toMatchObject({
      status: 403,
    });
    expect((await exchangeInfo("dl.guarded")).messages_delayed).toBe(0);
    expect(await json(await call("POST", path, { auth: writer, body }))).toEqual({
      routed: true,
      delayed: true,
    });
    expect((await exchangeInfo("dl.guarded")).messages_delayed).toBe(1);
    expect((await call("POST", path, { auth: null, body })).status).toBe(401);
  });
});
