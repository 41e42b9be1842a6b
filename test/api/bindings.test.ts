/**
 * The bindings API as RabbitMQ's management plugin serves it
 * (../shared/reference/rabbitmq-http-api.md): creating, reading and deleting bindings by their
 * properties_key, the implicit default-exchange bindings, and what happens to bindings when the
 * objects at either end go away.
 */
import { describe, expect, it } from "vitest";
import {
  bindExchange,
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  expectError,
  json,
  routed,
  seg,
} from "../support/api";

interface Binding {
  source: string;
  vhost: string;
  destination: string;
  destination_type: "queue" | "exchange";
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
}

interface Paged<T> {
  filtered_count: number;
  item_count: number;
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

/** Fails with the answer's body when the status is not the expected one. */
async function expectStatus(response: Response, status: number): Promise<Response> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${await response.text()}`);
  }
  return response;
}

async function getJson<T>(path: string): Promise<T> {
  return json<T>(await expectStatus(await call("GET", path), 200));
}

const queueBindingsPath = (exchange: string, queue: string): string =>
  `/api/bindings/%2F/e/${seg(exchange)}/q/${seg(queue)}`;

const exchangeBindingsPath = (source: string, destination: string): string =>
  `/api/bindings/%2F/e/${seg(source)}/e/${seg(destination)}`;

/** The binding every queue has to the default exchange, as RabbitMQ lists it. */
const defaultBinding = (queue: string): Binding => ({
  source: "",
  vhost: "/",
  destination: queue,
  destination_type: "queue",
  routing_key: queue,
  arguments: {},
  properties_key: queue,
});

const byKey = (a: Binding, b: Binding): number =>
  `${a.source}/${a.destination}/${a.properties_key}` <
  `${b.source}/${b.destination}/${b.properties_key}`
    ? -1
    : 1;

async function setUp(
  exchanges: readonly (readonly [name: string, type: string, extra?: Record<string, unknown>])[],
  queues: readonly string[],
): Promise<void> {
  for (const [name, type, extra] of exchanges) {
    await expectStatus(await declareExchange(name, type, extra), 201);
  }
  for (const queue of queues) {
    await expectStatus(await declareQueue(queue), 201);
  }
}

describe("binding an exchange to a queue", () => {
  it("answers 201 with a Location of the queue and its url-encoded properties_key", async () => {
    await setUp([["loc.x", "topic"]], ["demo"]);
    const response = await expectStatus(await bindQueue("loc.x", "demo", "order.*"), 201);
    expect(response.headers.get("Location")).toBe("demo/order.%252A");
  });

  it("lists the new binding with every field RabbitMQ shows", async () => {
    await setUp([["list.x", "topic"]], ["list.q"]);
    await expectStatus(await bindQueue("list.x", "list.q", "order.*"), 201);
    expect(await getJson<Binding[]>(queueBindingsPath("list.x", "list.q"))).toEqual([
      {
        source: "list.x",
        vhost: "/",
        destination: "list.q",
        destination_type: "queue",
        routing_key: "order.*",
        arguments: {},
        properties_key: "order.%2A",
      },
    ]);
  });

  it("answers one binding when addressed by its properties_key", async () => {
    await setUp([["one.x", "topic"]], ["one.q"]);
    const created = await expectStatus(await bindQueue("one.x", "one.q", "order.*"), 201);
    const location = created.headers.get("Location") ?? "";
    const binding = await getJson<Binding>(`/api/bindings/%2F/e/one.x/q/${location}`);
    expect(binding).toEqual({
      source: "one.x",
      vhost: "/",
      destination: "one.q",
      destination_type: "queue",
      routing_key: "order.*",
      arguments: {},
      properties_key: "order.%2A",
    });
  });

  it("answers 404 for a properties_key that names no binding", async () => {
    await setUp([["nokey.x", "direct"]], ["nokey.q"]);
    await expectStatus(await bindQueue("nokey.x", "nokey.q", "a"), 201);
    const response = await call("GET", `${queueBindingsPath("nokey.x", "nokey.q")}/b`);
    const body = await expectError(response, 404, "Object Not Found");
    expect(body.reason).toBe("Not Found");
  });

  it("stops routing once the binding is deleted, and a second delete answers 404", async () => {
    await setUp([["del.x", "topic"]], ["del.q"]);
    await expectStatus(await bindQueue("del.x", "del.q", "order.*"), 201);
    expect(await routed("del.x", "order.created")).toBe(true);

    const path = `${queueBindingsPath("del.x", "del.q")}/${seg("order.%2A")}`;
    await expectStatus(await call("DELETE", path), 204);
    expect(await routed("del.x", "order.created")).toBe(false);
    expect(await getJson<Binding[]>(queueBindingsPath("del.x", "del.q"))).toEqual([]);

    await expectError(await call("DELETE", path), 404, "Object Not Found");
  });

  it("gives the empty routing key the properties_key ~", async () => {
    await setUp([["empty.x", "fanout"]], ["empty.q"]);
    const response = await expectStatus(await bindQueue("empty.x", "empty.q", ""), 201);
    expect(response.headers.get("Location")).toBe("empty.q/~");
    const [binding] = await getJson<Binding[]>(queueBindingsPath("empty.x", "empty.q"));
    expect(binding?.properties_key).toBe("~");
    await expectStatus(await call("DELETE", `${queueBindingsPath("empty.x", "empty.q")}/~`), 204);
  });

  it("binds idempotently: the same binding twice is listed once", async () => {
    await setUp([["twice.x", "direct"]], ["twice.q"]);
    await expectStatus(await bindQueue("twice.x", "twice.q", "k"), 201);
    await expectStatus(await bindQueue("twice.x", "twice.q", "k"), 201);
    expect(await getJson<Binding[]>(queueBindingsPath("twice.x", "twice.q"))).toHaveLength(1);
  });

  it("quotes spaces as + and other reserved characters as %XX in the properties_key", async () => {
    await setUp([["quote.x", "direct"]], ["quote.q"]);
    const response = await expectStatus(await bindQueue("quote.x", "quote.q", "a b/c"), 201);
    expect(response.headers.get("Location")).toBe("quote.q/a%2Bb%252Fc");
    const [binding] = await getJson<Binding[]>(queueBindingsPath("quote.x", "quote.q"));
    expect(binding?.properties_key).toBe("a+b%2Fc");
  });

  it("quotes a tilde in the routing key as %7E, keeping ~ as the separator", async () => {
    await setUp([["tilde.x", "direct"]], ["tilde.q"]);
    await expectStatus(await bindQueue("tilde.x", "tilde.q", "a~b"), 201);
    const [binding] = await getJson<Binding[]>(queueBindingsPath("tilde.x", "tilde.q"));
    expect(binding?.properties_key).toBe("a%7Eb");
  });

  it("keeps a binding whose key spells another binding's properties_key apart", async () => {
    await setUp([["spell.x", "direct"]], ["spell.q"]);
    await expectStatus(await bindQueue("spell.x", "spell.q", "k", { note: "n" }), 201);
    const [first] = await getJson<Binding[]>(queueBindingsPath("spell.x", "spell.q"));
    const lookalike = first?.properties_key ?? "";
    expect(lookalike).toMatch(/^k~/);

    await expectStatus(await bindQueue("spell.x", "spell.q", lookalike), 201);
    expect(await routed("spell.x", "k")).toBe(true);
    expect(await routed("spell.x", lookalike)).toBe(true);
    expect(await getJson<Binding[]>(queueBindingsPath("spell.x", "spell.q"))).toHaveLength(2);
  });
});

describe("bindings with arguments", () => {
  it("get a properties_key of the quoted key, a tilde and a digest of the arguments", async () => {
    await setUp([["args.x", "topic"]], ["args.q"]);
    const response = await expectStatus(
      await bindQueue("args.x", "args.q", "order.*", { "x-note": "n" }),
      201,
    );
    const [binding] = await getJson<Binding[]>(queueBindingsPath("args.x", "args.q"));
    expect(binding?.arguments).toEqual({ "x-note": "n" });
    expect(binding?.properties_key).toMatch(/^order\.%2A~[A-Za-z0-9_\-%]+$/);
    expect(response.headers.get("Location")).toBe(
      `args.q/${encodeURIComponent(binding?.properties_key ?? "")}`,
    );
  });

  it("keep two bindings that differ only in arguments apart", async () => {
    await setUp([["pair.x", "headers"]], ["pair.q"]);
    await expectStatus(await bindQueue("pair.x", "pair.q", "", { "x-match": "any", a: 1 }), 201);
    await expectStatus(await bindQueue("pair.x", "pair.q", "", { "x-match": "any", b: 2 }), 201);
    const bindings = await getJson<Binding[]>(queueBindingsPath("pair.x", "pair.q"));
    expect(bindings).toHaveLength(2);
    const [first, second] = bindings;
    expect(first?.properties_key).not.toBe(second?.properties_key);

    const withA = bindings.find((b) => b.arguments.a === 1);
    expect(withA).toBeDefined();
    const path = `${queueBindingsPath("pair.x", "pair.q")}/${seg(withA?.properties_key ?? "")}`;
    await expectStatus(await call("DELETE", path), 204);
    expect(await routed("pair.x", "", "m", { properties: { headers: { a: 1 } } })).toBe(false);
    expect(await routed("pair.x", "", "m", { properties: { headers: { b: 2 } } })).toBe(true);
  });

  it("treat equal argument tables as one binding whatever their key order", async () => {
    await setUp([["order.x", "headers"]], ["order.q"]);
    await expectStatus(await bindQueue("order.x", "order.q", "", { a: 1, b: 2 }), 201);
    await expectStatus(await bindQueue("order.x", "order.q", "", { b: 2, a: 1 }), 201);
    expect(await getJson<Binding[]>(queueBindingsPath("order.x", "order.q"))).toHaveLength(1);
  });
});

describe("refused bindings", () => {
  it("answers 404 naming the missing source exchange, as RabbitMQ does", async () => {
    await setUp([], ["nosrc.q"]);
    const body = await expectError(await bindQueue("nosrc.x", "nosrc.q", "k"), 404);
    expect(body).toEqual({
      error: "Object Not Found",
      reason: "no exchange 'nosrc.x' in vhost '/'",
    });
  });

  it("answers 404 naming the missing destination queue", async () => {
    await setUp([["nodst.x", "direct"]], []);
    const body = await expectError(await bindQueue("nodst.x", "nodst.q", "k"), 404);
    expect(body).toEqual({ error: "Object Not Found", reason: "no queue 'nodst.q' in vhost '/'" });
  });

  it("answers 404 naming the missing destination exchange", async () => {
    await setUp([["nodstx.a", "direct"]], []);
    const body = await expectError(await bindExchange("nodstx.a", "nodstx.b", "k"), 404);
    expect(body).toEqual({
      error: "Object Not Found",
      reason: "no exchange 'nodstx.b' in vhost '/'",
    });
  });

  it("refuses a binding from the default exchange with 403 access_refused", async () => {
    await setUp([], ["fromdef.q"]);
    await expectError(await bindQueue("amq.default", "fromdef.q", "k"), 403, "access_refused");
    await expectError(
      await call("POST", exchangeBindingsPath("amq.default", "amq.direct"), {
        body: { routing_key: "k", arguments: {} },
      }),
      403,
      "access_refused",
    );
  });

  it("refuses a binding to the default exchange with 403 access_refused", async () => {
    await setUp([["todef.x", "direct"]], []);
    await expectError(await bindExchange("todef.x", "amq.default", "k"), 403, "access_refused");
  });

  it("refuses to delete the implicit default-exchange binding with 403 access_refused", async () => {
    await setUp([], ["undef.q"]);
    const path = `${queueBindingsPath("amq.default", "undef.q")}/undef.q`;
    await expectError(await call("DELETE", path), 403, "access_refused");
    expect(await routed("", "undef.q")).toBe(true);
  });

  it("rejects a headers binding with an invalid x-match value and stores nothing", async () => {
    await setUp([["xm.x", "headers"]], ["xm.q"]);
    const body = await expectError(
      await bindQueue("xm.x", "xm.q", "", { "x-match": "some", a: 1 }),
      400,
      "bad_request",
    );
    expect(body.reason).toContain("x-match");
    await expectError(await bindQueue("xm.x", "xm.q", "", { "x-match": 1 }), 400, "bad_request");
    expect(await getJson<Binding[]>(queueBindingsPath("xm.x", "xm.q"))).toEqual([]);
    expect(await routed("xm.x", "", "m", { properties: { headers: { a: 1 } } })).toBe(false);
  });

  it("validates x-match only on headers exchanges", async () => {
    await setUp([["xmd.x", "direct"]], ["xmd.q"]);
    await expectStatus(await bindQueue("xmd.x", "xmd.q", "k", { "x-match": "some" }), 201);
    expect(await routed("xmd.x", "k")).toBe(true);
  });

  it("answers 405 with an error body to a method the binding path does not support", async () => {
    await setUp([["m405.x", "direct"]], ["m405.q"]);
    const body = await expectError(
      await call("PUT", queueBindingsPath("m405.x", "m405.q"), { body: { routing_key: "k" } }),
      405,
    );
    expect(body.error).toBe("method_not_allowed");
    await expectError(await call("POST", `${queueBindingsPath("m405.x", "m405.q")}/k`), 405);
  });

  it("answers 404 for an unknown vhost", async () => {
    await expectError(await call("GET", "/api/bindings/nope/e/A/q/B"), 404, "Object Not Found");
    await expectError(await bindQueue("A", "B", "k", {}, "nope"), 404, "Object Not Found");
    await expectError(await call("GET", "/api/bindings/nope"), 404, "Object Not Found");
  });

  it("answers 404 listing the bindings of an exchange or queue that does not exist", async () => {
    await expectError(await call("GET", "/api/exchanges/%2F/lstx.none/bindings/source"), 404);
    await expectError(await call("GET", "/api/exchanges/%2F/lstx.none/bindings/destination"), 404);
    await expectError(await call("GET", "/api/queues/%2F/lstx.none/bindings"), 404);
  });

  it("answers 404 when listing bindings between objects that do not exist", async () => {
    await setUp([["lst404.x", "direct"]], []);
    await expectError(await call("GET", queueBindingsPath("lst404.x", "lst404.q")), 404);
    await expectError(await call("GET", queueBindingsPath("lst404.none", "lst404.q")), 404);
  });
});

describe("exchange-to-exchange bindings", () => {
  it("answer 201 and are listed from the source and from the destination", async () => {
    await setUp(
      [
        ["e2e.a", "topic"],
        ["e2e.b", "fanout"],
      ],
      [],
    );
    const response = await expectStatus(await bindExchange("e2e.a", "e2e.b", "order.#"), 201);
    expect(response.headers.get("Location")).toBe("e2e.b/order.%2523");
    const expected: Binding = {
      source: "e2e.a",
      vhost: "/",
      destination: "e2e.b",
      destination_type: "exchange",
      routing_key: "order.#",
      arguments: {},
      properties_key: "order.%23",
    };
    expect(await getJson<Binding[]>(exchangeBindingsPath("e2e.a", "e2e.b"))).toEqual([expected]);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/e2e.a/bindings/source")).toEqual([
      expected,
    ]);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/e2e.b/bindings/destination")).toEqual([
      expected,
    ]);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/e2e.b/bindings/source")).toEqual([]);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/e2e.a/bindings/destination")).toEqual([]);
  });

  it("are deleted by their properties_key", async () => {
    await setUp(
      [
        ["e2edel.a", "direct"],
        ["e2edel.b", "fanout"],
      ],
      ["e2edel.q"],
    );
    await expectStatus(await bindExchange("e2edel.a", "e2edel.b", "k"), 201);
    await expectStatus(await bindQueue("e2edel.b", "e2edel.q"), 201);
    expect(await routed("e2edel.a", "k")).toBe(true);
    await expectStatus(
      await call("DELETE", `${exchangeBindingsPath("e2edel.a", "e2edel.b")}/k`),
      204,
    );
    expect(await routed("e2edel.a", "k")).toBe(false);
    expect(await getJson<Binding[]>(exchangeBindingsPath("e2edel.a", "e2edel.b"))).toEqual([]);
  });
});

describe("the default exchange's implicit bindings", () => {
  it("are listed for every queue in the vhost's binding list", async () => {
    await setUp([], ["impl.q1", "impl.q2"]);
    const all = await getJson<Binding[]>("/api/bindings/%2F");
    expect(all).toContainEqual(defaultBinding("impl.q1"));
    expect(all).toContainEqual(defaultBinding("impl.q2"));
  });

  it("are listed with a queue's explicit bindings", async () => {
    await setUp([["qb.x", "direct"]], ["qb.q"]);
    await expectStatus(await bindQueue("qb.x", "qb.q", "k1"), 201);
    await expectStatus(await bindQueue("qb.x", "qb.q", "k2"), 201);
    const bindings = await getJson<Binding[]>("/api/queues/%2F/qb.q/bindings");
    const explicit = (key: string): Binding => ({
      source: "qb.x",
      vhost: "/",
      destination: "qb.q",
      destination_type: "queue",
      routing_key: key,
      arguments: {},
      properties_key: key,
    });
    expect([...bindings].sort(byKey)).toEqual(
      [defaultBinding("qb.q"), explicit("k1"), explicit("k2")].sort(byKey),
    );
  });

  it("can be read through amq.default", async () => {
    await setUp([], ["viadef.q"]);
    expect(await getJson<Binding[]>(queueBindingsPath("amq.default", "viadef.q"))).toEqual([
      defaultBinding("viadef.q"),
    ]);
    expect(
      await getJson<Binding>(`${queueBindingsPath("amq.default", "viadef.q")}/viadef.q`),
    ).toEqual(defaultBinding("viadef.q"));
  });

  it("are not listed for an exchange-to-exchange query", async () => {
    await setUp([], ["notee.q"]);
    const all = await getJson<Binding[]>("/api/exchanges/%2F/amq.direct/bindings/destination");
    expect(all.filter((b) => b.source === "")).toEqual([]);
  });
});

describe("bindings when the objects they join go away", () => {
  it("are no longer listed once their queue is deleted", async () => {
    await setUp([["gone.x", "direct"]], ["gone.q"]);
    await expectStatus(await bindQueue("gone.x", "gone.q", "k"), 201);
    await expectStatus(await call("DELETE", "/api/queues/%2F/gone.q"), 204);

    expect(await getJson<Binding[]>("/api/exchanges/%2F/gone.x/bindings/source")).toEqual([]);
    const all = await getJson<Binding[]>("/api/bindings/%2F");
    expect(all.filter((b) => b.destination === "gone.q")).toEqual([]);
    expect(await routed("gone.x", "k")).toBe(false);
  });

  it("do not come back when a queue of the same name is declared again", async () => {
    await setUp([["again.x", "direct"]], ["again.q"]);
    await expectStatus(await bindQueue("again.x", "again.q", "k"), 201);
    await expectStatus(await call("DELETE", "/api/queues/%2F/again.q"), 204);
    await expectStatus(await declareQueue("again.q"), 201);
    expect(await routed("again.x", "k")).toBe(false);
    expect(await getJson<Binding[]>("/api/queues/%2F/again.q/bindings")).toEqual([
      defaultBinding("again.q"),
    ]);
  });

  it("are removed in both directions when their exchange is deleted", async () => {
    await setUp(
      [
        ["both.up", "fanout"],
        ["both.mid", "fanout"],
      ],
      ["both.q"],
    );
    await expectStatus(await bindExchange("both.up", "both.mid"), 201);
    await expectStatus(await bindQueue("both.mid", "both.q"), 201);
    expect(await routed("both.up", "k")).toBe(true);

    await expectStatus(await call("DELETE", "/api/exchanges/%2F/both.mid"), 204);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/both.up/bindings/source")).toEqual([]);
    expect(await getJson<Binding[]>("/api/queues/%2F/both.q/bindings")).toEqual([
      defaultBinding("both.q"),
    ]);
    const all = await getJson<Binding[]>("/api/bindings/%2F");
    expect(all.filter((b) => b.source === "both.mid" || b.destination === "both.mid")).toEqual([]);
    expect(await routed("both.up", "k")).toBe(false);

    // A new exchange of the same name starts with no bindings.
    await expectStatus(await declareExchange("both.mid", "fanout"), 201);
    expect(await routed("both.mid", "k")).toBe(false);
    expect(await routed("both.up", "k")).toBe(false);
  });

  it("delete an auto_delete exchange when its last binding is removed", async () => {
    await setUp([["auto.x", "direct", { auto_delete: true }]], ["auto.q"]);
    await expectStatus(await bindQueue("auto.x", "auto.q", "k1"), 201);
    await expectStatus(await bindQueue("auto.x", "auto.q", "k2"), 201);

    await expectStatus(await call("DELETE", `${queueBindingsPath("auto.x", "auto.q")}/k1`), 204);
    await expectStatus(await call("GET", "/api/exchanges/%2F/auto.x"), 200);

    await expectStatus(await call("DELETE", `${queueBindingsPath("auto.x", "auto.q")}/k2`), 204);
    await expectError(await call("GET", "/api/exchanges/%2F/auto.x"), 404, "Object Not Found");
  });

  it("delete an auto_delete exchange when the queue holding its last binding is deleted", async () => {
    await setUp([["autoq.x", "fanout", { auto_delete: true }]], ["autoq.q"]);
    await expectStatus(await bindQueue("autoq.x", "autoq.q"), 201);
    await expectStatus(await call("DELETE", "/api/queues/%2F/autoq.q"), 204);
    await expectError(await call("GET", "/api/exchanges/%2F/autoq.x"), 404, "Object Not Found");
  });

  it("drop an auto-deleted exchange's incoming bindings, cascading to auto_delete sources", async () => {
    await setUp(
      [
        ["casc.top", "fanout", { auto_delete: true }],
        ["casc.keep", "fanout"],
        ["casc.mid", "fanout", { auto_delete: true }],
      ],
      ["casc.q"],
    );
    await expectStatus(await bindExchange("casc.top", "casc.mid"), 201);
    await expectStatus(await bindExchange("casc.keep", "casc.mid"), 201);
    await expectStatus(await bindQueue("casc.mid", "casc.q"), 201);

    await expectStatus(await call("DELETE", `${queueBindingsPath("casc.mid", "casc.q")}/~`), 204);
    await expectError(await call("GET", "/api/exchanges/%2F/casc.mid"), 404);
    await expectError(await call("GET", "/api/exchanges/%2F/casc.top"), 404);
    await expectStatus(await call("GET", "/api/exchanges/%2F/casc.keep"), 200);
    expect(await getJson<Binding[]>("/api/exchanges/%2F/casc.keep/bindings/source")).toEqual([]);
    expect(await routed("casc.keep", "k")).toBe(false);
  });

  it("leave an auto_delete exchange that never had a binding in place", async () => {
    await setUp([["autonever.x", "fanout", { auto_delete: true }]], []);
    await expectStatus(await call("GET", "/api/exchanges/%2F/autonever.x"), 200);
  });
});

describe("the paginated binding list", () => {
  it("answers the page envelope with page_size items", async () => {
    await setUp([["page.x", "direct"]], ["page.q"]);
    for (const key of ["p1", "p2", "p3"]) {
      await expectStatus(await bindQueue("page.x", "page.q", key), 201);
    }
    const all = await getJson<Binding[]>("/api/bindings/%2F");
    const first = await getJson<Paged<Binding>>("/api/bindings/%2F?page=1&page_size=2");
    expect(Object.keys(first).sort()).toEqual([
      "filtered_count",
      "item_count",
      "items",
      "page",
      "page_count",
      "page_size",
      "total_count",
    ]);
    expect(first).toMatchObject({
      filtered_count: all.length,
      item_count: 2,
      page: 1,
      page_count: Math.ceil(all.length / 2),
      page_size: 2,
      total_count: all.length,
    });
    expect(first.items).toEqual(all.slice(0, 2));

    const second = await getJson<Paged<Binding>>("/api/bindings/%2F?page=2&page_size=2");
    expect(second.page).toBe(2);
    expect(second.items).toEqual(all.slice(2, 4));
  });
});
