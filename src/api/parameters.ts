/**
 * /api/parameters: RabbitMQ's runtime parameters. The only component this broker has is
 * `vhost-limits` (the same limits as /api/vhost-limits, shown as RabbitMQ shows them:
 * `{"value":{"max-queues":10},"vhost":"/","component":"vhost-limits","name":"limits"}`). Other
 * components belong to plugins (federation, shovel) and answer as on a node without them:
 * empty lists, 404 for one, and `400 component X not found` for a declaration.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { BrokerError } from "../errors";
import { VHOST_LIMITS_COMPONENT } from "../protocol/definitions";
import {
  VHOST_LIMIT_NAMES,
  type VhostLimitName,
  type VhostRecord,
} from "../protocol/registry-records";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts, vhostRecord } from "./guards";
import { listAnswer } from "./pagination";
import { vhostParam } from "./params";
import { resource } from "./routes";
import { storeLimit } from "./vhost-limits";

const LIMITS_NAME = "limits";

export const parameterBodySchema = z.object({
  value: z.partialRecord(
    z.enum(VHOST_LIMIT_NAMES),
    z
      .number()
      .int()
      .min(-1)
      .max(2 ** 31 - 1),
  ),
});

function present(record: VhostRecord): Record<string, unknown> {
  return {
    value: record.limits,
    vhost: record.name,
    component: VHOST_LIMITS_COMPONENT,
    name: LIMITS_NAME,
  };
}

function parametersIn(c: AppContext, vhosts: readonly string[], component?: string) {
  if (component !== undefined && component !== VHOST_LIMITS_COMPONENT) return [];
  return vhosts
    .map((vhost) => vhostRecord(c, vhost))
    .filter((record): record is VhostRecord => !!record && Object.keys(record.limits).length > 0)
    .map(present);
}

function requireComponent(c: AppContext): void {
  const component = c.req.param("component") ?? "";
  if (component !== VHOST_LIMITS_COMPONENT) {
    throw new BrokerError("bad_request", `Validation failed\n\ncomponent ${component} not found\n`);
  }
  if (c.req.param("name") !== LIMITS_NAME) {
    throw new BrokerError("bad_request", "Validation failed\n\nvhost-limits are named 'limits'\n");
  }
}

export function parameterRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/parameters", {
    GET: (c) => c.json(listAnswer(c, parametersIn(c, knownVhosts(c)))),
  });
  resource(app, "/api/parameters/:component", {
    GET: (c) => c.json(listAnswer(c, parametersIn(c, knownVhosts(c), c.req.param("component")))),
  });
  resource(app, "/api/parameters/:component/:vhost", {
    GET: (c) => c.json(listAnswer(c, parametersIn(c, [vhostParam(c)], c.req.param("component")))),
  });
  resource(
    app,
    "/api/parameters/:component/:vhost/:name",
    {
      GET: (c) => {
        const [parameter] = parametersIn(c, [vhostParam(c)], c.req.param("component"));
        if (!parameter || c.req.param("name") !== LIMITS_NAME) {
          throw new BrokerError("not_found", "Not Found");
        }
        return c.json(parameter);
      },
      PUT: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        requireComponent(c);
        const { value } = await parseBody(c, parameterBodySchema);
        const current = vhostRecord(c, vhost)?.limits ?? {};
        for (const name of VHOST_LIMIT_NAMES) {
          const wanted = value[name];
          if (wanted !== undefined) await storeLimit(c, vhost, name, wanted);
          else if (current[name] !== undefined) await storeLimit(c, vhost, name, null);
        }
        return c.body(null, 201);
      },
      DELETE: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const [parameter] = parametersIn(c, [vhost], c.req.param("component"));
        if (!parameter || c.req.param("name") !== LIMITS_NAME) {
          throw new BrokerError("not_found", "Not Found");
        }
        const current = vhostRecord(c, vhost)?.limits ?? {};
        for (const name of Object.keys(current) as VhostLimitName[]) {
          await storeLimit(c, vhost, name, null);
        }
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Set a runtime parameter (vhost-limits only)", body: parameterBodySchema } },
  );
}
