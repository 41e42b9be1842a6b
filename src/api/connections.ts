/**
 * /api/connections, /api/channels and /api/consumers: the open WebSocket connections as
 * RabbitMQ's management API shows AMQP connections. Each WebSocket is one connection with one
 * channel (number 1): a consumer connection holds that queue's consumers, a producer connection
 * publishes with confirms. The connection's name is its id (RabbitMQ names a connection by its
 * addresses; ours have no port to show). Administrators and monitoring users see every
 * connection in the vhosts they see; other management users see their own, as in RabbitMQ.
 * `DELETE /api/connections/{name}` closes one (the user's own, or any for an administrator):
 * its consumers go and their unacknowledged messages return to the queue.
 */
import type { Hono } from "hono";
import { seesAllVhosts } from "../access/tags";
import { BrokerError, unwrap } from "../errors";
import { queueStub, vhostStub } from "../gateway/stubs";
import type { ConsumerInfo } from "../objects/queue-object";
import type { ConnectionRecord } from "../storage/connection-store";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts } from "./guards";
import { listAnswer } from "./pagination";
import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";

/** The node name every object reports (one broker, shown as one node). */
export const NODE_NAME = "workers";

interface Open extends ConnectionRecord {
  readonly vhost: string;
}

async function connectionsOf(c: AppContext, vhosts: readonly string[]): Promise<Open[]> {
  const principal = c.get("principal");
  const all = seesAllVhosts(principal.tags);
  const lists = await Promise.all(
    vhosts.map(async (vhost) => {
      const { connections } = unwrap(await vhostStub(c.env, vhost).listConnections());
      return connections.map((record) => ({ ...record, vhost }));
    }),
  );
  return lists.flat().filter((open) => all || open.user === principal.name);
}

/** The consumers of the queues these connections hold, by connection id. */
async function consumersByConnection(
  c: AppContext,
  opens: readonly Open[],
): Promise<Map<string, ConsumerView[]>> {
  const byConnection = new Map<string, ConsumerView[]>();
  const queues = new Map<string, { vhost: string; name: string }>();
  for (const open of opens) {
    if (open.holder !== "") {
      queues.set(`${open.vhost}\u0000${open.holder}`, { vhost: open.vhost, name: open.holder });
    }
  }
  const answers = await Promise.all(
    [...queues.values()].map(async (queue) => ({
      queue,
      answer: await queueStub(c.env, queue.vhost, queue.name).consumerList(),
    })),
  );
  const wanted = new Set(opens.map((open) => open.id));
  for (const { queue, answer } of answers) {
    if (!answer.ok) continue;
    for (const consumer of answer.consumers) {
      if (!wanted.has(consumer.connection)) continue;
      const list = byConnection.get(consumer.connection) ?? [];
      list.push({ ...consumer, queue });
      byConnection.set(consumer.connection, list);
    }
  }
  return byConnection;
}

interface ConsumerView extends ConsumerInfo {
  readonly queue: { vhost: string; name: string };
}

/**
 * The client's address when the platform reported one. Fields that are not known are left out,
 * never null: rabbitmqadmin's table formatter fails on a null column. A WebSocket has no port
 * the Worker can see.
 */
function peer(open: Open): { peer_host?: string } {
  return open.peer ? { peer_host: open.peer } : {};
}

function presentConnection(open: Open): Record<string, unknown> {
  return {
    name: open.id,
    vhost: open.vhost,
    user: open.user,
    node: NODE_NAME,
    type: "network",
    protocol: open.holder === "" ? "WebSocket (producer)" : "WebSocket (consumer)",
    state: open.closing ? "closing" : "running",
    channels: 1,
    connected_at: open.opened,
    ...peer(open),
    ssl: false,
    auth_mechanism: "PLAIN",
    client_properties: {},
    user_who_performed_action: open.user,
  };
}

function channelName(open: Open): string {
  return `${open.id} (1)`;
}

