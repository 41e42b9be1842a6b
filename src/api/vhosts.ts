/**
 * /api/vhosts: list, read, create and delete virtual hosts. `/` exists from the start. Creating
 * one creates its catalog and built-in exchanges and gives its creator full permissions in it
 * (as RabbitMQ's management API does); deleting one deletes every exchange, queue (messages
 * included) and binding in it and every permission in it, and nothing else.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { parseTags } from "../access/tags";
import { BrokerError, unwrap } from "../errors";
import { forgetAccess } from "../gateway/access-cache";
import { registryStub, vhostStub } from "../gateway/stubs";
import { flag } from "../protocol/coerce";
import type { VhostRecord } from "../protocol/registry-records";
import { parseBody } from "./body";
import type { AppEnv } from "./context";
import { authorize, knownVhosts, vhostRecord } from "./guards";
import { listAnswer } from "./pagination";
import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";

const vhostBodySchema = z.object({
  description: z.string().max(4096).default(""),
  tags: z.union([z.string(), z.array(z.string())]).default([]),
  default_queue_type: z.enum(["classic", "quorum", "stream"]).default("classic"),
  // rabbitmqadmin sends "tracing"; this broker has no firehose tracer, so it is accepted and off.
  tracing: flag.optional(),
});

export function presentVhost(record: VhostRecord): Record<string, unknown> {
  return {
    name: record.name,
    description: record.description,
    tags: record.tags,
    default_queue_type: record.default_queue_type,
    metadata: { description: record.description, tags: record.tags },
    tracing: false,
  };
}

export function vhostRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/vhosts", {
    GET: (c) => {
      const visible = new Set(knownVhosts(c));
      const records = c.get("vhosts").filter((record) => visible.has(record.name));
      return c.json(listAnswer(c, records.map(presentVhost)));
    },
  });
  resource(
    app,
    "/api/vhosts/:vhost",
    {
      GET: async (c) => {
        const vhost = vhostParam(c);
        return c.json(presentVhost(vhostRecord(c, vhost) as VhostRecord));
      },
      PUT: async (c) => {
        authorize(c);
        const name = nameParam(c, "vhost", "vhost");
        const body = await parseBody(c, vhostBodySchema);
        const tags = parseTags(body.tags);
        if (!Array.isArray(tags)) throw BrokerError.from(tags);
        // The catalog first: a vhost the registry lists always has a catalog to answer for it.
        unwrap(await vhostStub(c.env, name).createVhost(name));
        const { created } = unwrap(
          await registryStub(c.env).putVhost(
            {
              name,
              description: body.description,
              tags,
              default_queue_type: body.default_queue_type,
            },
            c.get("principal").name,
          ),
        );
        forgetAccess();
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        // Contents first, then the record: an interrupted deletion can be repeated.
        unwrap(await vhostStub(c.env, vhost).destroyVhost(vhost));
        unwrap(await registryStub(c.env).deleteVhost(vhost));
        forgetAccess();
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Create or update a vhost", body: vhostBodySchema } },
  );
}
