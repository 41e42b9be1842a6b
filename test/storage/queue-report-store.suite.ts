/** The vhost catalog's latest report of each queue (src/storage/queue-report-store.ts). */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { QueueReport } from "../../src/queue/queue-report";
import { QueueReportStore } from "../../src/storage/queue-report-store";
import { inObject } from "./support";

const report = (ready: number): QueueReport => ({
  messages: ready,
  messages_ready: ready,
  messages_unacknowledged: 0,
  consumers: 1,
  message_bytes: ready * 10,
  message_stats: { publish: ready, publish_details: { rate: 0.5 } },
});

describe("a queue report store", () => {
  it("keeps each queue's latest report with its time, and forgets a deleted queue", async () => {
    await inObject(env.VHOSTS, "queue-reports:latest", (sql) => {
      const store = new QueueReportStore(sql);
      store.put("a", { report: report(1), at: 100 });
      store.put("b", { report: report(2), at: 100 });
      store.put("a", { report: report(3), at: 200 });
      const reports = store.list();
      expect(reports.get("a")).toEqual({ report: report(3), at: 200 });
      expect(reports.get("b")?.report.messages_ready).toBe(2);
      store.delete("b");
      expect([...store.list().keys()]).toEqual(["a"]);
    });
  });
});
