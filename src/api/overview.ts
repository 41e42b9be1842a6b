/** /api/overview. */
import type { Hono } from "hono";
import { PRODUCT } from "../config";
import { unwrap } from "../errors";
import { queueStub, vhostStub } from "../objects/stubs";
import { EXCHANGE_TYPE_NAMES } from "../routing/exchange-type";
import type { AppEnv } from "./context";
import { exchangesOf } from "./exchanges";
import { knownVhosts } from "./guards";
import { resource } from "./routes";

const TYPE_DESCRIPTIONS: Record<string, string> = {
  direct: "AMQP direct exchange, as per the AMQP specification",
  fanout: "AMQP fanout exchange, as per the AMQP specification",
  topic: "AMQP topic exchange, as per the AMQP specification",
  headers: "AMQP headers exchange, as per the AMQP specification",
};

export function overviewRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/overview", {
    GET: async (c) => {
      let exchanges = 0;
      let queues = 0;
      let connections = 0;
      let consumers = 0;
      const totals = { messages: 0, messages_ready: 0, messages_unacknowledged: 0 };
      for (const vhost of knownVhosts(c)) {
        exchanges += (await exchangesOf(c, vhost)).length;
        const list = unwrap(await vhostStub(c.env, vhost).listQueues(vhost)).queues;
        queues += list.length;
        const stats = await Promise.all(list.map((q) => queueStub(c.env, vhost, q.name).stats()));
        connections += unwrap(await vhostStub(c.env, vhost).listConnections()).connections.length;
        for (const answer of stats) {
          if (!answer.ok) continue;
          consumers += answer.stats.consumers;
          totals.messages += answer.stats.messages;
          totals.messages_ready += answer.stats.messages_ready;
          totals.messages_unacknowledged += answer.stats.messages_unacknowledged;
        }
      }
      return c.json({
        management_version: PRODUCT.managementVersion,
        rabbitmq_version: PRODUCT.managementVersion,
        product_name: PRODUCT.name,
        product_version: PRODUCT.version,
        node: "workers",
        cluster_name: PRODUCT.name,
        exchange_types: EXCHANGE_TYPE_NAMES.map((name) => ({
          name,
          description: TYPE_DESCRIPTIONS[name],
          enabled: true,
        })),
        // One channel per WebSocket connection (src/api/connections.ts).
        object_totals: { connections, channels: connections, consumers, exchanges, queues },
        queue_totals: totals,
        message_stats: {},
      });
    },
  });
}
