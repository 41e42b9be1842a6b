/**
 * /api/bindings and the per-exchange / per-queue binding lists. Every queue is implicitly bound
 * to the default exchange by its own name; RabbitMQ lists that binding, and so do we.
 */
import type { Hono } from "hono";
import { BrokerError, unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import {
  type Binding,
  bindingBodySchema,
  type DestinationType,
  quotePlus,
  unquotePlus,
} from "../protocol/bindings";
import { checkRoutingKey, describe, type ObjectKind } from "../protocol/names";
import { parseUserId } from "../protocol/notification";
import type { BindingFilter } from "../storage/catalog-store";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { knownVhosts } from "./guards";
import { listAnswer } from "./pagination";
import { exchangeParam, nameParam, vhostParam } from "./params";
import { resource } from "./routes";
import { requireBindingPermissions } from "./topic-access";

function defaultBinding(vhost: string, queue: string): Binding {
  return {
    source: "",
    vhost,
    destination: queue,
    destination_type: "queue",
    routing_key: queue,
    arguments: {},
    properties_key: quotePlus(queue),
  };
}

async function bindingsOf(c: AppContext, vhost: string, filter: BindingFilter): Promise<Binding[]> {
  const catalog = vhostStub(c.env, vhost);
  const { bindings } = unwrap(await catalog.listBindings(vhost, filter));
  const wantsDefault =
    (filter.source === undefined || filter.source === "") &&
    (filter.destinationType === undefined || filter.destinationType === "queue");
  if (!wantsDefault) {
    return bindings;
  }
  const { queues } = unwrap(await catalog.listQueues(vhost));
  const implicit = queues
    .filter((queue) => filter.destination === undefined || filter.destination === queue.name)
    .map((queue) => defaultBinding(vhost, queue.name));
  return [...implicit, ...bindings];
}

const asItems = (bindings: Binding[]) => bindings as unknown as Record<string, unknown>[];

/** Path letters: RabbitMQ's `q` and `e`, and this broker's `i` for a notification inbox. */
function destinationParam(c: AppContext, type: DestinationType): string {
  switch (type) {
    case "queue":
      return nameParam(c, "queue", "destination");
    case "exchange":
      return exchangeParam(c, "destination");
    case "inbox": {
      const id = parseUserId(c.req.param("destination"));
      if (id === null) throw new BrokerError("bad_request", "inbox must be a user id");
      return String(id);
    }
  }
}

function destinationRoutes(
  app: Hono<AppEnv>,
  letter: "q" | "e" | "i",
  type: DestinationType,
): void {
  const base = `/api/bindings/:vhost/e/:source/${letter}/:destination`;
  const endpoints = (c: AppContext) => ({
    vhost: vhostParam(c),
    source: exchangeParam(c, "source"),
    destination: destinationParam(c, type),
  });

  resource(
    app,
    base,
    {
      GET: async (c) => {
        const { vhost, source, destination } = endpoints(c);
        await requireEndpoints(c, vhost, source, type, destination);
        return c.json(
          listAnswer(
            c,
            asItems(await bindingsOf(c, vhost, { source, destinationType: type, destination })),
          ),
        );
      },
      POST: async (c) => {
        const { vhost, source, destination } = endpoints(c);
        const body = await parseBody(c, bindingBodySchema);
        const badKey = checkRoutingKey(body.routing_key);
        if (badKey) throw BrokerError.from(badKey);
        await requireBindingPermissions(c, vhost, source, destination, body.routing_key);
        const bound = await vhostStub(c.env, vhost).bind(vhost, {
          source,
          destinationType: type,
          destination,
          routingKey: body.routing_key,
          arguments: body.arguments,
        });
        if (!bound.ok && bound.code === "not_found") {
          await requireEndpoints(c, vhost, source, type, destination, true);
        }
        const { binding } = unwrap(bound);
        // Relative to this URL, as RabbitMQ answers: "<destination>/<properties_key>".
        c.header(
          "Location",
          `${encodeURIComponent(destination)}/${encodeURIComponent(binding.properties_key)}`,
        );
        return c.body(null, 201);
      },
    },
    {
      GET: { summary: "Bindings between two objects" },
      POST: {
        summary: "Bind; Location names the binding's properties_key",
        body: bindingBodySchema,
      },
    },
  );

  resource(app, `${base}/:props`, {
    GET: async (c) => {
      const { vhost, source, destination } = endpoints(c);
      const between = { source, destinationType: type, destination };
      const binding = findByPropertiesKey(
        await bindingsOf(c, vhost, between),
        c.req.param("props"),
      );
      if (!binding) throw new BrokerError("not_found", "Not Found");
      return c.json(binding);
    },
    DELETE: async (c) => {
      const { vhost, source, destination } = endpoints(c);
      if (source === "") {
        throw new BrokerError("access_refused", "operation not permitted on the default exchange");
      }
      const between = { source, destinationType: type, destination };
      const typed = c.req.param("props") ?? "";
      const binding = findByPropertiesKey(await bindingsOf(c, vhost, between), typed);
      await requireBindingPermissions(c, vhost, source, destination, binding?.routing_key ?? null);
      unwrap(
        await vhostStub(c.env, vhost).unbind(vhost, {
          ...between,
          propertiesKey: binding?.properties_key ?? typed,
        }),
      );
      return c.body(null, 204);
    },
  });
}

/**
 * The binding a path's properties_key names. RabbitMQ accepts it as listed (`f.%2A`, which
 * arrives %-encoded once more in the URL) and as typed (`f.*`, as rabbitmqadmin sends a key the
 * user wrote unencoded): an exact match first, then one after undoing the quoting on both sides.
 */
function findByPropertiesKey(bindings: Binding[], key: string | undefined): Binding | undefined {
  if (key === undefined) return undefined;
  const exact = bindings.find((b) => b.properties_key === key);
  if (exact) return exact;
  const wanted = unquotePlus(key);
  return bindings.find((b) => unquotePlus(b.properties_key) === wanted);
}

/**
 * Listing the bindings between two objects answers 404 when either does not exist; a binding to
 * a missing end names it as RabbitMQ does (`named`): `no exchange 'x' in vhost '/'`.
 */
async function requireEndpoints(
  c: AppContext,
  vhost: string,
  source: string,
  type: DestinationType,
  destination: string,
  named = false,
): Promise<void> {
  const catalog = vhostStub(c.env, vhost);
  const check = (answer: { ok: boolean }, kind: ObjectKind, name: string) => {
    if (!answer.ok && named)
      throw new BrokerError("not_found", `no ${describe(kind, name, vhost)}`);
    unwrap(answer);
  };
  if (source !== "") check(await catalog.getExchange(vhost, source), "exchange", source);
  if (type === "queue") check(await catalog.getQueue(vhost, destination), "queue", destination);
  else if (type === "inbox") unwrap(await catalog.getInbox(vhost, Number(destination)));
  else check(await catalog.getExchange(vhost, destination), "exchange", destination);
}

export function bindingRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/bindings", {
    GET: async (c) => {
      const all = await Promise.all(knownVhosts(c).map((vhost) => bindingsOf(c, vhost, {})));
      return c.json(listAnswer(c, asItems(all.flat())));
    },
  });
  resource(app, "/api/bindings/:vhost", {
    GET: async (c) => c.json(listAnswer(c, asItems(await bindingsOf(c, vhostParam(c), {})))),
  });
  destinationRoutes(app, "q", "queue");
  destinationRoutes(app, "e", "exchange");
  destinationRoutes(app, "i", "inbox");

  resource(app, "/api/exchanges/:vhost/:name/bindings/source", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const source = exchangeParam(c);
      if (source !== "") unwrap(await vhostStub(c.env, vhost).getExchange(vhost, source));
      return c.json(listAnswer(c, asItems(await bindingsOf(c, vhost, { source }))));
    },
  });
  resource(app, "/api/exchanges/:vhost/:name/bindings/destination", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const destination = exchangeParam(c);
      if (destination !== "") unwrap(await vhostStub(c.env, vhost).getExchange(vhost, destination));
      const filter = { destinationType: "exchange" as const, destination };
      return c.json(listAnswer(c, asItems(await bindingsOf(c, vhost, filter))));
    },
  });
  resource(app, "/api/queues/:vhost/:name/bindings", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const queue = nameParam(c, "queue");
      unwrap(await vhostStub(c.env, vhost).getQueue(vhost, queue));
      const filter = { destinationType: "queue" as const, destination: queue };
      return c.json(listAnswer(c, asItems(await bindingsOf(c, vhost, filter))));
    },
  });
}
