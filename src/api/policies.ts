/**
 * /api/policies and /api/operator-policies, as RabbitMQ 3.10's management API serves them: list
 * (all vhosts the caller sees, or one), read, create or replace (201 / 204), delete. A policy
 * applies to the vhost's queues at once and to queues declared later (src/catalog/policies.ts).
 * Writing a policy takes the `policymaker` or `administrator` tag (and, for a policymaker, a
 * permission entry in the vhost); operator policies are for administrators only, as in RabbitMQ.
 */
import type { Hono } from "hono";
import { isAdministrator, isPolicymaker } from "../access/tags";
import { patternProblem } from "../catalog/policy-catalog";
import { BrokerError, unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import { checkName } from "../protocol/names";
import { type Policy, type PolicyKind, parsePolicy } from "../protocol/policies";
import { readJson } from "./body";
import type { AppContext, AppEnv } from "./context";
import { knownVhosts, requireVhostAccess } from "./guards";
import { vhostParam } from "./params";
import { resource } from "./routes";

const KINDS: readonly { kind: PolicyKind; path: string; label: string }[] = [
  { kind: "policy", path: "/api/policies", label: "policy" },
  { kind: "operator_policy", path: "/api/operator-policies", label: "operator policy" },
];

function policyName(c: AppContext): string {
  const name = c.req.param("name") ?? "";
  // A policy name has the rules of any other name (at most 255 bytes, no control characters).
  const invalid = checkName("queue", name);
  if (invalid) throw new BrokerError("bad_request", invalid.reason.replace("queue", "policy"));
  return name;
}

/** Who may write: RabbitMQ's policymaker (in a vhost it has permissions in) or administrator. */
function requireWriter(c: AppContext, kind: PolicyKind, vhost: string): void {
  const principal = c.get("principal");
  if (isAdministrator(principal.tags)) return;
  if (kind === "operator_policy") {
    throw new BrokerError("access_refused", "Not administrator user");
  }
  if (!isPolicymaker(principal.tags)) {
    throw new BrokerError("access_refused", "User not authorised to access object");
  }
  requireVhostAccess(c, vhost);
}

async function listIn(c: AppContext, kind: PolicyKind, vhost: string): Promise<Policy[]> {
  return unwrap(await vhostStub(c.env, vhost).listPolicies(vhost, kind)).policies;
}

export function policyRoutes(app: Hono<AppEnv>): void {
  for (const { kind, path, label } of KINDS) {
    resource(
      app,
      path,
      {
        GET: async (c) => {
          const lists = await Promise.all(knownVhosts(c).map((vhost) => listIn(c, kind, vhost)));
          return c.json(lists.flat());
        },
      },
      { GET: { summary: `List every ${label} in the vhosts the caller sees` } },
    );
    resource(
      app,
      `${path}/:vhost`,
      { GET: async (c) => c.json(await listIn(c, kind, vhostParam(c))) },
      { GET: { summary: `List a vhost's ${label}s` } },
    );
    resource(
      app,
      `${path}/:vhost/:name`,
      {
        GET: async (c) => {
          const vhost = vhostParam(c);
          const name = policyName(c);
          return c.json(unwrap(await vhostStub(c.env, vhost).getPolicy(vhost, kind, name)).policy);
        },
        PUT: async (c) => {
          const vhost = vhostParam(c);
          const name = policyName(c);
          requireWriter(c, kind, vhost);
          const parsed = parsePolicy(kind, vhost, name, await readJson(c), patternProblem);
          if ("ok" in parsed) throw BrokerError.from(parsed);
          const { created } = unwrap(await vhostStub(c.env, vhost).putPolicy(kind, parsed));
          return c.body(null, created ? 201 : 204);
        },
        DELETE: async (c) => {
          const vhost = vhostParam(c);
          const name = policyName(c);
          requireWriter(c, kind, vhost);
          unwrap(await vhostStub(c.env, vhost).deletePolicy(vhost, kind, name));
          return c.body(null, 204);
        },
      },
      {
        GET: { summary: `Read a ${label}` },
        PUT: {
          summary: `Create or replace a ${label}: pattern, apply-to, priority, definition`,
        },
        DELETE: { summary: `Delete a ${label}` },
      },
    );
  }
}
