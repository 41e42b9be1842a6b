/**
 * Route registration that also answers the methods a path does not support with
 * `405 method_not_allowed` (and an Allow header), instead of falling through to 404.
 */
import type { Handler, Hono } from "hono";
import { BrokerError } from "../errors";
import type { AppEnv } from "./context";

type Method = "GET" | "PUT" | "POST" | "DELETE";

export function resource(
  app: Hono<AppEnv>,
  path: string,
  handlers: Partial<Record<Method, Handler<AppEnv>>>,
): void {
  const methods = Object.keys(handlers) as Method[];
  for (const method of methods) {
    const handler = handlers[method];
    if (handler) app.on(method, path, handler);
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
