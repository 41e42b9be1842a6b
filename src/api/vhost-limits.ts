/**
 * /api/vhost-limits: per-vhost `max-queues` (enforced by the vhost's catalog when a queue is
 * declared) and `max-connections` (WebSocket connections, counted by the vhost's catalog when a
 * connection opens and closes, src/api/sockets.ts). A negative value means "no limit", as in
 * RabbitMQ; 0 forbids.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { BrokerError, unwrap } from "../errors";
import { forgetAccess } from "../gateway/access-cache";
import { registryStub, vhostStub } from "../gateway/stubs";
import {
  VHOST_LIMIT_NAMES,
  type VhostLimitName,
  type VhostRecord,
} from "../protocol/registry-records";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts, vhostRecord } from "./guards";
import { vhostParam } from "./params";
import { resource } from "./routes";

const limitBodySchema = z.object({
  value: z
    .number()
    .int()
    .min(-1)
    .max(2 ** 31 - 1),
});

function presentLimits(record: VhostRecord) {
  return { vhost: record.name, value: record.limits };
}

function limitParam(c: AppContext): VhostLimitName {
  const name = c.req.param("limit") ?? "";
  if (!(VHOST_LIMIT_NAMES as readonly string[]).includes(name)) {
    throw new BrokerError(
      "bad_request",
      `unknown vhost limit '${name}'; use one of ${VHOST_LIMIT_NAMES.join(", ")}`,
    );
  }
  return name as VhostLimitName;
}

/** The registry merges the change (it is the truth); the catalog gets the result to enforce. */
export async function storeLimit(
  c: AppContext,
  vhost: string,
  limit: VhostLimitName,
  value: number | null,
): Promise<void> {
  const { limits } = unwrap(await registryStub(c.env).setVhostLimit(vhost, limit, value));
  unwrap(await vhostStub(c.env, vhost).setLimits(vhost, limits));
  forgetAccess();
}

export function vhostLimitRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/vhost-limits", {
    GET: (c) => {
      const visible = new Set(knownVhosts(c));
      const records = c
        .get("vhosts")
        .filter((r) => visible.has(r.name) && Object.keys(r.limits).length > 0);
      return c.json(records.map(presentLimits));
    },
  });
  resource(app, "/api/vhost-limits/:vhost", {
    GET: (c) => {
      const record = vhostRecord(c, vhostParam(c)) as VhostRecord;
      return c.json(Object.keys(record.limits).length > 0 ? [presentLimits(record)] : []);
    },
  });
  resource(
    app,
    "/api/vhost-limits/:vhost/:limit",
    {
      PUT: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const limit = limitParam(c);
        const { value } = await parseBody(c, limitBodySchema);
        await storeLimit(c, vhost, limit, value);
        return c.body(null, 204);
      },
      DELETE: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const limit = limitParam(c);
        await storeLimit(c, vhost, limit, null);
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Set a vhost limit", body: limitBodySchema } },
  );
}
