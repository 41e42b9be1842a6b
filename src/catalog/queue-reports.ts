/**
 * The latest report of each queue in a vhost (src/queue/queue-report.ts), kept in memory over
 * its table and loaded on first use: the overview's totals and lists sorted by a count or a rate
 * ask the catalog once instead of every queue.
 */
import { aged, type QueueReport, sumReports } from "../queue/queue-report";
import type { QueueReportStore, StoredReport } from "../storage/queue-report-store";

export class QueueReports {
  private reports: Map<string, StoredReport> | null = null;

  constructor(private readonly store: QueueReportStore) {}

  /** Records a report (one upsert: a restarted catalog answers with what the queues last said). */
  put(name: string, report: QueueReport, at: number): void {
    const stored = { report, at };
    this.loaded().set(name, stored);
    this.store.put(name, stored);
  }

  drop(name: string): void {
    this.reports?.delete(name);
    this.store.delete(name);
  }

  /** Forgets the cache after the table was emptied (vhost deletion). */
  reset(): void {
    this.reports = null;
  }

  /** The reports with their rates aged to now (a quiet queue's rates fall to 0). */
  current(now: number): Map<string, QueueReport> {
    const out = new Map<string, QueueReport>();
    for (const [name, { report, at }] of this.loaded()) out.set(name, aged(report, now - at));
    return out;
  }

  totals(now: number): QueueReport {
    return sumReports(this.current(now).values());
  }

  private loaded(): Map<string, StoredReport> {
    if (this.reports === null) this.reports = this.store.list();
    return this.reports;
  }
}
