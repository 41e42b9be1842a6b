/**
 * HTTP Basic authentication on every /api route (RabbitMQ's management API answers
 * `401 {"error":"not_authorized","reason":"Login failed"}`), and the tag gate in front of the
 * management endpoints. Credentials are checked against the registry with a short per-isolate
 * cache (src/gateway/access-cache.ts); a user name throttled after repeated failures answers
 * `429` with Retry-After.
 *
 * Tags (src/access/tags.ts): HTTP is this broker's client protocol as well as its management
 * API, so the operations an AMQP 0-9-1 client performs over a connection (declare and delete
 * exchanges and queues, bind, unbind, publish, get, purge), plus whoami, the aliveness test and
 * connection tickets, need only the user's vhost permissions, as they would in RabbitMQ. Every
 * other endpoint is the management API and needs a management tag; a user without one is
 * answered `401 Not management user`, as RabbitMQ answers.
 */
import { createMiddleware } from "hono/factory";
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

/** Method and path (still percent-encoded, so %2F never splits a segment) of client operations. */
const CLIENT_OPERATIONS: readonly [string, RegExp][] = [
  ["GET", /^\/api\/whoami$/],
  ["GET", /^\/api\/aliveness-test\/[^/]+$/],
  ["POST", /^\/api\/tickets$/],
  // One exchange's or queue's record and the bindings between two objects: what an AMQP
  // client learns from a passive declare (counts included) and needs for an unbind.
  ["GET", /^\/api\/(exchanges|queues)\/[^/]+\/[^/]+$/],
  ["GET", /^\/api\/bindings\/[^/]+\/e\/[^/]+\/[qe]\/[^/]+$/],
  ["PUT", /^\/api\/(exchanges|queues)\/[^/]+\/[^/]+$/],
  ["DELETE", /^\/api\/(exchanges|queues)\/[^/]+\/[^/]+$/],
  ["POST", /^\/api\/exchanges\/[^/]+\/[^/]+\/(publish|publish-batch)$/],
  ["POST", /^\/api\/queues\/[^/]+\/[^/]+\/(get|pull|ack)$/],
  ["DELETE", /^\/api\/queues\/[^/]+\/[^/]+\/contents$/],
  ["POST", /^\/api\/bindings\/[^/]+\/e\/[^/]+\/[qe]\/[^/]+$/],
  ["DELETE", /^\/api\/bindings\/[^/]+\/e\/[^/]+\/[qe]\/[^/]+\/[^/]+$/],
  // Streams and topics (docs/streams.md): what a Kafka or stream client does.
  ["PUT", /^\/api\/topics\/[^/]+\/[^/]+$/],
  ["DELETE", /^\/api\/topics\/[^/]+\/[^/]+$/],
  ["POST", /^\/api\/topics\/[^/]+\/[^/]+\/produce$/],
  ["POST", /^\/api\/topics\/[^/]+\/[^/]+\/partitions\/\d+\/fetch$/],
  ["POST", /^\/api\/streams\/[^/]+\/[^/]+\/fetch$/],
  ["POST", /^\/api\/groups\/[^/]+\/[^/]+\/(heartbeat|commit)$/],
];

function isClientOperation(method: string, path: string): boolean {
  return CLIENT_OPERATIONS.some(([m, pattern]) => m === method && pattern.test(path));
}

export const requireManagementTag = createMiddleware<AppEnv>(async (c, next) => {
  const principal = c.get("principal");
  if (!isManagementUser(principal.tags)) {
    const path = new URL(c.req.url).pathname;
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    if (!isClientOperation(method, path)) {
      throw new BrokerError("not_authorized", "Not management user");
    }
  }
  await next();
});
