/**
 * Route registration. Every route registered here:
 * - answers the methods its path does not support with `405 method_not_allowed` (and an Allow
 *   header), instead of falling through to 404;
 * - is described in the OpenAPI document (GET /api/openapi.json, src/api/openapi.ts) through
 *   hono-openapi's describeRoute, so a new route is documented the moment it is registered. The
 *   optional `docs` argument adds what the path cannot tell: a summary, and the zod schema the
 *   handler validates its JSON body with (the same schema object, so the document cannot drift
 *   from the validation).
 */
import type { Handler, Hono } from "hono";
import { type DescribeRouteOptions, describeRoute, resolver } from "hono-openapi";
import { z } from "zod";
import { BrokerError } from "../errors";
import type { AppEnv } from "./context";

type Method = "GET" | "PUT" | "POST" | "DELETE";

export interface OperationDoc {
  readonly summary?: string;
  readonly description?: string;
  /** The schema the handler reads its JSON body with (parseBody / parseWith). */
  readonly body?: z.ZodType;
  /** A WebSocket upgrade: documented as a GET answering 101. */
  readonly websocket?: boolean;
  /** Answered without credentials (the default is HTTP Basic). */
  readonly public?: boolean;
  /** Another content type than JSON for a 200 answer (a page, metrics). */
  readonly produces?: string;
}

export type ResourceDocs = Partial<Record<Method, OperationDoc>>;

/** Every error answer: `{"error": code, "reason": text}` (src/errors.ts). */
export const errorSchema = z
  .object({ error: z.string(), reason: z.string() })
  .meta({ id: "Error", description: "RabbitMQ's error body" });

export function resource(
  app: Hono<AppEnv>,
  path: string,
  handlers: Partial<Record<Method, Handler<AppEnv>>>,
  docs: ResourceDocs = {},
): void {
  const methods = Object.keys(handlers) as Method[];
  for (const method of methods) {
    const handler = handlers[method];
    if (handler)
      app.on(method, path, describeRoute(operation(method, path, docs[method])), handler);
  }
  const allow = [...methods, ...(methods.includes("GET") ? ["HEAD"] : [])].join(", ");
  app.all(path, (c) => {
    c.header("Allow", allow);
    throw new BrokerError(
      "method_not_allowed",
      `method ${c.req.method} is not allowed here; use ${allow}`,
    );
  });
}

/** The path's first segment after /api: what the operation is about (exchanges, queues, ...). */
function tagOf(path: string): string {
  const segments = path.split("/").filter(Boolean);
  const first = segments[0] === "api" ? segments[1] : segments[0];
  return first ?? "broker";
}

const SUCCESS: Record<Method, Record<string, string>> = {
  GET: { "200": "OK" },
  PUT: { "201": "Created", "204": "Already there, or updated" },
  POST: { "200": "OK", "201": "Created", "204": "Done" },
  DELETE: { "204": "Deleted" },
};

const ERRORS: Record<string, string> = {
  "400": "Bad request (reason says why)",
  "401": "Login failed",
  "403": "Access refused",
  "404": "Not found",
  "405": "Method not allowed",
};

function operation(method: Method, path: string, doc: OperationDoc = {}): DescribeRouteOptions {
  const error = { "application/json": { schema: resolver(errorSchema) } };
  const responses: NonNullable<DescribeRouteOptions["responses"]> = {};
  if (doc.websocket) {
    responses["101"] = { description: "Switching Protocols: the WebSocket is open" };
  } else {
    for (const [status, description] of Object.entries(SUCCESS[method])) {
      responses[status] =
        status === "200" && doc.produces
          ? { description, content: { [doc.produces]: {} } }
          : { description };
    }
  }
  for (const [status, description] of Object.entries(ERRORS)) {
    if (doc.public && status === "401") continue;
    responses[status] = { description, content: error };
  }
  return {
    tags: [tagOf(path)],
    summary: doc.summary ?? `${method} ${path.replace(/:([A-Za-z_]+)[^/]*/g, "{$1}")}`,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.public ? { security: [] } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: resolver(doc.body) } },
          },
        }
      : {}),
    responses,
  };
}
