/** /api/queues: declare, read, list, delete and purge queues, and get messages. */
import type { Hono } from "hono";
import { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import type { QueueStats } from "../objects/queue-object";
import { queueStub, vhostStub } from "../objects/stubs";
import { integer } from "../protocol/coerce";
import {
  checkQueueArguments,
  type QueueDeclaration,
  queueBodySchema,
} from "../protocol/declarations";
import { describe, isReservedName } from "../protocol/names";
import { encodePayload } from "../protocol/payload";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { knownVhosts, requirePermission } from "./guards";
import { listAnswer } from "./pagination";
import { flagQuery, nameParam, vhostParam } from "./params";
import { resource } from "./routes";

export const getBodySchema = z.object({
  count: integer({ min: 1, max: LIMITS.maxGetCount }),
  ackmode: z.enum([
    "ack_requeue_true",
    "reject_requeue_true",
    "ack_requeue_false",
    "reject_requeue_false",
  ]),
  encoding: z.enum(["auto", "base64"], {
    error: "Unsupported encoding. Please use auto or base64.",
  }),
  truncate: integer({ min: 0 }).optional(),
});

const EMPTY_STATS: QueueStats = {
  messages: 0,
  messages_ready: 0,
  messages_unacknowledged: 0,
  consumers: 0,
  message_bytes: 0,
};

async function present(c: AppContext, queue: QueueDeclaration): Promise<Record<string, unknown>> {
  const answer = await queueStub(c.env, queue.vhost, queue.name).stats();
  const stats = answer.ok ? answer.stats : EMPTY_STATS;
  return {
    name: queue.name,
    vhost: queue.vhost,
    durable: queue.durable,
    auto_delete: queue.auto_delete,
    exclusive: queue.exclusive,
    arguments: queue.arguments,
    type: "classic",
    state: "running",
    node: "workers",
    policy: null,
    exclusive_consumer_tag: null,
    ...stats,
  };
}

async function queuesOf(c: AppContext, vhost: string): Promise<Record<string, unknown>[]> {
  const { queues } = unwrap(await vhostStub(c.env, vhost).listQueues(vhost));
  return Promise.all(queues.map((queue) => present(c, queue)));
}

export function queueRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/queues", {
    GET: async (c) => {
      const all = await Promise.all(knownVhosts(c).map((vhost) => queuesOf(c, vhost)));
      return c.json(listAnswer(c, all.flat()));
    },
  });

  resource(app, "/api/queues/:vhost", {
    GET: async (c) => c.json(listAnswer(c, await queuesOf(c, vhostParam(c)))),
  });

  resource(
    app,
    "/api/queues/:vhost/:name",
    {
      GET: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        const { queue } = unwrap(await vhostStub(c.env, vhost).getQueue(vhost, name));
        return c.json(await present(c, queue));
      },
      PUT: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        const body = await parseBody(c, queueBodySchema);
        if (isReservedName(name)) {
          throw new BrokerError(
            "access_refused",
            `queue name '${name}' contains reserved prefix 'amq.*'`,
          );
        }
        const badArgument = checkQueueArguments(body.arguments);
        if (badArgument) {
          // RabbitMQ names the queue: "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': ..."
          const where = `' for ${describe("queue", name, vhost)}:`;
          throw new BrokerError(badArgument.code, badArgument.reason.replace("':", where));
        }
        requirePermission(c, vhost, "configure", "queue", name);
        const deadLetter = body.arguments["x-dead-letter-exchange"];
        if (typeof deadLetter === "string") {
          // RabbitMQ's table: declaring with a DLX needs write on the DLX and read on the queue.
          requirePermission(c, vhost, "write", "exchange", deadLetter);
          requirePermission(c, vhost, "read", "queue", name);
        }
        const declaration: QueueDeclaration = {
          name,
          vhost,
          durable: body.durable,
          auto_delete: body.auto_delete,
          exclusive: false,
          arguments: body.arguments,
        };
        const { created } = unwrap(await vhostStub(c.env, vhost).declareQueue(declaration));
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        requirePermission(c, vhost, "configure", "queue", name);
        unwrap(
          await vhostStub(c.env, vhost).deleteQueue(vhost, name, {
            ifEmpty: flagQuery(c, "if-empty"),
            ifUnused: flagQuery(c, "if-unused"),
          }),
        );
        return c.body(null, 204);
      },
    },
    {
      GET: { summary: "A queue with its message counts" },
      PUT: { summary: "Declare a queue", body: queueBodySchema },
      DELETE: { summary: "Delete a queue (?if-empty=true, ?if-unused=true)" },
    },
  );

  resource(
    app,
    "/api/queues/:vhost/:name/contents",
    {
      DELETE: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        requirePermission(c, vhost, "read", "queue", name);
        unwrap(await queueStub(c.env, vhost, name).purge());
        return c.body(null, 204);
      },
    },
    { DELETE: { summary: "Purge a queue" } },
  );

  resource(
    app,
    "/api/queues/:vhost/:name/get",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        const body = await parseBody(c, getBodySchema);
        requirePermission(c, vhost, "read", "queue", name);
        const got = await queueStub(c.env, vhost, name).get(body.count, body.ackmode);
        if (!got.ok && got.code === "not_found") {
          // RabbitMQ relays basic.get's channel error.
          throw new BrokerError("not_found", `NOT_FOUND - no ${describe("queue", name, vhost)}`);
        }
        const { messages } = unwrap(got);
        return c.json(
          messages.map((message) => {
            const bytes =
              body.truncate !== undefined && message.body.byteLength > body.truncate
                ? message.body.subarray(0, body.truncate)
                : message.body;
            return {
              payload_bytes: message.body.byteLength,
              redelivered: message.redelivered,
              exchange: message.exchange,
              routing_key: message.routingKey,
              message_count: message.remaining,
              properties: message.properties,
              ...encodePayload(bytes, body.encoding),
            };
          }),
        );
      },
    },
    { POST: { summary: "Get messages", body: getBodySchema } },
  );
}
