/**
 * The vhost catalog's `queue_reports` table (catalog-store.ts, step 5): each queue's latest
 * report of its counts, so a restarted catalog answers with what the queues last said.
 */
import type { QueueReport } from "../queue/queue-report";
import { Sql } from "./sql";

export interface StoredReport {
  readonly report: QueueReport;
  readonly at: number;
}

export class QueueReportStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  list(): Map<string, StoredReport> {
    const rows = this.sql.all<{ name: string; report: string; at: number }>(
      "SELECT name, report, at FROM queue_reports",
    );
    return new Map(
      rows.map((row) => [row.name, { report: JSON.parse(row.report) as QueueReport, at: row.at }]),
    );
  }

  put(name: string, { report, at }: StoredReport): void {
    this.sql.run(
      "INSERT INTO queue_reports (name, report, at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET report = excluded.report, at = excluded.at",
      name,
      JSON.stringify(report),
      at,
    );
  }

  delete(name: string): void {
    this.sql.run("DELETE FROM queue_reports WHERE name = ?", name);
  }
}
