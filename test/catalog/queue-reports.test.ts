/**
 * The catalog's cache of each queue's latest report, over the queue_reports table of a real
 * vhost catalog object's SQLite: what a restarted catalog answers, how rates age, what deletion
 * forgets.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { QueueReports } from "../../src/catalog/queue-reports";
import type { QueueReport } from "../../src/queue/queue-report";
import { RATE_WINDOW_SECONDS } from "../../src/runtime/message-stats";
import { QueueReportStore } from "../../src/storage/queue-report-store";

const report = (ready: number, rate: number): QueueReport => ({
  messages: ready,
  messages_ready: ready,
  messages_unacknowledged: 0,
  consumers: 0,
  message_bytes: ready * 10,
  message_stats: { publish: ready, publish_details: { rate } },
});

/** Runs `body` with the queue_reports table of a fresh vhost catalog object. */
function inCatalog(name: string, body: (storage: SqlStorage) => void): Promise<void> {
  const stub = env.VHOSTS.get(env.VHOSTS.idFromName(`queue-reports-${name}`));
  return runInDurableObject(stub, (_instance, state) => body(state.storage.sql));
}

describe("QueueReports", () => {
  it("answers the latest report per queue and adds them up, here and after a restart", async () => {
    await inCatalog("restart", (sql) => {
      const reports = new QueueReports(new QueueReportStore(sql));
      reports.put("orders", report(1, 2), 1_000);
      reports.put("orders", report(3, 2), 1_000);
      reports.put("audit", report(2, 1), 1_000);
      expect(reports.totals(1_000)).toMatchObject({ messages_ready: 5, message_bytes: 50 });

      const restarted = new QueueReports(new QueueReportStore(sql));
      expect(Object.fromEntries(restarted.current(1_000))).toEqual({
        audit: report(2, 1),
        orders: report(3, 2),
      });
    });
  });

  it("ages a quiet queue's rates to 0 without touching its counts", async () => {
    await inCatalog("aging", (sql) => {
      const reports = new QueueReports(new QueueReportStore(sql));
      reports.put("quiet", report(4, 2), 0);
      const half = reports.current((RATE_WINDOW_SECONDS * 1000) / 2).get("quiet");
      expect(half?.message_stats.publish_details).toEqual({ rate: 1 });
      const later = reports.current(RATE_WINDOW_SECONDS * 1000 * 2).get("quiet");
      expect(later).toMatchObject({ messages_ready: 4, message_stats: { publish: 4 } });
      expect(later?.message_stats.publish_details).toEqual({ rate: 0 });
    });
  });

  it("forgets a dropped queue in memory and in its table", async () => {
    await inCatalog("drop", (sql) => {
      const reports = new QueueReports(new QueueReportStore(sql));
      reports.put("gone", report(1, 0), 0);
      reports.put("kept", report(2, 0), 0);
      reports.drop("gone");
      expect([...reports.current(0).keys()]).toEqual(["kept"]);
      expect([...new QueueReports(new QueueReportStore(sql)).current(0).keys()]).toEqual(["kept"]);
    });
  });
});
