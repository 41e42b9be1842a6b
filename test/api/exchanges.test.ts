import { describe, expect, it } from "vitest";
import { call, declareExchange, expectError, json, seg } from "../support/api";

interface ExchangeInfo {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
}

describe("exchange declaration", () => {
  it("creates an exchange with 201 and reads it back", async () => {
    expect((await declareExchange("ex.orders", "topic")).status).toBe(201);
    const response = await call("GET", "/api/exchanges/%2F/ex.orders");
    expect(response.status).toBe(200);
    expect(await json<ExchangeInfo>(response)).toEqual({
      name: "ex.orders",
      vhost: "/",
      type: "topic",
      durable: true,
      auto_delete: false,
      internal: false,
      arguments: {},
      message_stats: {
        publish_in: 0,
        publish_in_details: { rate: 0 },
        publish_out: 0,
        publish_out_details: { rate: 0 },
      },
    });
  });

  it("answers 204 to an equivalent redeclaration", async () => {
    await declareExchange("ex.same", "direct", { durable: true });
    expect((await declareExchange("ex.same", "direct", { durable: true })).status).toBe(204);
  });

  it("refuses a redeclaration with another type as inequivalent", async () => {
    await declareExchange("orders", "topic");
    const body = await expectError(await declareExchange("orders", "direct"), 400, "bad_request");
    expect(body.reason).toBe(
      "inequivalent arg 'type' for exchange 'orders' in vhost '/': received 'direct' but current is 'topic'",
    );
  });

  it("refuses a redeclaration with another durability or alternate exchange", async () => {
    await declareExchange("ex.dur", "fanout", { durable: true });
    const durable = await expectError(
      await declareExchange("ex.dur", "fanout", { durable: false }),
      400,
    );
    expect(durable.reason).toContain("inequivalent arg 'durable'");
    await declareExchange("ex.ae", "fanout", { arguments: { "alternate-exchange": "a" } });
    const ae = await expectError(
      await declareExchange("ex.ae", "fanout", { arguments: { "alternate-exchange": "b" } }),
      400,
    );
    expect(ae.reason).toContain("inequivalent arg 'alternate-exchange'");
  });

  it("refuses an unknown exchange type", async () => {
    const body = await expectError(
      await declareExchange("ex.bad", "nosuchtype"),
      400,
      "bad_request",
    );
    expect(body.reason).toBe("unknown exchange type 'nosuchtype'");
  });

  it("refuses names with the reserved amq. prefix with 403", async () => {
    const body = await expectError(
      await declareExchange("amq.mine", "direct"),
      403,
      "access_refused",
    );
    expect(body.reason).toContain("reserved prefix 'amq.*'");
    await expectError(await declareExchange("amq.direct", "direct"), 403, "access_refused");
  });

  it("refuses a name longer than 255 bytes", async () => {
    const name = "é".repeat(128); // 256 bytes of UTF-8 in 128 characters
    await expectError(await declareExchange(name, "direct"), 400, "bad_request");
    expect((await declareExchange("x".repeat(255), "direct")).status).toBe(201);
  });

  it("declares a direct exchange when no type is given, as RabbitMQ 3.10 does, and checks field types", async () => {
    const untyped = await call("PUT", "/api/exchanges/%2F/ex.notype", { body: { durable: true } });
    expect(untyped.status).toBe(201);
    const declared = await json<{ type: string }>(
      await call("GET", "/api/exchanges/%2F/ex.notype"),
    );
    expect(declared.type).toBe("direct");
    const wrong = await expectError(
      await call("PUT", "/api/exchanges/%2F/ex.types", {
        body: { type: "direct", durable: "yes" },
      }),
      400,
      "bad_request",
    );
    expect(wrong.reason).toBe('[{not_boolean,durable,"yes"}]');
    await expectError(
      await call("PUT", "/api/exchanges/%2F/ex.args", {
        body: { type: "direct", arguments: { "alternate-exchange": 5 } },
      }),
      400,
    );
  });

  it("ignores unknown body keys", async () => {
    const response = await call("PUT", "/api/exchanges/%2F/ex.extra", {
      body: { type: "fanout", surprise: 1 },
    });
    expect(response.status).toBe(201);
  });

  it("keeps names with slashes, spaces and unicode intact", async () => {
    const name = "billing/eu west ünïcode";
    expect((await declareExchange(name, "direct")).status).toBe(201);
    const response = await call("GET", `/api/exchanges/%2F/${seg(name)}`);
    expect((await json<ExchangeInfo>(response)).name).toBe(name);
  });
});