function presentChannel(open: Open, consumers: readonly ConsumerView[]): Record<string, unknown> {
  return {
    name: channelName(open),
    number: 1,
    vhost: open.vhost,
    user: open.user,
    node: NODE_NAME,
    state: open.closing ? "closing" : "running",
    connection_details: { name: open.id, ...peer(open) },
    consumer_count: consumers.length,
    prefetch_count: consumers[0]?.prefetch ?? 0,
    global_prefetch_count: 0,
    messages_unacknowledged: consumers.reduce((n, consumer) => n + consumer.unacked, 0),
    messages_unconfirmed: 0,
    messages_uncommitted: 0,
    acks_uncommitted: 0,
    confirm: open.holder === "",
    transactional: false,
    user_who_performed_action: open.user,
  };
}

function presentConsumer(open: Open, consumer: ConsumerView): Record<string, unknown> {
  return {
    consumer_tag: consumer.tag,
    queue: consumer.queue,
    channel_details: {
      name: channelName(open),
      connection_name: open.id,
      number: 1,
      node: NODE_NAME,
      ...peer(open),
      user: open.user,
    },
    ack_required: consumer.ackRequired,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.prefetch,
    active: true,
    activity_status: "up",
    arguments: {},
  };
}

async function channelsOf(c: AppContext, opens: readonly Open[]) {
  const consumers = await consumersByConnection(c, opens);
  return opens.map((open) => presentChannel(open, consumers.get(open.id) ?? []));
}

async function consumerListOf(c: AppContext, vhosts: readonly string[]) {
  const opens = await connectionsOf(c, vhosts);
  const consumers = await consumersByConnection(c, opens);
  return opens.flatMap((open) =>
    (consumers.get(open.id) ?? []).map((consumer) => presentConsumer(open, consumer)),
  );
}

/** The connection a path names (`:name`), if the caller may see it; else 404. */
async function findConnection(c: AppContext, name: string): Promise<Open> {
  const open = (await connectionsOf(c, knownVhosts(c))).find((o) => o.id === name);
  if (!open) throw new BrokerError("not_found", "Not Found");
  return open;
}

export function connectionRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/connections", {
    GET: async (c) =>
      c.json(listAnswer(c, (await connectionsOf(c, knownVhosts(c))).map(presentConnection))),
  });
  resource(app, "/api/vhosts/:vhost/connections", {
    GET: async (c) =>
      c.json(listAnswer(c, (await connectionsOf(c, [vhostParam(c)])).map(presentConnection))),
  });
  resource(app, "/api/connections/:name", {
    GET: async (c) => c.json(presentConnection(await findConnection(c, nameParam(c, "user")))),
    DELETE: async (c) => {
      const open = await findConnection(c, nameParam(c, "user"));
      // connection.close: the administrator tag, unless the caller opened the connection.
      authorize(c, { owner: open.user });
      // RabbitMQ passes the X-Reason header on as the close reason.
      const reason = `CONNECTION_FORCED - ${c.req.header("X-Reason") ?? "Closed via management plugin"}`;
      unwrap(await vhostStub(c.env, open.vhost).forceCloseConnection(open.id, reason));
      return c.body(null, 204);
    },
  });
  resource(app, "/api/connections/:name/channels", {
    GET: async (c) => {
      const open = await findConnection(c, nameParam(c, "user"));
      return c.json(listAnswer(c, await channelsOf(c, [open])));
    },
  });

  resource(app, "/api/channels", {
    GET: async (c) =>
      c.json(listAnswer(c, await channelsOf(c, await connectionsOf(c, knownVhosts(c))))),
  });
  resource(app, "/api/vhosts/:vhost/channels", {
    GET: async (c) =>
      c.json(listAnswer(c, await channelsOf(c, await connectionsOf(c, [vhostParam(c)])))),
  });
  resource(app, "/api/channels/:name", {
    GET: async (c) => {
      const name = nameParam(c, "user");
      const id = name.endsWith(" (1)") ? name.slice(0, -4) : "";
      const [channel] = await channelsOf(c, [await findConnection(c, id)]);
      return c.json(channel);
    },
  });

  resource(app, "/api/consumers", {
    GET: async (c) => c.json(listAnswer(c, await consumerListOf(c, knownVhosts(c)))),
  });
  resource(app, "/api/consumers/:vhost", {
    GET: async (c) => c.json(listAnswer(c, await consumerListOf(c, [vhostParam(c)]))),
  });
}
