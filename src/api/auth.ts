/**
 * HTTP Basic authentication on every /api route (RabbitMQ's management API answers
 * `401 {"error":"not_authorized","reason":"Login failed"}`), and the tag gate in front of the
 * management endpoints. Credentials are checked against the registry with a short per-isolate
 * cache (src/gateway/access-cache.ts); a user name throttled after repeated failures answers
 * `429` with Retry-After.
 *
 * Tags (src/access/tags.ts): HTTP is this broker's client protocol as well as its management
 * API, so the operations an AMQP 0-9-1 or Kafka client performs over a connection need only the
 * user's vhost permissions, as they would in RabbitMQ: the permission table marks them `client`
 * (src/access/operations.ts). Every other endpoint is the management API and needs a management
 * tag; a user without one is answered `401 Not management user`, as RabbitMQ answers.
 */
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { routeOperation } from "../access/operations";
import { isManagementUser } from "../access/tags";
import type { UserAccess } from "../access/user-access";
import { BrokerError } from "../errors";
import { login } from "../gateway/access-cache";
import type { AppContext, AppEnv } from "./context";

export type Principal = UserAccess;

/**
 * Logs a Basic Authorization header in, or throws: 429 with Retry-After while the user name is
 * throttled, else 401 with the given challenge.
 */
export async function loginOrThrow(
  c: AppContext,
  header: string | undefined,
  challenge = 'Basic realm="RabbitMQ Management"',
): Promise<UserAccess> {
  const outcome = await login(c.env, header);
  if (outcome.ok) return outcome.access;
  if (outcome.throttledForMs > 0) {
    c.header("Retry-After", String(Math.ceil(outcome.throttledForMs / 1000)));
    throw new BrokerError(
      "too_many_requests",
      "too many failed logins for this user name; try again later",
    );
  }
  c.header("WWW-Authenticate", challenge);
  throw new BrokerError("not_authorized", "Login failed");
}

export const requireLogin = createMiddleware<AppEnv>(async (c, next) => {
  c.set("principal", await loginOrThrow(c, c.req.header("Authorization")));
  await next();
});

/**
 * Whether the request is a client operation (src/access/operations.ts): the route that answers
 * it is one, and the path's segments have the shapes the operation asks of a client call (the
 * raw path, still percent-encoded, so %2F never splits a segment). Unknown paths and methods a
 * path does not support are management calls, as before.
 */
function isClientOperation(c: AppContext): boolean {
  const method = c.req.method === "HEAD" ? "GET" : c.req.method;
  const route = matchedRoutes(c).find(
    (r) => r.method === method && routeOperation(method, r.path) !== undefined,
  );
  const operation = route && routeOperation(method, route.path);
  if (!route || !operation?.client) return false;
  const shapes = Object.entries(operation.clientParams ?? {});
  if (shapes.length === 0) return true;
  const segments = new URL(c.req.url).pathname.split("/");
  const names = route.path.split("/");
  return shapes.every(([param, shape]) => {
    const at = names.indexOf(`:${param}`);
    return at >= 0 && shape.test(segments[at] ?? "");
  });
}

export const requireManagementTag = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get("principal");
  if (!isManagementUser(principal.tags)) {
    if (!isClientOperation(c)) {
      throw new BrokerError("not_authorized", "Not management user");
    }
  }
  await next();
});
