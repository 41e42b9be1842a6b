/**
 * /metrics: Prometheus text named as RabbitMQ's rabbitmq_prometheus plugin names it, counting
 * publishes, deliveries and acks, and refusing scrapes without the right credentials.
 */
import { describe, expect, it } from "vitest";
import { createUser } from "../support/access";
import { call, declareQueue, getMessages, publish } from "../support/api";
import { flushReports } from "../support/reports";
import { deliveries, isType, openConsumer } from "../support/socket";

async function scrape(auth?: string | null): Promise<string> {
  const response = await call("GET", "/metrics", auth === undefined ? {} : { auth });
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toContain("text/plain");
  return response.text();
}

/** The value of one sample: `name{labels} value`. */
function sample(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("/metrics", () => {
  it("reports per-queue gauges and counters under rabbitmq_prometheus' names", async () => {
    await declareQueue("metrics.q");
    for (const n of [1, 2, 3, 4]) await publish("", "metrics.q", `m${n}`);
    await getMessages("metrics.q", 1, "ack_requeue_false");
    const socket = await openConsumer("metrics.q");
    socket.send({ type: "consume", tag: "metrics-c", prefetch: 10 });
    await socket.next(isType("consume_ok"));
    const [first] = await deliveries(socket, 3);
    socket.send({ type: "ack", delivery_tag: first?.delivery_tag, multiple: false });
    // The ack is handled when a later call reaches the queue, and /metrics reads the reports
    // queues send their vhost: flush the report (a round-trip barrier) until the gauge shows it.
    let text = "";
    for (let i = 0; i < 50; i++) {
      await flushReports("/", "metrics.q");
      text = await scrape();
      if (sample(text, "rabbitmq_queue_messages_unacked", '{vhost="/",queue="metrics.q"}') === 2)
        break;
    }
    const q = '{vhost="/",queue="metrics.q"}';
    expect(sample(text, "rabbitmq_queue_messages_ready", q)).toBe(0);
    expect(sample(text, "rabbitmq_queue_messages_unacked", q)).toBe(2);
    expect(sample(text, "rabbitmq_queue_messages", q)).toBe(2);
    expect(sample(text, "rabbitmq_queue_consumers", q)).toBe(1);
    expect(sample(text, "rabbitmq_queue_messages_published_total", q)).toBe(4);
    expect(sample(text, "rabbitmq_global_messages_routed_total")).toBeGreaterThanOrEqual(4);
    expect(sample(text, "rabbitmq_global_messages_delivered_total")).toBeGreaterThanOrEqual(4);
    expect(sample(text, "rabbitmq_global_messages_acknowledged_total")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "rabbitmq_connections")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "rabbitmq_consumers")).toBeGreaterThanOrEqual(1);
    expect(sample(text, "rabbitmq_queues")).toBeGreaterThanOrEqual(1);
    expect(text).toContain("# TYPE rabbitmq_queue_messages_ready gauge");
    expect(text).toContain("# TYPE rabbitmq_global_messages_acknowledged_total counter");
    socket.close();
  });

  it("escapes label values", async () => {
    await declareQueue('metrics."odd"\\name');
    const text = await scrape();
    expect(text).toContain('queue="metrics.\\"odd\\"\\\\name"');
  });

  it("refuses scrapes without a monitoring or administrator login", async () => {
    expect((await call("GET", "/metrics", { auth: null })).status).toBe(401);
    const plain = await createUser("metrics-plain", "pw", "management");
    expect((await call("GET", "/metrics", { auth: plain })).status).toBe(403);
    const monitor = await createUser("metrics-monitor", "pw", "monitoring");
    await scrape(monitor);
    expect((await call("GET", "/metrics", { auth: "Bearer not-the-token" })).status).toBe(401);
    // METRICS_TOKEN in vitest.config.ts: what Prometheus' `authorization` setting sends.
    await scrape("Bearer test-metrics-token-0123456789");
  });
});
