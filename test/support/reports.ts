/**
 * A round-trip barrier for the queues' throttled reports to their vhost (src/queue/
 * queue-report.ts): sends each named queue's report now and waits until the vhost has it, so a
 * test reads the overview or a sorted list without sleeping for the report interval.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { QueueObject } from "../../src/objects/queue-object";

export async function flushReports(vhost: string, ...queues: string[]): Promise<void> {
  await Promise.all(
    queues.map((name) =>
      runInDurableObject(
        env.QUEUES.getByName(JSON.stringify([vhost, name])),
        (instance: QueueObject) => instance.reports.flush(),
      ),
    ),
  );
}
