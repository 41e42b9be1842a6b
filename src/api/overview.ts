/**
 * /api/overview: versions, exchange types, `object_totals`, `queue_totals` and `message_stats`
 * as RabbitMQ reports them. Totals add up what each queue object already counts in memory (its
 * message counts and message_stats, see objects/message-stats.ts): one call per queue, a bounded
 * number in flight, and no storage scan anywhere.
 */
import type { Hono } from "hono";
import { LIMITS, PRODUCT } from "../config";
import { unwrap } from "../errors";
import { type MessageStatsSnapshot, sumMessageStats } from "../objects/message-stats";
import { queueStub, vhostStub } from "../objects/stubs";
import { EXCHANGE_TYPE_NAMES } from "../routing/exchange-type";
import type { AppContext, AppEnv } from "./context";
import { declaredExchanges } from "./exchanges";
import { mapLimited } from "./fan-out";
import { knownVhosts } from "./guards";
import { resource } from "./routes";

const TYPE_DESCRIPTIONS: Record<string, string> = {
  direct: "AMQP direct exchange, as per the AMQP specification",
  fanout: "AMQP fanout exchange, as per the AMQP specification",
  topic: "AMQP topic exchange, as per the AMQP specification",
  headers: "AMQP headers exchange, as per the AMQP specification",
};

interface VhostTotals {
  exchanges: number;
  queues: number;
  consumers: number;
  connections: number;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  counted: number;
  stats: MessageStatsSnapshot[];
}

async function vhostTotals(c: AppContext, vhost: string): Promise<VhostTotals> {
  const catalog = vhostStub(c.env, vhost);
  const [exchanges, queueList, connections] = await Promise.all([
    declaredExchanges(c, vhost),
    catalog.listQueues(vhost),
    catalog.connectionCount(),
  ]);
  const { queues } = unwrap(queueList);
  const totals: VhostTotals = {
    exchanges: exchanges.length,
    queues: queues.length,
    consumers: 0,
    connections: connections.ok ? connections.connections : 0,
    messages: 0,
    messages_ready: 0,
    messages_unacknowledged: 0,
    counted: 0,
    stats: [],
  };
  // Past LIMITS.maxFanOut queues the sums cover the first ones and say so (queues_counted).
  const counted = queues.slice(0, LIMITS.maxFanOut);
  totals.counted = counted.length;
  const answers = await mapLimited(counted, LIMITS.fanOutConcurrency, (q) =>
    queueStub(c.env, vhost, q.name).stats(),
  );
  for (const answer of answers) {
    if (!answer.ok) continue; // deleted meanwhile
    totals.consumers += answer.stats.consumers;
    totals.messages += answer.stats.messages;
    totals.messages_ready += answer.stats.messages_ready;
    totals.messages_unacknowledged += answer.stats.messages_unacknowledged;
    totals.stats.push(answer.messageStats);
  }
  return totals;
}

/**
 * Concurrent overview requests over the same vhosts share one computation (single flight): with
 * thousands of queues a computation is one call per queue, and several open UI pages polling
 * must not multiply it. Nothing is kept once it is answered, so each request after it is fresh.
 */
const inFlight = new Map<string, Promise<VhostTotals[]>>();

function totalsOf(c: AppContext, vhosts: string[]): Promise<VhostTotals[]> {
  const key = JSON.stringify(vhosts);
  let running = inFlight.get(key);
  if (!running) {
    running = Promise.all(vhosts.map((vhost) => vhostTotals(c, vhost))).finally(() =>
      inFlight.delete(key),
    );
    inFlight.set(key, running);
  }
  return running;
}

export function overviewRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/overview", {
    GET: async (c) => {
      const perVhost = await totalsOf(c, knownVhosts(c));
      const sum = (key: Exclude<keyof VhostTotals, "stats">) =>
        perVhost.reduce((total, vhost) => total + vhost[key], 0);
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
        object_totals: {
          connections: sum("connections"),
          channels: sum("connections"),
          consumers: sum("consumers"),
          exchanges: sum("exchanges"),
          queues: sum("queues"),
        },
        queue_totals: {
          messages: sum("messages"),
          messages_ready: sum("messages_ready"),
          messages_unacknowledged: sum("messages_unacknowledged"),
        },
        // Summed over queues: `publish` counts messages stored in queues (a message routed to
        // three queues counts three), as the broker has no channels to count publishes on.
        message_stats: sumMessageStats(perVhost.flatMap((vhost) => vhost.stats)),
        // An extension: how many queues the sums above cover (fewer than object_totals.queues
        // only past LIMITS.maxFanOut queues in a vhost).
        queues_counted: sum("counted"),
      });
    },
  });
}
