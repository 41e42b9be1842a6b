/**
 * Message rates as RabbitMQ's management API reports them (`message_stats`: a counter per event
 * and `<event>_details.rate`, messages per second), kept in memory by the object that sees the
 * events. Counting is an addition and, at most once a second, a bucket rotation: no storage
 * read, no write. Like RabbitMQ's own statistics, the counters start again when the object
 * restarts (RabbitMQ keeps them in the management database's memory, not on disk).
 *
 * A rate is the events of the last RATE_WINDOW_SECONDS complete seconds and of the second in
 * progress, divided by the time they span: it follows a burst at once, reaches 0 once a queue has
 * been quiet for the window, and a chart polling every few seconds moves smoothly.
 */

/** The events a queue counts (deliver_get: deliveries to consumers, gets and pulls). */
export const QUEUE_EVENTS = ["publish", "deliver_get", "ack", "redeliver"] as const;
/** The events an exchange counts, with RabbitMQ's names: messages in, messages routed out. */
export const EXCHANGE_EVENTS = ["publish_in", "publish_out"] as const;

export type QueueEvent = (typeof QUEUE_EVENTS)[number];
export type ExchangeEvent = (typeof EXCHANGE_EVENTS)[number];

/** `{ publish: 12, publish_details: { rate: 2.4 }, ... }`, RabbitMQ's shape. */
export type MessageStatsSnapshot = Record<string, number | { rate: number }>;

export const RATE_WINDOW_SECONDS = 5;
/** One bucket per second of the window, plus the second in progress. */
const BUCKETS = RATE_WINDOW_SECONDS + 1;

export class MessageStats<E extends string> {
  private readonly totals = new Map<E, number>();
  /** Per event, events per second, indexed by (second % BUCKETS). */
  private readonly buckets = new Map<E, number[]>();
  private second = 0;

  constructor(
    private readonly events: readonly E[],
    private readonly clock: () => number = Date.now,
  ) {
    for (const event of events) {
      this.totals.set(event, 0);
      this.buckets.set(event, new Array<number>(BUCKETS).fill(0));
    }
    this.second = Math.floor(clock() / 1000);
  }

  /** Counts `n` events now. */
  add(event: E, n = 1): void {
    if (n <= 0) return;
    this.advance();
    this.totals.set(event, (this.totals.get(event) ?? 0) + n);
    const slots = this.buckets.get(event);
    if (slots) slots[this.second % BUCKETS] = (slots[this.second % BUCKETS] ?? 0) + n;
  }

  total(event: E): number {
    return this.totals.get(event) ?? 0;
  }

  /** Events per second over the window (complete seconds plus the one in progress). */
  rate(event: E): number {
    this.advance();
    const slots = this.buckets.get(event) ?? [];
    let sum = 0;
    for (let back = 0; back <= RATE_WINDOW_SECONDS; back++) {
      sum += slots[(this.second - back + BUCKETS) % BUCKETS] ?? 0;
    }
    const inProgress = (this.clock() % 1000) / 1000;
    return sum / (RATE_WINDOW_SECONDS + inProgress);
  }

  snapshot(): MessageStatsSnapshot {
    const out: MessageStatsSnapshot = {};
    for (const event of this.events) {
      out[event] = this.total(event);
      out[`${event}_details`] = { rate: round(this.rate(event)) };
    }
    return out;
  }

  /** Clears the buckets of the seconds that passed since the last event. */
  private advance(): void {
    const now = Math.floor(this.clock() / 1000);
    if (now === this.second) return;
    const passed = Math.min(now - this.second, BUCKETS);
    for (const slots of this.buckets.values()) {
      for (let i = 1; i <= passed; i++) slots[(now - passed + i) % BUCKETS] = 0;
    }
    this.second = now;
  }
}

/** Adds snapshots (overview totals): counters and rates both sum. */
export function sumMessageStats(snapshots: readonly MessageStatsSnapshot[]): MessageStatsSnapshot {
  const out: MessageStatsSnapshot = {};
  for (const snapshot of snapshots) {
    for (const [key, value] of Object.entries(snapshot)) {
      const current = out[key];
      if (typeof value === "number") {
        out[key] = (typeof current === "number" ? current : 0) + value;
      } else {
        const rate = typeof current === "object" ? current.rate : 0;
        out[key] = { rate: round(rate + value.rate) };
      }
    }
  }
  return out;
}

function round(rate: number): number {
  return Math.round(rate * 100) / 100;
}
