/**
 * /api/vhosts, read-only for now: the default vhost `/` exists from the start. Creating and
 * deleting vhosts arrives with users and permissions; `knownVhosts` is the one place that then
 * asks the vhost registry instead.
 */
import type { Hono } from "hono";
import { BrokerError, unwrap } from "../errors";
import { vhostStub } from "../objects/stubs";
import { DEFAULT_VHOST } from "../objects/vhost-object";
import type { AppEnv } from "./context";
import { listAnswer } from "./pagination";
import { vhostParam } from "./params";
import { resource } from "./routes";

export function knownVhosts(): string[] {
  return [DEFAULT_VHOST];
}

function present(name: string): Record<string, unknown> {
  return {
    name,
    description: name === DEFAULT_VHOST ? "Default virtual host" : "",
    tags: [],
    default_queue_type: "classic",
    tracing: false,
  };
}

export function vhostRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/vhosts", {
    GET: (c) => c.json(listAnswer(c, knownVhosts().map(present))),
  });
  resource(app, "/api/vhosts/:vhost", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      if (!knownVhosts().includes(vhost)) {
        throw new BrokerError("not_found", "Not Found");
      }
      unwrap(await vhostStub(c.env, vhost).ensure(vhost));
      return c.json(present(vhost));
    },
  });
}