describe("exchange lists", () => {
  it("lists the default and built-in exchanges of every vhost", async () => {
    const response = await call("GET", "/api/exchanges/%2F");
    const names = (await json<ExchangeInfo[]>(response)).map((e) => e.name);
    for (const name of ["", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match"]) {
      expect(names).toContain(name);
    }
  });

  it("shows the default exchange under amq.default", async () => {
    const response = await call("GET", "/api/exchanges/%2F/amq.default");
    expect(await json<ExchangeInfo>(response)).toMatchObject({ name: "", type: "direct" });
  });

  it("paginates with RabbitMQ's envelope", async () => {
    for (const n of [1, 2, 3]) await declareExchange(`page.ex.${n}`, "direct");
    const response = await call("GET", "/api/exchanges/%2F?page=2&page_size=2&name=page.ex");
    expect(await json(response)).toMatchObject({
      filtered_count: 3,
      item_count: 1,
      page: 2,
      page_count: 2,
      page_size: 2,
      items: [{ name: "page.ex.3" }],
    });
    const all = await json<{ total_count: number }>(
      await call("GET", "/api/exchanges?page=1&page_size=2&name=page.ex"),
    );
    expect(all.total_count).toBeGreaterThanOrEqual(9);
  });

  it("filters by regex, sorts, reverses and selects columns", async () => {
    for (const n of ["b", "a", "c"]) await declareExchange(`sort.${n}`, "fanout");
    const response = await call(
      "GET",
      "/api/exchanges/%2F?name=^sort\\.[ab]$&use_regex=true&sort=name&sort_reverse=true&columns=name,type",
    );
    expect(await json(response)).toEqual([
      { name: "sort.b", type: "fanout" },
      { name: "sort.a", type: "fanout" },
    ]);
  });

  it("refuses a page out of range, a page size above 500 and a bad regex", async () => {
    await expectError(await call("GET", "/api/exchanges/%2F?page=99"), 400);
    await expectError(await call("GET", "/api/exchanges/%2F?page=1&page_size=501"), 400);
    await expectError(await call("GET", "/api/exchanges/%2F?page=zero"), 400);
    await expectError(await call("GET", "/api/exchanges/%2F?name=(&use_regex=true"), 400);
  });
});

describe("exchange deletion", () => {
  it("deletes an exchange, then answers 404", async () => {
    await declareExchange("ex.gone", "direct");
    expect((await call("DELETE", "/api/exchanges/%2F/ex.gone")).status).toBe(204);
    await expectError(await call("GET", "/api/exchanges/%2F/ex.gone"), 404, "Object Not Found");
    await expectError(await call("DELETE", "/api/exchanges/%2F/ex.gone"), 404);
  });

  it("refuses if-unused deletion while the exchange has bindings", async () => {
    await declareExchange("ex.used", "direct");
    await call("PUT", "/api/queues/%2F/q.used", { body: {} });
    await call("POST", "/api/bindings/%2F/e/ex.used/q/q.used", { body: { routing_key: "k" } });
    const body = await expectError(
      await call("DELETE", "/api/exchanges/%2F/ex.used?if-unused=true"),
      400,
    );
    expect(body.reason).toContain("in use");
    expect((await call("DELETE", "/api/exchanges/%2F/ex.used")).status).toBe(204);
  });

  it("refuses to delete built-in exchanges and the default exchange", async () => {
    await expectError(await call("DELETE", "/api/exchanges/%2F/amq.topic"), 403, "access_refused");
    await expectError(
      await call("DELETE", "/api/exchanges/%2F/amq.default"),
      403,
      "access_refused",
    );
  });

  it("lets a deleted exchange be declared again with another type", async () => {
    await declareExchange("ex.reborn", "direct");
    await call("DELETE", "/api/exchanges/%2F/ex.reborn");
    expect((await declareExchange("ex.reborn", "fanout")).status).toBe(201);
    const response = await call("GET", "/api/exchanges/%2F/ex.reborn");
    expect((await json<ExchangeInfo>(response)).type).toBe("fanout");
  });
});
