/** /api/queues: declare, read, list, delete and purge queues, and get messages. */
import type { Hono } from "hono";
import { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { queueStub, streamStub, vhostStub } from "../gateway/stubs";
import type { QueueStats } from "../objects/queue-object";
import { integer } from "../protocol/coerce";
import {
  checkQueueArguments,
  type QueueDeclaration,
  queueBodySchema,
} from "../protocol/declarations";
import { describe, isReservedName } from "../protocol/names";
import { encodePayload } from "../protocol/payload";
import { checkStreamArguments, isStreamDeclaration } from "../protocol/stream";
import type { MessageStatsSnapshot } from "../runtime/message-stats";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts } from "./guards";
import { listPresented } from "./pagination";
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

/** The declaration's own fields: a list sorted on one of them pages before asking the queues. */
const DECLARATION_KEYS: ReadonlySet<string> = new Set([
  "name",
  "vhost",
  "durable",
  "auto_delete",
  "exclusive",
  "arguments",
]);

async function present(c: AppContext, queue: QueueDeclaration): Promise<Record<string, unknown>> {
  const stream = isStreamDeclaration(queue.arguments);
  const answer = stream
    ? await streamStub(c.env, queue.vhost, queue.name).stats()
    : await queueStub(c.env, queue.vhost, queue.name).stats();
  const stats = answer.ok ? answer.stats : EMPTY_STATS;
  // Streams keep offsets, not RabbitMQ's message_stats counters.
  const messageStats = answer.ok && "messageStats" in answer ? answer.messageStats : {};
  return row(queue, stats, messageStats);
}

/**
 * Every queue's row from its vhost's snapshot (the queues' latest reports, at most about a
 * second old): one call per vhost. Streams report nothing there and show zeros until presented.
 */
async function fromSnapshot(
  c: AppContext,
  queues: readonly QueueDeclaration[],
): Promise<Record<string, unknown>[]> {
  const vhosts = [...new Set(queues.map((queue) => queue.vhost))];
  const answers = await Promise.all(
    vhosts.map(async (vhost) => unwrap(await vhostStub(c.env, vhost).queueReports(vhost)).reports),
  );
  const reports = new Map(vhosts.map((vhost, index) => [vhost, answers[index] ?? {}]));
  return queues.map((queue) => {
    const report = reports.get(queue.vhost)?.[queue.name];
    if (!report) return row(queue, EMPTY_STATS, {});
    const { message_stats, ...stats } = report;
    return row(queue, stats, message_stats);
  });
}

function row(
  queue: QueueDeclaration,
  stats: QueueStats,
  messageStats: MessageStatsSnapshot,
): Record<string, unknown> {
  const stream = isStreamDeclaration(queue.arguments);
  return {
    name: queue.name,
    vhost: queue.vhost,
    durable: queue.durable,
    auto_delete: queue.auto_delete,
    exclusive: queue.exclusive,
    arguments: queue.arguments,
    type: stream ? "stream" : "classic",
    state: "running",
    node: "workers",
    policy: null,
    exclusive_consumer_tag: null,
    ...stats,
    message_stats: messageStats,
  };
}

async function declaredQueues(c: AppContext, vhost: string): Promise<QueueDeclaration[]> {
  return unwrap(await vhostStub(c.env, vhost).listQueues(vhost)).queues;
}

function listQueues(c: AppContext, queues: QueueDeclaration[]) {
  return listPresented(
    c,
    queues,
    (queue) => present(c, queue),
    DECLARATION_KEYS,
    (all) => fromSnapshot(c, all),
  );
}

/**
 * A stream queue has no queue object: get and purge on it answer 400 with what to use instead
 * (docs/streams.md), not 404.
 */
async function refuseStream<T extends { ok: boolean }>(
  c: AppContext,
  vhost: string,
  name: string,
  answer: T,
): Promise<Extract<T, { ok: true }>> {
  if (!answer.ok && (await streamStub(c.env, vhost, name).info()).ok) {
    throw new BrokerError(
      "bad_request",
      `queue '${name}' in vhost '${vhost}' is a stream: read it with POST /api/streams/{vhost}/{name}/fetch or a stream reader`,
    );
  }
  return unwrap(answer);
}

export function queueRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/queues", {
    GET: async (c) => {
      const all = await Promise.all(knownVhosts(c).map((vhost) => declaredQueues(c, vhost)));
      return c.json(await listQueues(c, all.flat()));
    },
  });

  resource(app, "/api/queues/:vhost", {
    GET: async (c) => c.json(await listQueues(c, await declaredQueues(c, vhostParam(c)))),
  });

  resource(
    app,
    "/api/queues/:vhost/:name",
    {
      GET: async (c) => {
        const vhost = vhostParam(c);
        const name = nameParam(c, "queue");
        const { queue } = unwrap(await vhostStub(c.env, vhost).getQueue(vhost, name));
        const [presented, consumers] = await Promise.all([
          present(c, queue),
          queueStub(c.env, vhost, name).consumerDetails(),
        ]);
        return c.json({ ...presented, consumer_details: consumers.ok ? consumers.consumers : [] });
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
        const badArgument =
          checkQueueArguments(body.arguments, name, vhost) ??
          (isStreamDeclaration(body.arguments) ? checkStreamArguments(body.arguments) : null);
        if (badArgument) throw BrokerError.from(badArgument);
        if (isStreamDeclaration(body.arguments) && (!body.durable || body.auto_delete)) {
          // RabbitMQ: streams are always durable and never auto-delete.
          throw new BrokerError(
            "bad_request",
            "invalid property 'durable' or 'auto_delete' for a stream queue: streams are durable and not auto-delete",
          );
        }
        const deadLetter = body.arguments["x-dead-letter-exchange"];
        // With a DLX, also write on the DLX and read on the queue (queue.declare's grants).
        authorize(c, {
          vhost,
          name,
          ...(typeof deadLetter === "string" ? { deadLetter } : {}),
        });
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
        authorize(c, { vhost, name });
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
        authorize(c, { vhost, name });
        await refuseStream(c, vhost, name, await queueStub(c.env, vhost, name).purge());
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
        authorize(c, { vhost, name });
        const answer = await queueStub(c.env, vhost, name).get(body.count, body.ackmode);
        if (
          !answer.ok &&
          answer.code === "not_found" &&
          !(await streamStub(c.env, vhost, name).info()).ok
        ) {
          // RabbitMQ relays basic.get's channel error.
          throw new BrokerError("not_found", `NOT_FOUND - no ${describe("queue", name, vhost)}`);
        }
        const { messages } = await refuseStream(c, vhost, name, answer);
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
