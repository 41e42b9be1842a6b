/**
 * /api/overview: versions, exchange types, `object_totals`, `queue_totals` and `message_stats`
 * as RabbitMQ reports them. Each queue object reports its counts and message_stats to its vhost's
 * catalog at most once a second (queue/queue-report.ts); the catalog sums them, so the overview
 * asks one object per vhost however many queues it has, and scans no storage.
 */
import type { Hono } from "hono";
import { PRODUCT } from "../config";
import { unwrap } from "../errors";
import { vhostStub } from "../gateway/stubs";
import { type QueueReport, sumReports } from "../queue/queue-report";
import { DECLARABLE_EXCHANGE_TYPES } from "../routing/delayed";
import type { AppContext, AppEnv } from "./context";
import { declaredExchanges } from "./exchanges";
import { knownVhosts } from "./guards";
import { resource } from "./routes";

const TYPE_DESCRIPTIONS: Record<string, string> = {
  direct: "AMQP direct exchange, as per the AMQP specification",
  fanout: "AMQP fanout exchange, as per the AMQP specification",
  topic: "AMQP topic exchange, as per the AMQP specification",
  headers: "AMQP headers exchange, as per the AMQP specification",
  // The delayed-message plugin's own description (rabbit_exchange_type_delayed_message).
  "x-delayed-message": "Delayed Message Exchange.",
};

interface VhostTotals {
  exchanges: number;
  queues: number;
  connections: number;
  totals: QueueReport;
}

/** Three calls per vhost, whatever its number of queues: the catalog sums the queues' reports. */
async function vhostTotals(c: AppContext, vhost: string): Promise<VhostTotals> {
  const catalog = vhostStub(c.env, vhost);
  const [exchanges, queueTotals, connections] = await Promise.all([
    declaredExchanges(c, vhost),
    catalog.queueTotals(vhost),
    catalog.connectionCount(),
  ]);
  const { queues, totals } = unwrap(queueTotals);
  return {
    exchanges: exchanges.length,
    queues,
    connections: connections.ok ? connections.connections : 0,
    totals,
  };
}

export function overviewRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/overview", {
    GET: async (c) => {
      const perVhost = await Promise.all(knownVhosts(c).map((vhost) => vhostTotals(c, vhost)));
      const sum = (key: Exclude<keyof VhostTotals, "totals">) =>
        perVhost.reduce((total, vhost) => total + vhost[key], 0);
      const queues = sumReports(perVhost.map((vhost) => vhost.totals));
      return c.json({
        management_version: PRODUCT.managementVersion,
        rabbitmq_version: PRODUCT.managementVersion,
        product_name: PRODUCT.name,
        product_version: PRODUCT.version,
        node: "workers",
        cluster_name: PRODUCT.name,
        exchange_types: DECLARABLE_EXCHANGE_TYPES.map((name) => ({
          name,
          description: TYPE_DESCRIPTIONS[name],
          enabled: true,
        })),
        object_totals: {
          connections: sum("connections"),
          channels: sum("connections"),
          consumers: queues.consumers,
          exchanges: sum("exchanges"),
          queues: sum("queues"),
        },
        queue_totals: {
          messages: queues.messages,
          messages_ready: queues.messages_ready,
          messages_unacknowledged: queues.messages_unacknowledged,
        },
        // Summed over the queues' latest reports (at most REPORT_INTERVAL_MS old, see
        // queue/queue-report.ts), so exact for any number of queues. Summed over queues: `publish` counts messages stored in queues (a message routed to
        // three queues counts three), as the broker has no channels to count publishes on.
        message_stats: queues.message_stats,
      });
    },
  });
}
