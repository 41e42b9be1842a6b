/**
 * Pull consumers over HTTP, for clients that cannot hold a socket (WebSocket consumers:
 * src/api/sockets.ts):
 * - `POST /api/queues/{vhost}/{queue}/pull` leases messages, long-polling up to 20 s;
 * - `POST /api/queues/{vhost}/{queue}/ack` acks or nacks leases.
 * Both are basic.get / basic.ack in RabbitMQ's table: read on the queue.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { queueStub } from "../gateway/stubs";
import { encodePayload } from "../protocol/payload";
import { parseBody } from "./body";
import type { AppEnv } from "./context";
import { authorize } from "./guards";
import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";

const pullSchema = z.object({
  count: z.number().int().min(1).max(LIMITS.maxPullCount).default(1),
  visibility_timeout_ms: z
    .number()
    .int()
    .min(LIMITS.minAckTimeoutMs)
    .max(LIMITS.maxVisibilityMs)
    .default(LIMITS.defaultVisibilityMs),
  wait_ms: z.number().int().min(0).max(LIMITS.maxPullWaitMs).default(0),
  encoding: z.enum(["auto", "base64"]).default("auto"),
});

const lease = z.string().min(1).max(64);
const settleSchema = z.object({
  acks: z.array(lease).max(LIMITS.maxPullCount).default([]),
  nacks: z
    .array(
      z.object({
        lease,
        requeue: z.boolean().default(true),
        delay_ms: z.number().int().min(0).max(LIMITS.maxNackDelayMs).default(0),
      }),
    )
    .max(LIMITS.maxPullCount)
    .default([]),
});

export function pullRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/api/queues/:vhost/:name/pull",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        authorize(c, { vhost, name });
        const body = await parseBody(c, pullSchema);
        const { messages } = unwrap(
          await queueStub(c.env, vhost, name).pull(
            body.count,
            body.visibility_timeout_ms,
            body.wait_ms,
          ),
        );
        return c.json({
          messages: messages.map((m) => ({
            lease: m.lease,
            redelivered: m.redelivered,
            delivery_count: m.deliveryCount + 1,
            exchange: m.exchange,
            routing_key: m.routingKey,
            properties: m.properties,
            ...encodePayload(m.body, body.encoding),
          })),
        });
      },
    },
    { POST: { summary: "Lease messages (pull consumer, long poll up to 20 s)", body: pullSchema } },
  );

  resource(
    app,
    "/api/queues/:vhost/:name/ack",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        authorize(c, { vhost, name });
        const body = await parseBody(c, settleSchema);
        if (body.acks.length + body.nacks.length === 0) {
          throw new BrokerError("bad_request", "nothing to settle: give acks and/or nacks");
        }
        const settlements = [
          ...body.acks.map((l) => ({ lease: l, outcome: "ack" as const, delayMs: 0 })),
          ...body.nacks.map((n) => ({
            lease: n.lease,
            outcome: n.requeue ? ("requeue" as const) : ("drop" as const),
            delayMs: n.delay_ms,
          })),
        ];
        const { results } = unwrap(await queueStub(c.env, vhost, name).settle(settlements));
        return c.json({ results });
      },
    },
    { POST: { summary: "Settle leases", body: settleSchema } },
  );
}
