/** `GET /api/publish/{vhost}`: upgrades to a producer connection with publisher confirms. */
import type { Hono } from "hono";
import { BrokerError, unwrap } from "../errors";
import { vhostStub } from "../objects/stubs";
import type { AppEnv } from "./context";
import { vhostParam } from "./params";
import { ProducerSession } from "./producer-session";
import { resource } from "./routes";

export function producerRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/publish/:vhost", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
        throw new BrokerError("bad_request", "expected a WebSocket upgrade (Upgrade: websocket)");
      }
      unwrap(await vhostStub(c.env, vhost).ensure(vhost));
      // Terminated in the Worker: a producer is busy by nature, so it gains nothing from
      // hibernation, and frames go straight to whichever exchange objects they name.
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
      server.accept();
      const session = new ProducerSession(server, c.env, vhost, c.get("config"));
      server.addEventListener("message", (event) => session.receive(event.data));
      return new Response(null, { status: 101, webSocket: client });
    },
  });
}
