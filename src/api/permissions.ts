/**
 * /api/permissions and /api/topic-permissions (and the per-vhost and per-user lists). Only
 * administrators read or change them. Every regex is checked before it is stored
 * (src/access/permission-regex.ts): a regex we could not apply as RabbitMQ would is refused.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { checkPermissionRegex } from "../access/permission-regex";
import { BrokerError, unwrap } from "../errors";
import { forgetAccess } from "../gateway/access-cache";
import { registryStub } from "../gateway/stubs";
import { checkName } from "../protocol/names";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize } from "./guards";
import { listAnswer } from "./pagination";
import { userParam, vhostParam } from "./params";
import { resource } from "./routes";

const permissionBodySchema = z.object({
  configure: z.string(),
  write: z.string(),
  read: z.string(),
});

const topicPermissionBodySchema = z.object({
  exchange: z.string(),
  write: z.string(),
  read: z.string(),
});

function checkRegexes(...sources: string[]): void {
  for (const source of sources) {
    const invalid = checkPermissionRegex(source);
    if (invalid) throw BrokerError.from(invalid);
  }
}

async function list(c: AppContext, filter: { user?: string; vhost?: string }) {
  authorize(c);
  return unwrap(await registryStub(c.env).listPermissions(filter));
}

type Items = Record<string, unknown>[];
const asItems = <T extends object>(rows: T[]) => rows as unknown as Items;

export function permissionRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/permissions", {
    GET: async (c) => c.json(listAnswer(c, asItems((await list(c, {})).permissions))),
  });
  resource(app, "/api/topic-permissions", {
    GET: async (c) => c.json(listAnswer(c, asItems((await list(c, {})).topicPermissions))),
  });
  resource(app, "/api/vhosts/:vhost/permissions", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      return c.json(listAnswer(c, asItems((await list(c, { vhost })).permissions)));
    },
  });
  resource(app, "/api/vhosts/:vhost/topic-permissions", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      return c.json(listAnswer(c, asItems((await list(c, { vhost })).topicPermissions)));
    },
  });
  resource(app, "/api/users/:user/permissions", {
    GET: async (c) => {
      const user = userParam(c);
      return c.json(listAnswer(c, asItems((await list(c, { user })).permissions)));
    },
  });
  resource(app, "/api/users/:user/topic-permissions", {
    GET: async (c) => {
      const user = userParam(c);
      return c.json(listAnswer(c, asItems((await list(c, { user })).topicPermissions)));
    },
  });

  resource(
    app,
    "/api/permissions/:vhost/:user",
    {
      GET: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        const [permission] = (await list(c, { user, vhost })).permissions;
        if (!permission) throw new BrokerError("not_found", "Not Found");
        return c.json(permission);
      },
      PUT: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        const body = await parseBody(c, permissionBodySchema);
        checkRegexes(body.configure, body.write, body.read);
        const { created } = unwrap(
          await registryStub(c.env).putPermission({ user, vhost, ...body }),
        );
        forgetAccess();
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        unwrap(await registryStub(c.env).deletePermission(user, vhost));
        forgetAccess();
        return c.body(null, 204);
      },
    },
    { PUT: { summary: "Set a user's permissions in a vhost", body: permissionBodySchema } },
  );

  resource(
    app,
    "/api/topic-permissions/:vhost/:user",
    {
      GET: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        const { topicPermissions } = await list(c, { user, vhost });
        if (topicPermissions.length === 0) throw new BrokerError("not_found", "Not Found");
        return c.json(topicPermissions);
      },
      PUT: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        const body = await parseBody(c, topicPermissionBodySchema);
        const badName = checkName("exchange", body.exchange);
        if (badName) throw BrokerError.from(badName);
        checkRegexes(body.write, body.read);
        const { created } = unwrap(
          await registryStub(c.env).putTopicPermission({ user, vhost, ...body }),
        );
        forgetAccess();
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        authorize(c);
        const vhost = vhostParam(c);
        const user = userParam(c);
        const exchange = c.req.query("exchange");
        unwrap(await registryStub(c.env).deleteTopicPermissions(user, vhost, exchange));
        forgetAccess();
        return c.body(null, 204);
      },
    },
    {
      PUT: {
        summary: "Set a user's topic permissions in a vhost",
        body: topicPermissionBodySchema,
      },
    },
  );
}
