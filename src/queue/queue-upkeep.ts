/**
 * What follows every change to a queue, whichever path made it (a publish, a frame, an RPC, the
 * alarm): long polls get the ready messages, the alarm is set for the earliest thing due, the
 * messages set aside for the dead-letter exchange are sent, and the catalog's counts are marked
 * stale. Also the dispatch passes that run later: after a pass stopped at its byte budget, and
 * after an access check held deliveries back.
 */
import type { Env } from "../env";
import type { Result } from "../errors";
import type { QueueDeclaration } from "../protocol/declarations";
import type { MessageStatsSnapshot } from "../runtime/message-stats";
import { AlarmClock } from "./alarm-clock";
import { DeadLetterSender } from "./dead-letter-sender";
import { PullWaiters } from "./pull-waiters";
import type { Leased, QueueEngine, QueuePolicy, QueueStats } from "./queue-engine";
import { type QueueReport, QueueReporter } from "./queue-report";

export interface UpkeepParts {
  readonly engine: QueueEngine;
  readonly declaration: () => QueueDeclaration | null;
  readonly policy: () => QueuePolicy;
  /** The queue's counts now (an error once it is deleted). */
  readonly stats: () => Result<{ stats: QueueStats; messageStats: MessageStatsSnapshot }>;
  /** Sends the counts to the catalog (src/queue/catalog-link.ts). */
  readonly report: (report: QueueReport) => Promise<unknown>;
}

export class QueueUpkeep {
  private readonly waiters = new PullWaiters();
  private readonly alarms: AlarmClock;
  private readonly deadLetters: DeadLetterSender;
  private readonly engine: QueueEngine;
  /** Reports the counts to the vhost's catalog, throttled, off every message path. */
  readonly reports: QueueReporter;
  private resumeQueued = false;

  constructor(env: Env, ctx: DurableObjectState, parts: UpkeepParts) {
    this.engine = parts.engine;
    this.reports = new QueueReporter(() => {
      const stats = parts.stats();
      return stats.ok ? { ...stats.stats, message_stats: stats.messageStats } : null;
    }, parts.report);
    this.alarms = new AlarmClock(ctx.storage);
    this.deadLetters = new DeadLetterSender(env, {
      ...parts,
      waitUntil: (work) => ctx.waitUntil(work),
    });
  }

  /** After any change to deliveries: counts, dead letters, and the alarm. */
  schedule(): void {
    // Every path that changes counts (deliveries, acks, leases, expiry, closes) ends here.
    this.reports.changed();
    this.flushDeadLetters();
    this.alarms.request(this.engine.nextWakeup(Date.now()));
  }

  /**
   * After a publish. Without consumers, only an expiry earlier than the alarm set needs an alarm
   * (a publish then costs no query for the next wake-up).
   */
  published(now: number): void {
    this.wake(now);
    const expiry = this.engine.expiryDue;
    const due = this.alarms.due;
    const expiresSooner = expiry !== null && (due === null || expiry < due);
    if (this.engine.consumers.size > 0 || expiresSooner) this.schedule();
    this.flushDeadLetters();
    this.reports.changed();
  }

  /** A long poll: waits up to `waitMs` for messages to lease. */
  waitForMessages(count: number, visibilityMs: number, waitMs: number): Promise<Leased[]> {
    return this.waiters.wait(count, visibilityMs, waitMs);
  }

  /** Hands ready messages to long polls, oldest first. */
  wake(now: number): void {
    this.waiters.wake(
      (count, visibilityMs) => this.engine.pull(count, visibilityMs, now),
      () => this.engine.stats().messages_ready > 0,
    );
  }

  /** Delivers what can go now, to consumers and long polls. */
  dispatch(): void {
    const now = Date.now();
    this.engine.dispatch(now);
    this.wake(now);
    this.schedule();
  }

  /** The alarm: deadlines and leases that passed return their messages. */
  alarm(): void {
    const now = Date.now();
    this.alarms.fired();
    this.engine.expire(now);
    this.wake(now);
    this.schedule();
  }

  /** A dispatch pass stopped at its byte budget: the next one runs a turn later. */
  resumeLater(): void {
    if (this.resumeQueued) return;
    this.resumeQueued = true;
    setTimeout(() => {
      this.resumeQueued = false;
      this.engine.dispatch(Date.now());
      this.schedule();
    }, 0);
  }

  flushDeadLetters(): void {
    if (this.engine.deadLettersPending) this.deadLetters.flush();
  }

  /** The queue is deleted: long polls answer empty, no alarm, no more reports. */
  stop(): void {
    this.waiters.releaseAll();
    this.reports.stop();
    this.alarms.cancel();
  }
}
