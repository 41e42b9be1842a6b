/**
 * GET /metrics: Prometheus' text format, named and labelled as RabbitMQ's rabbitmq_prometheus
 * plugin names them (with `prometheus.return_per_object_metrics = true`, checked against
 * RabbitMQ 3.10.8): per queue `rabbitmq_queue_messages_ready`, `..._unacked`, `..._messages`,
 * `rabbitmq_queue_consumers`, `rabbitmq_queue_messages_bytes`,
 * `rabbitmq_queue_messages_published_total`; totals `rabbitmq_global_messages_routed_total`
 * (copies stored in queues: this broker counts at the queues, so one message routed to two
 * queues counts twice), `..._delivered_total` (consumers, gets and pulls), `..._redelivered_total`,
 * `..._acknowledged_total`; and `rabbitmq_connections`,
 * `rabbitmq_channels`, `rabbitmq_consumers`, `rabbitmq_queues`.
 *
 * Cheap by construction: every figure is a counter an object keeps anyway (QueueEngine's counts
 * and its message_stats totals, src/runtime/message-stats.ts, in memory: like RabbitMQ's, they
 * start again when the object restarts, which Prometheus' rate() and increase() allow for), read
 * from the reports every queue sends its vhost's catalog at most once a second
 * (src/queue/queue-report.ts): three calls per vhost, whatever the number of queues, figures at
 * most about a second old; no message is read, nothing is written. Who may
 * scrape: METRICS_AUTH / METRICS_TOKEN (src/config.ts, docs/deploy.md).
 */
import type { Hono } from "hono";
import { permitted } from "../access/operation-check";
import { BrokerError, unwrap } from "../errors";
import { vhostRecords } from "../gateway/access-cache";
import { vhostStub } from "../gateway/stubs";
import { isStreamDeclaration } from "../protocol/stream";
import type { QueueStats } from "../queue/queue-engine";
import type { QueueReport } from "../queue/queue-report";
import { loginOrThrow } from "./auth";
import type { AppContext, AppEnv } from "./context";
import { currentOperation } from "./guards";
import { resource } from "./routes";

/** Totals since each queue object started (Prometheus counters may restart). */
interface MessageCounts {
  readonly published: number;
  readonly delivered: number;
  readonly redelivered: number;
  readonly acknowledged: number;
}

interface QueueFigures {
  readonly vhost: string;
  readonly queue: string;
  readonly stats: QueueStats;
  readonly counts: MessageCounts;
}

interface Family {
  readonly name: string;
  readonly type: "gauge" | "counter";
  readonly help: string;
}

const PER_QUEUE: readonly (Family & { value: (q: QueueFigures) => number })[] = [
  {
    name: "rabbitmq_queue_messages_ready",
    type: "gauge",
    help: "Messages ready to be delivered to consumers",
    value: (q) => q.stats.messages_ready,
  },
  {
    name: "rabbitmq_queue_messages_unacked",
    type: "gauge",
    help: "Messages delivered to consumers but not yet acknowledged",
    value: (q) => q.stats.messages_unacknowledged,
  },
  {
    name: "rabbitmq_queue_messages",
    type: "gauge",
    help: "Sum of ready and unacknowledged messages - total queue depth",
    value: (q) => q.stats.messages,
  },
  {
    name: "rabbitmq_queue_consumers",
    type: "gauge",
    help: "Consumers on a queue",
    value: (q) => q.stats.consumers,
  },
  {
    name: "rabbitmq_queue_messages_bytes",
    type: "gauge",
    help: "Size in bytes of ready and unacknowledged messages",
    value: (q) => q.stats.message_bytes,
  },
  {
    name: "rabbitmq_queue_messages_published_total",
    type: "counter",
    help: "Total number of messages published to queues",
    value: (q) => q.counts.published,
  },
];

const GLOBAL: readonly (Family & { value: (c: MessageCounts) => number })[] = [
  {
    name: "rabbitmq_global_messages_routed_total",
    type: "counter",
    help: "Total number of messages routed to queues (one per copy stored)",
    value: (c) => c.published,
  },
  {
    name: "rabbitmq_global_messages_delivered_total",
    type: "counter",
    help: "Total number of messages delivered to consumers",
    value: (c) => c.delivered,
  },
  {
    name: "rabbitmq_global_messages_redelivered_total",
    type: "counter",
    help: "Total number of messages redelivered to consumers",
    value: (c) => c.redelivered,
  },
  {
    name: "rabbitmq_global_messages_acknowledged_total",
    type: "counter",
    help: "Total number of messages acknowledged by consumers",
    value: (c) => c.acknowledged,
  },
];

