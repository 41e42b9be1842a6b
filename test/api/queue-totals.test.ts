/**
 * Per-vhost totals (src/queue/queue-report.ts): queues report their counts to the vhost's
 * catalog, throttled, and the overview and count-sorted lists read that snapshot, one call per
 * vhost, past the 2,000 queues one request may ask directly (LIMITS.maxFanOut).
 */
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import {
  aged,
  type QueueReport,
  QueueReporter,
  REPORT_INTERVAL_MS,
  type ReportTimers,
  sumReports,
} from "../../src/queue/queue-report";
import { call, json, publish } from "../support/api";
import { flushReports } from "../support/reports";

interface Overview {
  object_totals: { queues: number };
  queue_totals: { messages: number; messages_ready: number };
  message_stats: Record<string, number | { rate: number }>;
  queues_counted?: number;
}

interface QueueRow {
  name: string;
  messages_ready: number;
}

const report = (ready: number, publishRate = 0): QueueReport => ({
  messages: ready,
  messages_ready: ready,
  messages_unacknowledged: 0,
  consumers: 0,
  message_bytes: ready * 10,
  message_stats: { publish: ready, publish_details: { rate: publishRate } },
});

/** Timers the test fires by hand, with a clock it moves: no sleeping. */
function manualTimers() {
  let now = 10_000;
  const pending: { run: () => void; at: number }[] = [];
  const timers: ReportTimers = {
    set: (run, ms) => {
      const timer = { run, at: now + ms };
      pending.push(timer);
      return timer;
    },
    clear: (timer) => {
      const index = pending.indexOf(timer as (typeof pending)[number]);
      if (index >= 0) pending.splice(index, 1);
    },
  };
  /** Moves the clock to the earliest pending timer and fires it. */
  const fireNext = () => {
    pending.sort((a, b) => a.at - b.at);
    const next = pending.shift();
    if (!next) return false;
    now = Math.max(now, next.at);
    next.run();
    return true;
  };
  return { timers, clock: () => now, pending, fireNext, advance: (ms: number) => (now += ms) };
}

describe("a queue's reports to its vhost", () => {
  it("sends at most one report per interval, and only when the counts changed", async () => {
    const manual = manualTimers();
    let current = report(0);
    const sent: { at: number; report: QueueReport }[] = [];
    const reporter = new QueueReporter(
      () => current,
      async (r) => sent.push({ at: manual.clock(), report: r }),
      manual.clock,
      manual.timers,
    );
    // A burst of changes arms one timer.
    for (let i = 1; i <= 100; i++) {
      current = report(i);
      reporter.changed();
    }
    expect(manual.pending).toHaveLength(1);
    manual.fireNext();
    expect(sent.map((s) => s.report.messages_ready)).toEqual([100]);
    // The next change waits for the rest of the interval.
    current = report(101);
    reporter.changed();
    reporter.changed();
    expect(manual.pending).toHaveLength(1);
    expect(manual.pending[0]?.at).toBe((sent[0]?.at ?? 0) + REPORT_INTERVAL_MS);
    manual.fireNext();
    expect(sent.map((s) => s.report.messages_ready)).toEqual([100, 101]);
    expect((sent[1]?.at ?? 0) - (sent[0]?.at ?? 0)).toBe(REPORT_INTERVAL_MS);
    // Nothing changed: the timer fires, nothing is sent, nothing is armed again.
    manual.advance(5 * REPORT_INTERVAL_MS);
    reporter.changed();
    manual.fireNext();
    expect(sent).toHaveLength(2);
    expect(manual.pending).toHaveLength(0);
  });

  it("keeps no timer running while rates decay: the vhost ages them", async () => {
    const manual = manualTimers();
    const sent: QueueReport[] = [];
    const reporter = new QueueReporter(
      () => report(1, 4),
      async (r) => sent.push(r),
      manual.clock,
      manual.timers,
    );
    reporter.changed();
    manual.fireNext();
    expect(sent).toHaveLength(1);
    expect(manual.pending).toHaveLength(0);
    const rate = (r: QueueReport) => r.message_stats.publish_details;
    expect(rate(aged(report(1, 4), 0))).toEqual({ rate: 4 });
    expect(rate(aged(report(1, 4), 2500))).toEqual({ rate: 2 });
    expect(rate(aged(report(1, 4), 60_000))).toEqual({ rate: 0 });
    expect(aged(report(1, 4), 60_000).message_stats.publish).toBe(1);
  });

  it("sends nothing once the queue is gone", async () => {
    const manual = manualTimers();
    const sent: QueueReport[] = [];
    const reporter = new QueueReporter(
      () => null,
      async (r) => sent.push(r),
      manual.clock,
      manual.timers,
    );
    reporter.changed();
    manual.fireNext();
    await reporter.flush();
    expect(sent).toEqual([]);
  });

  it("adds reports up into a vhost's totals, rates included", () => {
    const totals = sumReports([report(3, 1.5), report(2, 0.25), report(0)]);
    expect(totals).toMatchObject({
      messages: 5,
      messages_ready: 5,
      message_bytes: 50,
      message_stats: { publish: 5, publish_details: { rate: 1.75 } },
    });
  });
});

describe("totals and count sorts over more queues than one request may ask", () => {
  const vhost = "qt-many";
  const count = LIMITS.maxFanOut + 50;
  const name = (i: number) => `qt.${String(i).padStart(4, "0")}`;
  const overview = async () => json<Overview>(await call("GET", "/api/overview"));

  it("are exact, sort on the snapshot, and lose a deleted queue", async () => {
    expect((await call("PUT", `/api/vhosts/${vhost}`, { body: {} })).status).toBe(201);
    const before = await overview();
    const queues = Array.from({ length: count }, (_, i) => ({ name: name(i), vhost }));
    expect((await call("POST", "/api/definitions", { body: { queues } })).status).toBe(204);
    const depths: [number, number][] = [
      [5, 3],
      [count - 1, 2],
      [1500, 1],
    ];
    for (const [i, depth] of depths) {
      for (let n = 0; n < depth; n++) await publish("", name(i), `m${n}`, { vhost });
    }
    await flushReports(vhost, ...depths.map(([i]) => name(i)));

    const after = await overview();
    expect(after.object_totals.queues - before.object_totals.queues).toBe(count);
    expect(after.queue_totals.messages_ready - before.queue_totals.messages_ready).toBe(6);
    expect(after.queues_counted).toBeUndefined();

    const sorted = await json<{ items: QueueRow[]; filtered_count: number }>(
      await call(
        "GET",
        `/api/queues/${vhost}?page=1&page_size=4&sort=messages_ready&sort_reverse=true`,
      ),
    );
    expect(sorted.filtered_count).toBe(count);
    expect(sorted.items.slice(0, 3).map((q) => [q.name, q.messages_ready])).toEqual(
      depths.map(([i, depth]) => [name(i), depth]),
    );
    // A plain list of them all answers from the snapshot instead of refusing.
    const all = await json<QueueRow[]>(await call("GET", `/api/queues/${vhost}`));
    expect(all).toHaveLength(count);

    expect((await call("DELETE", `/api/queues/${vhost}/${name(5)}`)).status).toBe(204);
    const deleted = await overview();
    expect(deleted.queue_totals.messages_ready - before.queue_totals.messages_ready).toBe(3);
    const top = await json<{ items: QueueRow[] }>(
      await call(
        "GET",
        `/api/queues/${vhost}?page=1&page_size=1&sort=messages_ready&sort_reverse=true`,
      ),
    );
    expect(top.items.map((q) => q.name)).toEqual([name(count - 1)]);
  }, 120_000);
});
