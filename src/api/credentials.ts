/**
 * Credential checks a client can make: `GET /api/aliveness-test/{vhost}` (the seed article's
 * "can I connect?" test: 200 `{"status":"ok"}` with the right password and access to the vhost,
 * 401 with a wrong password, 403 without access) and `POST /api/tickets` (a WebSocket connection
 * ticket, src/gateway/tickets.ts).
 *
 * RabbitMQ's aliveness test also declares a queue and round-trips a message through it; ours
 * checks what a client connection would (the login, and a permission entry in the vhost) and that
 * the vhost's catalog answers, and leaves nothing behind.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import { issueTicket } from "../gateway/tickets";
import { parseBody } from "./body";
import type { AppEnv } from "./context";
import { authorize } from "./guards";
import { vhostParam } from "./params";
import { resource } from "./routes";

const ticketBodySchema = z.object({ vhost: z.string().max(1024) });

export function credentialRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/aliveness-test/:vhost", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      authorize(c, { vhost });
      unwrap(await vhostStub(c.env, vhost).ensure(vhost));
      return c.json({ status: "ok" });
    },
  });

  resource(
    app,
    "/api/tickets",
    {
      POST: async (c) => {
        const { vhost } = await parseBody(c, ticketBodySchema);
        authorize(c, { vhost });
        const issued = unwrap(await issueTicket(c.env, c.get("principal").name, vhost));
        return c.json(
          {
            ticket: issued.ticket,
            vhost: issued.vhost,
            expires_in: Math.round((issued.expiresAt - Date.now()) / 1000),
          },
          201,
        );
      },
    },
    {
      POST: { summary: "A single-use WebSocket connection ticket (30 s)", body: ticketBodySchema },
    },
  );
}