/** Prometheus label values escape backslash, double quote and newline. */
function label(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function header(family: Family): string {
  return `# TYPE ${family.name} ${family.type}\n# HELP ${family.name} ${family.help}\n`;
}

export function renderMetrics(queues: readonly QueueFigures[], connections: number): string {
  let out = "";
  for (const family of PER_QUEUE) {
    out += header(family);
    for (const q of queues) {
      out += `${family.name}{vhost="${label(q.vhost)}",queue="${label(q.queue)}"} ${family.value(q)}\n`;
    }
  }
  const total: { -readonly [K in keyof MessageCounts]: number } = {
    published: 0,
    delivered: 0,
    redelivered: 0,
    acknowledged: 0,
  };
  let consumers = 0;
  for (const q of queues) {
    for (const key of Object.keys(total) as (keyof MessageCounts)[]) total[key] += q.counts[key];
    consumers += q.stats.consumers;
  }
  for (const family of GLOBAL) out += `${header(family)}${family.name} ${family.value(total)}\n`;
  const gauges: [string, string, number][] = [
    ["rabbitmq_connections", "Connections currently open", connections],
    ["rabbitmq_channels", "Channels currently open (one per WebSocket connection)", connections],
    ["rabbitmq_consumers", "Consumers currently connected", consumers],
    ["rabbitmq_queues", "Queues available", queues.length],
  ];
  for (const [name, help, value] of gauges) {
    out += `${header({ name, type: "gauge", help })}${name} ${value}\n`;
  }
  return out;
}

/** Every vhost for an open scrape or a token; the vhosts a user sees for a Basic login. */
async function scrapeVhosts(c: AppContext): Promise<string[]> {
  const config = c.get("config");
  const all = (await vhostRecords(c.env)).map((record) => record.name);
  if (config.metricsAuth === "open") return all;
  const header = c.req.header("Authorization") ?? "";
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (bearer !== undefined && config.metricsToken !== undefined) {
    if (await sameSecret(bearer, config.metricsToken)) return all;
    throw new BrokerError("not_authorized", "Login failed");
  }
  const principal = await loginOrThrow(c, header, 'Basic realm="metrics"');
  // metrics.scrape: the monitoring tag (administrators hold it too).
  if (!permitted(principal, currentOperation(c), {})) {
    throw new BrokerError("access_refused", "metrics need the monitoring or administrator tag");
  }
  return all;
}

/** Compares digests, so the time taken does not tell how much of a guess was right. */
async function sameSecret(given: string, secret: string): Promise<boolean> {
  const digest = async (text: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  const [a, b] = await Promise.all([digest(given), digest(secret)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** A queue's counter in its report's message_stats (0 before the queue counted any). */
function total(report: QueueReport | undefined, event: string): number {
  const value = report?.message_stats[event];
  return typeof value === "number" ? value : 0;
}

const NO_STATS: QueueStats = {
  messages: 0,
  messages_ready: 0,
  messages_unacknowledged: 0,
  consumers: 0,
  message_bytes: 0,
};

async function collect(c: AppContext, vhosts: readonly string[]) {
  const perVhost = await Promise.all(
    vhosts.map(async (vhost) => {
      const catalog = vhostStub(c.env, vhost);
      const [queues, reports, open] = await Promise.all([
        catalog.listQueues(vhost),
        catalog.queueReports(vhost),
        catalog.listConnections().then(unwrap),
      ]);
      // A vhost deleted since the vhost list was read has nothing to report: skip it rather
      // than fail the whole scrape. Stream queues keep offsets, not these counts.
      const listed = queues.ok
        ? queues.queues.filter((q) => !isStreamDeclaration(q.arguments))
        : [];
      const latest = reports.ok ? reports.reports : {};
      const figures = listed.map((queue): QueueFigures => {
        const report = latest[queue.name];
        return {
          vhost,
          queue: queue.name,
          stats: report ?? NO_STATS,
          counts: {
            published: total(report, "publish"),
            delivered: total(report, "deliver_get"),
            redelivered: total(report, "redeliver"),
            acknowledged: total(report, "ack"),
          },
        };
      });
      return { queues: figures, connections: open.connections.length };
    }),
  );
  return {
    queues: perVhost.flatMap((v) => v.queues),
    connections: perVhost.reduce((n, v) => n + v.connections, 0),
  };
}

export function metricsRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/metrics",
    {
      GET: async (c) => {
        const { queues, connections } = await collect(c, await scrapeVhosts(c));
        return c.body(renderMetrics(queues, connections), 200, {
          "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
        });
      },
    },
    {
      GET: {
        summary: "Prometheus metrics, named as RabbitMQ's rabbitmq_prometheus plugin names them",
        produces: "text/plain",
      },
    },
  );
}
