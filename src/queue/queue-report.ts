/**
 * A queue object's counts as it reports them to its vhost's catalog object (VhostObject), which
 * keeps the latest report per queue: the overview and lists sorted by a count or a rate then ask
 * one object per vhost instead of one per queue, however many queues there are.
 *
 * Reports are throttled: at most one per REPORT_INTERVAL_MS per queue, and only when the report
 * differs from the last one sent. They go out from a timer, never from the enqueue, dispatch or
 * ack path (nothing on that path calls another object). A rate decays after its last event
 * without a further report: the vhost ages it (`aged`).
 */
import {
  type MessageStatsSnapshot,
  RATE_WINDOW_SECONDS,
  sumMessageStats,
} from "../runtime/message-stats";
import type { QueueStats } from "./queue-engine";

export interface QueueReport extends QueueStats {
  readonly message_stats: MessageStatsSnapshot;
}

/** The snapshot the vhost keeps is at most this old, plus one RPC. */
export const REPORT_INTERVAL_MS = 1000;

export interface ReportTimers {
  readonly set: (run: () => void, ms: number) => unknown;
  readonly clear: (timer: unknown) => void;
}

const RUNTIME_TIMERS: ReportTimers = {
  set: (run, ms) => setTimeout(run, ms),
  clear: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export class QueueReporter {
  private timer: unknown = null;
  private lastKey = "";
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    /** The current report, or null once the queue is deleted. */
    private readonly read: () => QueueReport | null,
    private readonly send: (report: QueueReport) => Promise<unknown>,
    private readonly clock: () => number = Date.now,
    private readonly timers: ReportTimers = RUNTIME_TIMERS,
  ) {}

  /** Something may have changed: a report goes out within the interval if it did. */
  changed(): void {
    if (this.timer !== null) return;
    const wait = Math.max(0, this.lastSentAt + REPORT_INTERVAL_MS - this.clock());
    this.timer = this.timers.set(() => {
      this.timer = null;
      this.tick();
    }, wait);
  }

  /** Sends the current report now if it differs from the last one; resolves once it arrived. */
  async flush(): Promise<void> {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.tick();
    await this.sending;
  }

  /**
   * The queue is gone: nothing more to report (the vhost drops its report itself). A queue
   * declared again under the name starts with no report at the vhost, so its first one goes out
   * even if it equals the last one sent.
   */
  stop(): void {
    if (this.timer !== null) this.timers.clear(this.timer);
    this.timer = null;
    this.lastKey = "";
  }

  private tick(): void {
    const report = this.read();
    if (report === null) return;
    const key = JSON.stringify(report);
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.lastSentAt = this.clock();
      this.sending = this.send(report).catch((error: unknown) => {
        // The vhost did not take it: send again at the next chance.
        this.lastKey = "";
        console.error("reporting a queue's counts failed", error);
      });
    }
  }
}

/**
 * A report's rates `ageMs` after it arrived. No newer report means no event since (any event
 * brings a report within the interval), so each rate falls to 0 over the rate window, as the
 * queue's own would: linearly from the reported value, an estimate exact at both ends. The queue
 * does not keep a timer running to report the decay itself: a pending timer keeps an object in
 * memory (and out of hibernation).
 */
export function aged(report: QueueReport, ageMs: number): QueueReport {
  if (ageMs <= 0) return report;
  const factor = Math.max(0, 1 - ageMs / (RATE_WINDOW_SECONDS * 1000));
  const stats: MessageStatsSnapshot = {};
  for (const [key, value] of Object.entries(report.message_stats)) {
    stats[key] =
      typeof value === "number" ? value : { rate: Math.round(value.rate * factor * 100) / 100 };
  }
  return { ...report, message_stats: stats };
}

/** A vhost's totals: the reports' counts and message_stats added up (rates add too). */
export function sumReports(reports: Iterable<QueueReport>): QueueReport {
  const totals = {
    messages: 0,
    messages_ready: 0,
    messages_unacknowledged: 0,
    consumers: 0,
    message_bytes: 0,
  };
  const stats: MessageStatsSnapshot[] = [];
  for (const report of reports) {
    totals.messages += report.messages;
    totals.messages_ready += report.messages_ready;
    totals.messages_unacknowledged += report.messages_unacknowledged;
    totals.consumers += report.consumers;
    totals.message_bytes += report.message_bytes;
    stats.push(report.message_stats);
  }
  return { ...totals, message_stats: sumMessageStats(stats) };
}
