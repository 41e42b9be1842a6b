/**
 * WebSocket upgrades: consumer connections (`GET /api/queues/{vhost}/{queue}/consume`, accepted
 * by the queue's Durable Object so they can hibernate) and producer connections
 * (`GET /api/publish/{vhost}`, terminated here). Frames: docs/websocket-protocol.md.
 *
 * Credentials: HTTP Basic, or, for browsers (which cannot set headers on a WebSocket), a
 * single-use ticket from `POST /api/tickets` passed as `?ticket=`; never a password in the URL.
 * A refused upgrade is answered before the socket opens. Once open, each frame is checked
 * against the user's current access, so a deleted user or a revoked permission ends the
 * connection's rights within LIMITS.accessCacheMs.
 */
import type { Hono } from "hono";
import { LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { vhostRecords } from "../gateway/access-cache";
import { queueStub, vhostStub } from "../gateway/stubs";
import { redeemTicket } from "../gateway/tickets";
import { CONNECTION_FORCED } from "../objects/queue-object";
import type { ConnectionInfo } from "../storage/connection-store";
import { loginOrThrow } from "./auth";
import type { AppContext, AppEnv } from "./context";
import { authorize, requireVhostAccess } from "./guards";
import { nameParam, vhostParam } from "./params";
import { ProducerSession } from "./producer-session";
import { resource } from "./routes";

/**
 * Logs the upgrade in (Basic or ticket) and answers the vhost it connects to, once the user may
 * connect to it; the route then authorizes its operation.
 */
export async function connect(c: AppContext): Promise<string> {
  const ticket = c.req.query("ticket");
  if (ticket !== undefined) {
    const redeemed = unwrap(await redeemTicket(c.env, ticket, c.req.param("vhost") ?? ""));
    c.set("principal", redeemed.access);
  } else {
    c.set("principal", await loginOrThrow(c, c.req.header("Authorization")));
  }
  c.set("vhosts", await vhostRecords(c.env));
  const vhost = vhostParam(c);
  requireVhostAccess(c, vhost);
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new BrokerError("bad_request", "expected a WebSocket upgrade (Upgrade: websocket)");
  }
  return vhost;
}

/** Who opens a connection and from where, for /api/connections. */
function connectionInfo(c: AppContext): ConnectionInfo {
  return { user: c.get("principal").name, peer: c.req.header("CF-Connecting-IP") ?? "" };
}

/** Registered before the /api login middleware: upgrades carry their own credentials. */
export function socketRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/api/queues/:vhost/:name/consume",
    {
      GET: async (c) => {
        const vhost = await connect(c);
        const name = nameParam(c, "queue");
        // basic.consume needs read on the queue; the queue object checks it again per frame.
        authorize(c, { vhost, name });
        // The object accepts the socket itself so that it can hibernate; it learns who connected
        // from a header only the Worker can set (requests reach objects only through the Worker).
        const catalog = vhostStub(c.env, vhost);
        const connection = crypto.randomUUID();
        unwrap(await catalog.openConnection(vhost, connection, name, connectionInfo(c)));
        const headers = new Headers(c.req.raw.headers);
        headers.set("X-Broker-User", c.get("principal").name);
        headers.set("X-Broker-Identity", c.get("principal").identity);
        headers.set("X-Broker-Connection", connection);
        const response = await queueStub(c.env, vhost, name).fetch(
          new Request(c.req.raw, { headers }),
        );
        if (response.status !== 101) await catalog.closeConnection(connection);
        return response;
      },
    },
    { GET: { summary: "A consumer connection (WebSocket)", websocket: true } },
  );

  resource(
    app,
    "/api/publish/:vhost",
    {
      GET: async (c) => {
        const vhost = await connect(c);
        // exchange.produce: vhost access; each publish frame is checked as frame.publish.
        authorize(c, { vhost });
        const catalog = vhostStub(c.env, vhost);
        const connection = crypto.randomUUID();
        unwrap(await catalog.openConnection(vhost, connection, "", connectionInfo(c)));
        // Terminated in the Worker: a producer is busy by nature, so it gains nothing from
        // hibernation, and frames go straight to whichever exchange objects they name.
        const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
        server.accept();
        // Keeps its place in the vhost's connection count alive, frees it on close, and closes
        // the socket when an operator asked to (DELETE /api/connections/{name}).
        const heartbeat = setInterval(async () => {
          const answer = await catalog.touchConnection(connection);
          if (answer.ok && answer.close) {
            server.close(CONNECTION_FORCED, "CONNECTION_FORCED - Closed via management plugin");
            closed();
          }
        }, LIMITS.producerHeartbeatMs);
        const closed = () => {
          clearInterval(heartbeat);
          c.executionCtx.waitUntil(catalog.closeConnection(connection));
        };
        server.addEventListener("close", closed);
        server.addEventListener("error", closed);
        const session = new ProducerSession(
          server,
          c.env,
          vhost,
          c.get("principal"),
          c.get("config"),
        );
        server.addEventListener("message", (event) => session.receive(event.data));
        return new Response(null, { status: 101, webSocket: client });
      },
    },
    { GET: { summary: "A producer connection with confirms (WebSocket)", websocket: true } },
  );
}
