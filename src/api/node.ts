/**
 * The read-only endpoints tools call about the node itself: /api/nodes (this broker shown as one
 * node: its limits and how long this Worker instance has been up), /api/extensions,
 * /api/cluster-name, the health checks, and the RabbitMQ internals a node without them answers
 * empty (feature flags, global parameters). Plugin endpoints this broker does not have
 * (/api/federation-links, /api/shovels, ...) answer 404, as on a node without those plugins.
 */
import type { Hono } from "hono";
import { LIMITS, PRODUCT } from "../config";
import { BrokerError } from "../errors";
import { NODE_NAME } from "./connections";
import type { AppContext, AppEnv } from "./context";
import { resource } from "./routes";

/** Published per-isolate limits of the platform (docs/deploy.md), shown as the node's. */
const ISOLATE_MEMORY_BYTES = 128 * 1024 * 1024;

/**
 * When this Worker instance served its first request. A Worker has no process start to report,
 * and time does not advance in a Worker's global scope, so the clock starts with the first call.
 */
let startedAt: number | null = null;

function uptimeMs(): number {
  startedAt ??= Date.now();
  return Date.now() - startedAt;
}

function presentNode(c: AppContext): Record<string, unknown> {
  const config = c.get("config");
  return {
    name: NODE_NAME,
    type: "disc",
    running: true,
    uptime: uptimeMs(),
    rates_mode: "none",
    // No mem_used: a Worker cannot read its isolate's memory use, and a field that is present
    // must not be null (rabbitmqadmin's table formatter fails on null).
    mem_limit: ISOLATE_MEMORY_BYTES,
    mem_alarm: false,
    disk_free_alarm: false,
    partitions: [],
    exchange_types: [],
    applications: [{ name: PRODUCT.name, description: "", version: PRODUCT.version }],
    // This broker's own limits (src/config.ts), for operators comparing nodes.
    limits: {
      max_message_bytes: config.maxMessageBytes,
      max_batch_messages: LIMITS.maxBatchMessages,
      max_get_count: LIMITS.maxGetCount,
      max_prefetch: LIMITS.maxPrefetch,
      max_name_bytes: LIMITS.maxNameBytes,
      max_pull_wait_ms: LIMITS.maxPullWaitMs,
    },
  };
}

export function nodeRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/nodes", { GET: (c) => c.json([presentNode(c)]) });
  resource(app, "/api/nodes/:node", {
    GET: (c) => {
      if (c.req.param("node") !== NODE_NAME) throw new BrokerError("not_found", "Not Found");
      return c.json(presentNode(c));
    },
  });
  // RabbitMQ lists the management UI's extension scripts here; this broker's UI has none.
  resource(app, "/api/extensions", { GET: (c) => c.json([]) });
  resource(app, "/api/cluster-name", { GET: (c) => c.json({ name: PRODUCT.name }) });
  resource(app, "/api/feature-flags", { GET: (c) => c.json([]) });
  resource(app, "/api/global-parameters", { GET: (c) => c.json([]) });
  // One node: no alarms (memory and disk are the platform's), nothing quorum-critical.
  resource(app, "/api/health/checks/alarms", { GET: (c) => c.json({ status: "ok" }) });
  resource(app, "/api/health/checks/local-alarms", { GET: (c) => c.json({ status: "ok" }) });
}
