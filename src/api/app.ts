/**
 * The Hono app: configuration and login middleware, the management routes, and the one place
 * where errors become HTTP answers (`{"error","reason"}`, never a stack trace).
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { loadConfig } from "../config";
import { BrokerError, errorBody, statusOf, styledErrorBody } from "../errors";
import { requireLogin, requireManagementTag } from "./auth";
import { bindingRoutes } from "./bindings";
import { connectionRoutes } from "./connections";
import type { AppEnv } from "./context";
import { credentialRoutes } from "./credentials";
import { definitionRoutes } from "./definitions";
import { exchangeRoutes } from "./exchanges";
import { groupSocketRoutes } from "./group-session";
import { groupRoutes } from "./groups";
import { loadVhosts } from "./guards";
import { inboxRoutes } from "./inbox";
import { inboxPageRoutes } from "./inbox-page";
import { seedLocalDevUsers } from "./local-dev-seed";
import { metricsRoutes } from "./metrics";
import { nodeRoutes } from "./node";
import { notificationUserRoutes } from "./notification-users";
import { notificationRoutes } from "./notifications";
import { openApiRoutes } from "./openapi";
import { overviewRoutes } from "./overview";
import { parameterRoutes } from "./parameters";
import { permissionRoutes } from "./permissions";
import { policyRoutes } from "./policies";
import { publishRoutes } from "./publish";
import { pullRoutes } from "./pull";
import { queueRoutes } from "./queues";
import { resource } from "./routes";
import { socketRoutes } from "./sockets";
import { streamSocketRoutes } from "./stream-socket";
import { streamRoutes } from "./streams";
import { topicProducerRoutes } from "./topic-producer";
import { topicRoutes } from "./topics";
import { uiPageRoutes } from "./ui-page";
import { userRoutes } from "./users";
import { vhostLimitRoutes } from "./vhost-limits";
import { vhostRoutes } from "./vhosts";

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use("*", async (c, next) => {
    c.set("config", loadConfig(c.env));
    await next();
  });

  resource(
    app,
    "/health",
    { GET: (c) => c.json({ status: "ok" }) },
    {
      GET: { summary: "Liveness, without credentials", public: true },
    },
  );
  uiPageRoutes(app);

  // The notification app (docs/notifications.md): the article's routes and the inbox API answer
  // errors as the article does, and local development seeds the article's users first.
  for (const path of ["/send", "/notifications/*"]) {
    app.use(path, async (c, next) => {
      c.set("errorStyle", "article");
      await next();
    });
  }
  app.use("/send", seedLocalDevUsers);
  app.use("/notifications/*", seedLocalDevUsers);
  app.use("/api/notification-users/*", seedLocalDevUsers);
  notificationRoutes(app);
  inboxRoutes(app);
  inboxPageRoutes(app);

  // Prometheus scrapes log in themselves (METRICS_AUTH, METRICS_TOKEN): src/api/metrics.ts.
  metricsRoutes(app);

  // WebSocket upgrades log in themselves (Basic or a connection ticket) and are client
  // operations, so they come before the management login and tag gate.
  socketRoutes(app);
  streamSocketRoutes(app);
  groupSocketRoutes(app);
  topicProducerRoutes(app);
  app.use("/api/*", requireLogin, requireManagementTag, loadVhosts);
  overviewRoutes(app);
  userRoutes(app);
  vhostRoutes(app);
  vhostLimitRoutes(app);
  permissionRoutes(app);
  credentialRoutes(app);
  definitionRoutes(app);
  exchangeRoutes(app);
  publishRoutes(app);
  queueRoutes(app);
  pullRoutes(app);
  bindingRoutes(app);
  notificationUserRoutes(app);
  streamRoutes(app);
  topicRoutes(app);
  groupRoutes(app);
  connectionRoutes(app);
  nodeRoutes(app);
  parameterRoutes(app);
  policyRoutes(app);
  openApiRoutes(app);

  app.notFound((c) => c.json(errorBody("not_found", "Not Found"), 404));

  app.onError((error, c) => {
    const style = c.get("errorStyle") ?? "management";
    if (error instanceof BrokerError) {
      if (error.code === "not_authorized" && !c.res.headers.has("WWW-Authenticate")) {
        c.header("WWW-Authenticate", 'Basic realm="RabbitMQ Management"');
      }
      return c.json(styledErrorBody(style, error.code, error.reason), statusOf(error.code) as 400);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json(
        styledErrorBody(style, "bad_request", error.message || "Bad Request"),
        error.status,
      );
    }
    console.error("unexpected error", error);
    return c.json(errorBody("internal_error", "internal error"), 500);
  });

  return app;
}
