/**
 * What every exchange type does through the broker, run once per type with its specimen
 * (test/routing/specimens.ts): a binding routes what it matches into its queue and nothing else,
 * an unbind stops it, what the exchange cannot route goes to its alternate exchange, and an
 * exchange-to-exchange binding of the type routes as a queue binding does. What only one type
 * does is in test/api/routing.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RoutableMessage } from "../../src/routing/exchange-type";
import { SPECIMEN_LIST } from "../routing/specimens";
import {
  bindExchange,
  bindQueue,
  call,
  declareExchange,
  declareQueue,
  drain,
  getMessages,
  json,
  publish,
  seg,
} from "../support/api";

async function ok(response: Response, status: number): Promise<void> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${await response.text()}`);
  }
}

/** Publishes a specimen's message and answers the broker's `routed` verdict. */
async function send(exchange: string, message: RoutableMessage, payload: string) {
  const response = await publish(exchange, message.routingKey, payload, {
    properties: message.headers ? { headers: message.headers } : {},
  });
  await ok(response.clone(), 200);
  return (await json<{ routed: boolean }>(response)).routed;
}

// A fresh broker's first declaration sets up its registry and default vhost (a password hash
// among them): done once here, so each type's tests measure only themselves.
beforeAll(async () => {
  await ok(await declareQueue("xt.warm-up"), 201);
}, 30_000);

describe.each(SPECIMEN_LIST)("a %s exchange in the broker", (type, specimen) => {
  const { binding, routes, misses } = specimen;
  const name = (what: string) => `xt.${type}.${what}`;

  it("routes what its binding matches into the bound queue, nothing else, until unbound", async () => {
    const exchange = name("main");
    const queue = name("q");
    await ok(await declareExchange(exchange, type), 201);
    await ok(await declareQueue(queue), 201);
    await ok(await bindQueue(exchange, queue, binding.key, binding.args), 201);

    expect(await send(exchange, routes, "matched")).toBe(true);
    if (misses) expect(await send(exchange, misses.message, "missed")).toBe(false);
    const got = await getMessages(queue);
    expect(got.map((m) => m.payload)).toEqual(["matched"]);
    expect(got[0]).toMatchObject({ exchange, routing_key: routes.routingKey });

    const listed = await json<{ properties_key: string }[]>(
      await call("GET", `/api/bindings/%2F/e/${seg(exchange)}/q/${seg(queue)}`),
    );
    expect(listed).toHaveLength(1);
    await ok(
      await call(
        "DELETE",
        `/api/bindings/%2F/e/${seg(exchange)}/q/${seg(queue)}/${seg(listed[0]?.properties_key ?? "")}`,
      ),
      204,
    );
    expect(await send(exchange, routes, "after unbind")).toBe(false);
    expect(await drain(queue)).toEqual([]);
  });

  it("hands what it cannot route to its alternate exchange, and only that", async () => {
    const exchange = name("ae.main");
    const alternate = name("ae.alt");
    const bound = name("ae.bound");
    const unrouted = name("ae.unrouted");
    await ok(await declareExchange(alternate, "fanout"), 201);
    await ok(
      await declareExchange(exchange, type, { arguments: { "alternate-exchange": alternate } }),
      201,
    );
    await ok(await declareQueue(bound), 201);
    await ok(await declareQueue(unrouted), 201);
    await ok(await bindQueue(alternate, unrouted), 201);

    // Without bindings every type routes nothing itself.
    expect(await send(exchange, routes, "before binding")).toBe(true);
    await ok(await bindQueue(exchange, bound, binding.key, binding.args), 201);
    expect(await send(exchange, routes, "matched")).toBe(true);
    if (misses) expect(await send(exchange, misses.message, "missed")).toBe(true);

    expect(await drain(bound)).toEqual(["matched"]);
    expect(await drain(unrouted)).toEqual(
      misses ? ["before binding", "missed"] : ["before binding"],
    );
  });

  it("routes through an exchange-to-exchange binding as through a queue binding", async () => {
    const source = name("e2e.source");
    const destination = name("e2e.destination");
    const queue = name("e2e.q");
    await ok(await declareExchange(source, type), 201);
    await ok(await declareExchange(destination, "fanout"), 201);
    await ok(await declareQueue(queue), 201);
    await ok(await bindExchange(source, destination, binding.key, binding.args), 201);
    await ok(await bindQueue(destination, queue), 201);

    expect(await send(source, routes, "through")).toBe(true);
    if (misses) expect(await send(source, misses.message, "missed")).toBe(false);
    const got = await getMessages(queue);
    // The copy keeps the exchange it was published to, as in RabbitMQ.
    expect(got.map((m) => [m.payload, m.exchange])).toEqual([["through", source]]);
  });
});
