/**
 * GET /api/definitions (everything) and GET /api/definitions/{vhost} (one vhost's exchanges,
 * queues and bindings, as RabbitMQ's per-vhost export), in RabbitMQ's JSON format; POST
 * /api/definitions and POST /api/definitions/{vhost} import one (src/api/definitions-import.ts). Administrators only. Users are
 * exported with their password hashes and nothing else secret, as RabbitMQ exports them; no other
 * endpoint returns a hash. Built-in exchanges and the default exchange's implicit bindings are
 * not exported, as RabbitMQ does not export them.
 */
import type { Hono } from "hono";
import { PRODUCT } from "../config";
import { unwrap } from "../errors";
import { registryStub, vhostStub } from "../gateway/stubs";
import type { Binding } from "../protocol/bindings";
import { isBuiltinExchange } from "../protocol/builtin-exchanges";
import { definitionsSchema, VHOST_LIMITS_COMPONENT } from "../protocol/definitions";
import type { AppContext, AppEnv } from "./context";
import { importDefinitions } from "./definitions-import";
import { authorize, vhostRecord } from "./guards";
import { vhostParam } from "./params";
import { resource } from "./routes";

function header() {
  return {
    rabbit_version: PRODUCT.managementVersion,
    rabbitmq_version: PRODUCT.managementVersion,
    product_name: PRODUCT.name,
    product_version: PRODUCT.version,
  };
}

async function topologyOf(c: AppContext, vhost: string) {
  const catalog = vhostStub(c.env, vhost);
  const [{ exchanges }, { queues }, { bindings }] = await Promise.all([
    catalog.listExchanges(vhost).then(unwrap),
    catalog.listQueues(vhost).then(unwrap),
    catalog.listBindings(vhost, {}).then(unwrap),
  ]);
  return {
    queues: queues.map((q) => ({
      name: q.name,
      vhost,
      durable: q.durable,
      auto_delete: q.auto_delete,
      arguments: q.arguments,
    })),
    exchanges: exchanges
      .filter((e) => !isBuiltinExchange(e.name))
      .map((e) => ({
        name: e.name,
        vhost,
        type: e.type,
        durable: e.durable,
        auto_delete: e.auto_delete,
        internal: e.internal,
        arguments: e.arguments,
      })),
    bindings: [...bindings].sort(rabbitBindingOrder).map((b) => ({
      source: b.source,
      vhost,
      destination: b.destination,
      destination_type: b.destination_type,
      routing_key: b.routing_key,
      arguments: b.arguments,
    })),
  };
}

/**
 * RabbitMQ exports bindings in the order of its binding records: source, routing key,
 * destination (kind, then name), arguments. Names compare as code units, close to Erlang's
 * byte order for everything but characters beyond the Basic Multilingual Plane.
 */
function rabbitBindingOrder(a: Binding, b: Binding): number {
  const keys = (x: Binding) => [x.source, x.routing_key, x.destination_type, x.destination];
  const [ka, kb] = [keys(a), keys(b)];
  for (let i = 0; i < ka.length; i++) {
    const [x, y] = [ka[i] as string, kb[i] as string];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** One vhost's limits as RabbitMQ exports them: a runtime parameter of that vhost. */
function limitParameters(vhosts: readonly { name: string; limits: object }[]) {
  return vhosts
    .filter((v) => Object.keys(v.limits).length > 0)
    .map((v) => ({
      value: v.limits,
      vhost: v.name,
      component: VHOST_LIMITS_COMPONENT,
      name: "limits",
    }));
}

/**
 * GET /api/definitions/{vhost} as RabbitMQ answers it: no vhost on the objects and no users,
 * vhosts or permissions, so the file loads into any vhost (`POST /api/definitions/{vhost}`).
 */
async function exportVhost(c: AppContext, vhost: string): Promise<Record<string, unknown>> {
  const topology = await topologyOf(c, vhost);
  const withoutVhost = <T extends { vhost: string }>({ vhost: _, ...rest }: T) => rest;
  const record = vhostRecord(c, vhost);
  return {
    rabbit_version: PRODUCT.managementVersion,
    parameters: record ? limitParameters([record]) : [],
    policies: [],
    queues: topology.queues.map(withoutVhost),
    exchanges: topology.exchanges.map(withoutVhost),
    bindings: topology.bindings.map(withoutVhost),
  };
}

export async function exportDefinitions(c: AppContext): Promise<Record<string, unknown>> {
  const { definitions } = unwrap(await registryStub(c.env).exportDefinitions());
  const topologies = await Promise.all(definitions.vhosts.map((v) => topologyOf(c, v.name)));
  return {
    ...header(),
    users: definitions.users.map((u) => ({
      name: u.name,
      password_hash: u.password_hash,
      hashing_algorithm: u.hashing_algorithm,
      tags: u.tags,
      limits: u.limits,
    })),
    vhosts: definitions.vhosts.map((v) => ({
      name: v.name,
      description: v.description,
      tags: v.tags,
      default_queue_type: v.default_queue_type,
    })),
    permissions: definitions.permissions,
    topic_permissions: definitions.topic_permissions,
    parameters: limitParameters(definitions.vhosts),
    global_parameters: [],
    policies: [],
    queues: topologies.flatMap((t) => t.queues),
    exchanges: topologies.flatMap((t) => t.exchanges),
    bindings: topologies.flatMap((t) => t.bindings),
  };
}

export function definitionRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/api/definitions",
    {
      GET: async (c) => {
        authorize(c);
        return c.json(await exportDefinitions(c));
      },
      POST: async (c) => {
        authorize(c);
        await importDefinitions(c);
        return c.body(null, 204);
      },
    },
    {
      GET: { summary: "Export all definitions" },
      POST: { summary: "Import definitions, all or nothing", body: definitionsSchema },
    },
  );
  resource(
    app,
    "/api/definitions/:vhost",
    {
      GET: async (c) => {
        authorize(c);
        return c.json(await exportVhost(c, vhostParam(c)));
      },
      POST: async (c) => {
        authorize(c);
        await importDefinitions(c, vhostParam(c));
        return c.body(null, 204);
      },
    },
    {
      GET: { summary: "Export one vhost's definitions" },
      POST: { summary: "Import definitions into one vhost", body: definitionsSchema },
    },
  );
}
