// Messaging scenarios that run the same way against any broker: confirmed publishing with a
// window of unconfirmed messages, consuming with acks at several prefetch counts, and
// publish-to-delivery latency at a fixed rate. A broker is reached through an adapter
// (ws-adapter.mjs and client-adapter.mjs for ours over WebSocket, rabbitmq-adapter.mjs for
// RabbitMQ over AMQP):
//
//   adapter = {
//     short, name,                       // "ours" / "RabbitMQ", and a longer description
//     queue, latencyQueue,               // durable queues, empty after setup()
//     directExchange, directKey,         // a direct exchange bound to `queue` with `directKey`
//     server: { sample(), roleOf(pid) }, // CPU of the broker's processes (see lib/machine.mjs)
//     serverChanged(): string | null,    // why the broker's figures can't be trusted (restart)
//     setup(), depth(queue), close(),
//     prefill(queue, count, next, settle)?            // optional fast fill (else: confirms)
//     openProducer({ onConfirm(id, routed), onNack(id, reason), onFailure(reason, { fatal }) })
//       -> { publish(exchange, routingKey, id, payload), close(), stats()? }
//     consume(queue, { prefetch, onDelivery({ tag, payload, redelivered }, handle), onFailure })
//       (onFailure(reason, { fatal }): every failure is counted; a fatal one, such as a lost
//       connection, ends the scenario, a wrong frame does not)
//       -> handle = { ack(tag, multiple), cancel(), close() }  (deliveries may come before
//          consume() resolves: they carry the handle)
//   }
//
// Every message carries its id and its send time in a 256-byte JSON payload. A ledger records
// what was confirmed and what was consumed, so the suite can check that every confirmed
// message was consumed exactly once. Every loop is bounded in count and in time.

import fs from "node:fs";
import {
  fmt,
  MAX_ATTEMPTS,
  percentile,
  QUIET_BUSY_PCT,
  sleep,
  withTimeout,
} from "../lib/common.mjs";
import { startCpuMeter, waitForQuiet } from "../lib/machine.mjs";

export const WINDOW = 1000; // unconfirmed messages in flight while publishing
export { FILL_FACTOR, MAX_FILL };
export const PREFETCHES = [1, 100, 1000];
export const ACK_MULTIPLE_EVERY = 100;
export const LATENCY_RATE = 1000; // msgs/s (the issue's rate)
export const LATENCY_PREFETCH = 100;
const PAYLOAD_BYTES = 256; // the issue's message size
const MAX_MESSAGES_PER_PHASE = 2_000_000;
const MAX_FILL = 400_000; // messages put in the queue before a consume phase, at most
const FILL_FACTOR = 1.6; // times what the warm-up's rate would consume in the measured time
const MIN_FILL = 2_000;
const WARM_FILL = 20_000;
const FILL_WINDOW = 5_000;
const SETTLE_TIMEOUT_MS = 30_000; // confirms still missing this long after the last send: failed
const CANCEL_TIMEOUT_MS = 15_000;
const DRAIN_TIMEOUT_MS = 180_000;

// ---------------------------------------------------------------------------------------------
// Messages and the ledger.

export class Ledger {
  constructor() {
    this.nextId = 1;
    this.confirmed = new Set(); // stored, the broker said so
    this.uncertain = new Set(); // no verdict (timeout, closed connection): may be stored
    this.refused = new Set(); // nacked or unroutable: must never be delivered
    this.consumed = new Set();
    this.duplicates = [];
    this.unparseable = 0;
    this.redelivered = 0;
    this.failures = 0; // failed frames, nacks, unroutable messages, socket or channel errors
    this.failureSamples = [];
    this.context = ""; // the scenario running, for failure messages
  }

  message(t = performance.now()) {
    const id = this.nextId++;
    let payload = JSON.stringify({
      id,
      t: Math.round(t * 1000) / 1000,
      order: `ord-${String(id).padStart(9, "0")}`,
      sku: "SKU-4711-BLUE",
    });
    payload += " ".repeat(Math.max(0, PAYLOAD_BYTES - Buffer.byteLength(payload)));
    return { id, payload };
  }

  fail(reason) {
    this.failures++;
    const where = this.context ? `[${this.context}] ` : "";
    if (this.failureSamples.length < 5) this.failureSamples.push(`${where}${reason}`);
  }

  settle(id, outcome) {
    // outcome: "confirmed" | "refused" | "uncertain"
    this.uncertain.delete(id);
    if (outcome === "confirmed") this.confirmed.add(id);
    else if (outcome === "refused") this.refused.add(id);
    else this.uncertain.add(id);
  }

  /** A delivery's payload: returns { id, t } or null. */
  deliver(payload, redelivered) {
    let m;
    try {
      m = JSON.parse(payload);
    } catch {
      this.unparseable++;
      return null;
    }
    if (typeof m?.id !== "number") {
      this.unparseable++;
      return null;
    }
    if (redelivered) this.redelivered++;
    if (this.consumed.has(m.id)) {
      if (this.duplicates.length < 1000) this.duplicates.push(m.id);
    } else this.consumed.add(m.id);
    return m;
  }

  summary() {
    const missing = [...this.confirmed].filter((id) => !this.consumed.has(id));
    const unexpected = [...this.consumed].filter(
      (id) => !this.confirmed.has(id) && !this.uncertain.has(id),
    );
    return {
      confirmed: this.confirmed.size,
      uncertain: this.uncertain.size,
      refused: this.refused.size,
      consumed: this.consumed.size,
      missing,
      unexpected,
      duplicates: this.duplicates,
      unparseable: this.unparseable,
      redelivered: this.redelivered,
      failures: this.failures,
      failureSamples: this.failureSamples,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Publishing with a window of unconfirmed messages.

/**
 * Publishes until `durationMs` has passed or `maxMessages` were sent, keeping at most `window`
 * messages unconfirmed, then waits (bounded) for the last confirms. The rate counts confirmed
 * messages over the time from the first send to the last confirm.
 */
export async function pipelinedPublish(
  adapter,
  ledger,
  { exchange, routingKey, window = WINDOW, durationMs, maxMessages = MAX_MESSAGES_PER_PHASE },
) {
  const outstanding = new Map(); // id -> send time
  const latencies = [];
  let sent = 0;
  let confirmed = 0;
  let refused = 0;
  let failed = false;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  let sending = true;
  let t0 = 0;
  let lastConfirm = 0;
  let deadline = 0;
  let pumpQueued = false;
  let producer = null;

  const done = () => !sending && outstanding.size === 0;
  const pump = () => {
    pumpQueued = false;
    if (!sending || failed) return;
    const now = performance.now();
    if (now >= deadline || sent >= maxMessages) {
      sending = false;
      if (done()) finish();
      return;
    }
    while (outstanding.size < window && sent < maxMessages) {
      const m = ledger.message();
      outstanding.set(m.id, performance.now());
      sent++;
      producer.publish(exchange, routingKey, m.id, m.payload);
    }
  };
  const schedulePump = () => {
    if (!pumpQueued) {
      pumpQueued = true;
      queueMicrotask(pump);
    }
  };
  const settle = (id, outcome, why) => {
    const start = outstanding.get(id);
    if (start === undefined) {
      ledger.fail(`verdict for a message not awaiting one (id ${id}, ${outcome})`);
      return;
    }
    outstanding.delete(id);
    const now = performance.now();
    if (outcome === "confirmed") {
      confirmed++;
      lastConfirm = now;
      latencies.push(now - start);
    } else {
      refused++;
      ledger.fail(why);
    }
    ledger.settle(id, outcome);
    if (done()) finish();
    else schedulePump();
  };

  producer = await adapter.openProducer({
    onConfirm: (id, routed) =>
      routed ? settle(id, "confirmed") : settle(id, "refused", `unroutable: id ${id}`),
    onNack: (id, reason) => settle(id, "refused", `nack: ${reason}`),
    onFailure: (reason, { fatal = true } = {}) => {
      ledger.fail(reason);
      if (!fatal) return;
      failed = true;
      sending = false;
      finish();
    },
  });
  t0 = performance.now();
  lastConfirm = t0;
  deadline = t0 + durationMs;
  pump();
  const stopTimer = setTimeout(schedulePump, durationMs + 1); // stops sending when idle
  const settled = await Promise.race([
    finished.then(() => true),
    sleep(durationMs + SETTLE_TIMEOUT_MS).then(() => false),
  ]);
  clearTimeout(stopTimer);
  sending = false;
  if (!settled || outstanding.size > 0) {
    ledger.fail(
      `${outstanding.size} messages without a confirm ${SETTLE_TIMEOUT_MS / 1000} s after the end`,
    );
  }
  for (const id of outstanding.keys()) ledger.settle(id, "uncertain");
  outstanding.clear();
  await producer.close();
  const frames = producer.stats?.() ?? null; // confirm frames received (ours only)
  latencies.sort((a, b) => a - b);
  const elapsed = (lastConfirm - t0) / 1000;
  return {
    sent,
    confirmed,
    refused,
    elapsed,
    rate: elapsed > 0 ? confirmed / elapsed : null,
    confirmP50: percentile(latencies, 50),
    confirmP99: percentile(latencies, 99),
    confirmFrames: frames?.confirmFrames ?? null,
    multipleFrames: frames?.multipleFrames ?? null,
  };
}

/** Puts `count` confirmed messages in `queue` (the adapter's fast path, or windowed confirms). */
export async function fill(adapter, ledger, queue, count) {
  if (count <= 0) return;
  if (adapter.prefill) {
    await adapter.prefill(
      queue,
      count,
      () => ledger.message(),
      (id, ok, why) => {
        ledger.settle(id, ok ? "confirmed" : "uncertain");
        if (!ok) ledger.fail(`prefill: ${why}`);
      },
    );
    return;
  }
  await pipelinedPublish(adapter, ledger, {
    exchange: "",
    routingKey: queue,
    window: FILL_WINDOW,
    durationMs: 120_000,
    maxMessages: count,
  });
}

// ---------------------------------------------------------------------------------------------
// Consuming with acks.

/**
 * Consumes from `queue` with `prefetch` and acks every delivery (or, with `ackEvery`, one ack
 * with multiple=true per that many deliveries), until `durationMs` has passed or the queue is
 * drained. Then cancels, acks what was still on its way, and closes. The rate counts deliveries
 * acked before the deadline (or until drained).
 */
export async function consumeAcked(
  adapter,
  ledger,
  { queue, prefetch, ackEvery = 0, durationMs, onMessage },
) {
  const depth0 = await adapter.depth(queue);
  let acked = 0;
  let counted = 0;
  let drainedAt = null;
  let pendingTag = null;
  let pending = 0;
  let flushTimer = null;
  let stopped = false;
  let failed = false;
  let consumer = null;
  let finish;
  const finished = new Promise((resolve) => {
    finish = resolve;
  });
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (pending > 0) {
      consumer.ack(pendingTag, true);
      pending = 0;
    }
  };
  const t0 = performance.now();
  consumer = await adapter.consume(queue, {
    prefetch,
    onDelivery: ({ tag, payload, redelivered }, handle) => {
      consumer ??= handle;
      const m = ledger.deliver(payload, redelivered);
      if (onMessage && m) onMessage(m);
      if (ackEvery > 0) {
        pendingTag = tag;
        pending++;
        if (pending >= ackEvery) flush();
        else flushTimer ??= setTimeout(flush, 5);
      } else consumer.ack(tag, false);
      acked++;
      if (!stopped) counted++;
      if (acked >= depth0 && drainedAt === null) {
        drainedAt = performance.now();
        finish();
      }
    },
    onFailure: (reason, { fatal = true } = {}) => {
      ledger.fail(reason);
      if (!fatal) return;
      failed = true;
      finish();
    },
  });
  if (depth0 === 0) {
    drainedAt = performance.now();
    finish();
  }
  const timer = setTimeout(finish, durationMs);
  await finished;
  clearTimeout(timer);
  stopped = true;
  const end = drainedAt ?? performance.now();
  if (!failed) {
    try {
      await withTimeout(consumer.cancel(), CANCEL_TIMEOUT_MS, `cancel on ${queue}`);
    } catch (e) {
      ledger.fail(e.message);
    }
  }
  flush();
  await consumer.close();
  const elapsed = (end - t0) / 1000;
  return {
    depth0,
    acked: counted,
    elapsed,
    rate: elapsed > 0 ? counted / elapsed : null,
    drained: drainedAt !== null,
  };
}

// ---------------------------------------------------------------------------------------------
// Publish-to-delivery latency at a fixed rate.

export async function latencyRun(adapter, ledger, { queue, rate, durationMs }) {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const latencies = [];
  // BENCH_LATENCY_TRACE=file: every message's send, confirm and delivery time (ms, from the
  // run's start) appended as one JSON line per run, to tell what the slow ones have in common.
  const trace = process.env.BENCH_LATENCY_TRACE ? [] : null;
  const confirmedAt = new Map();
  const confirmLatencies = [];
  const sentAt = new Map();
  let delivered = 0;
  let failed = false;
  let allIn;
  const allDelivered = new Promise((resolve) => {
    allIn = resolve;
  });
  const consumer = await adapter.consume(queue, {
    prefetch: LATENCY_PREFETCH,
    onDelivery: ({ tag, payload, redelivered }, handle) => {
      const now = performance.now();
      const m = ledger.deliver(payload, redelivered);
      handle.ack(tag, false);
      if (m) latencies.push(now - m.t);
      if (m && trace) trace.push({ id: m.id, sent: m.t, delivered: now });
      delivered++;
      if (delivered >= total) allIn();
    },
    onFailure: (reason, { fatal = true } = {}) => {
      ledger.fail(reason);
      if (!fatal) return;
      failed = true;
      allIn();
    },
  });
  const verdict = (id, outcome, why) => {
    const start = sentAt.get(id);
    if (start === undefined) {
      ledger.fail(`verdict for a message not awaiting one (id ${id})`);
      return;
    }
    sentAt.delete(id);
    if (trace) confirmedAt.set(id, performance.now());
    if (outcome === "confirmed") confirmLatencies.push(performance.now() - start);
    else ledger.fail(why);
    ledger.settle(id, outcome);
  };
  const producer = await adapter.openProducer({
    onConfirm: (id, routed) =>
      routed ? verdict(id, "confirmed") : verdict(id, "refused", `unroutable: id ${id}`),
    onNack: (id, reason) => verdict(id, "refused", `nack: ${reason}`),
    onFailure: (reason, { fatal = true } = {}) => {
      ledger.fail(reason);
      if (!fatal) return;
      failed = true;
      allIn();
    },
  });
  // Paced: message i leaves at t0 + i / rate (a late timer sends what is due at once).
  const t0 = performance.now();
  const sendDeadline = t0 + durationMs + 5_000;
  let sent = 0;
  while (sent < total && !failed && performance.now() < sendDeadline) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
    while (sent < due) {
      const now = performance.now();
      const m = ledger.message(now);
      sentAt.set(m.id, now);
      producer.publish("", queue, m.id, m.payload);
      sent++;
    }
    const next = t0 + (sent * 1000) / rate;
    await sleep(Math.max(0, next - performance.now()));
  }
  const complete = await Promise.race([
    allDelivered.then(() => true),
    sleep(SETTLE_TIMEOUT_MS).then(() => false),
  ]);
  // Confirms may trail deliveries: give them a moment, bounded.
  for (let i = 0; i < 100 && sentAt.size > 0 && !failed; i++) await sleep(50);
  if (sentAt.size > 0) ledger.fail(`${sentAt.size} latency messages without a confirm`);
  for (const id of sentAt.keys()) ledger.settle(id, "uncertain");
  if (!complete) ledger.fail(`latency run: ${delivered} of ${sent} messages delivered`);
  await producer.close();
  try {
    await withTimeout(consumer.cancel(), CANCEL_TIMEOUT_MS, `cancel on ${queue}`);
  } catch (e) {
    ledger.fail(e.message);
  }
  await consumer.close();
  if (trace) {
    const rows = trace.map(({ id, sent: at, delivered: d }) => [
      +(at - t0).toFixed(2),
      +((confirmedAt.get(id) ?? Number.NaN) - at).toFixed(2),
      +(d - at).toFixed(2),
    ]);
    fs.appendFileSync(process.env.BENCH_LATENCY_TRACE, `${JSON.stringify(rows)}\n`);
  }
  latencies.sort((a, b) => a - b);
  confirmLatencies.sort((a, b) => a - b);
  return {
    sent,
    delivered,
    elapsed: (performance.now() - t0) / 1000,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies[latencies.length - 1] : null,
    confirmP50: percentile(confirmLatencies, 50),
    confirmP99: percentile(confirmLatencies, 99),
  };
}

// ---------------------------------------------------------------------------------------------
// The suite: every scenario against one broker, with CPU figures, retries when the machine was
// busy with something else, and the checks.

/** `scenarios`: the keys to run (null: all), e.g. new Set(["consume1"]) (BENCH_SCENARIOS). */
export async function runMessagingSuite(adapter, { seconds, warmupMs, scenarios = null }) {
  const durationMs = Math.round(seconds * 1000);
  const ledger = new Ledger();
  const results = [];
  const tag = adapter.short;

  // Up to MAX_ATTEMPTS runs when other processes disturbed one; the least disturbed is kept.
  const measure = async (key, label, { prepare, run, count }) => {
    if (scenarios !== null && !scenarios.has(key)) return null;
    let best = null;
    let attempts = 0;
    const failures0 = ledger.failures;
    for (; attempts < MAX_ATTEMPTS; ) {
      attempts++;
      ledger.context = `${label}, warm-up`;
      if (prepare) await prepare();
      ledger.context = label;
      await waitForQuiet();
      process.stdout.write(`  ${tag}: ${label}${attempts > 1 ? ` attempt ${attempts}` : ""} ... `);
      const meter = startCpuMeter(adapter.server);
      const r = await run();
      const cpu = meter.stop();
      const n = count(r);
      const perMsg = (sec) => (sec !== null && n > 0 ? (sec * 1e6) / n : null);
      Object.assign(r, {
        key,
        label,
        cpu,
        serverUsPerMsg: perMsg(cpu.serverSeconds),
        clientUsPerMsg: perMsg(cpu.clientSeconds),
      });
      console.log(
        `${r.rate !== undefined ? `${fmt(r.rate)} msgs/s` : `p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, max ${fmt(r.max, 2)} ms, confirm p99 ${fmt(r.confirmP99, 2)} ms`}` +
          `${r.drained ? " (drained)" : ""}, CPU broker/client/other ${fmt(cpu.serverPct)}/${fmt(cpu.clientPct)}/${fmt(cpu.otherPct)}%` +
          (ledger.failures > failures0 ? `, FAILURES: ${ledger.failureSamples[0]}` : ""),
      );
      if (!best || (r.cpu.otherPct ?? 0) < (best.cpu.otherPct ?? 0)) best = r;
      if ((r.cpu.otherPct ?? 0) <= QUIET_BUSY_PCT || ledger.failures > failures0) break;
    }
    best.attempts = attempts;
    best.failures = ledger.failures - failures0;
    results.push(best);
    return best;
  };

  await adapter.setup();
  const setupDepths = [
    await adapter.depth(adapter.queue),
    await adapter.depth(adapter.latencyQueue),
  ];

  // Latency at a moderate fixed rate, on a queue of its own with a consumer waiting. First, for
  // every broker. Measured after the throughput scenarios, our p99 took one 64-77 ms stall per
  // run while the same run alone, or 12 s long, had none: a pause of the one thread every local
  // object shares, not of the latency queue (its confirms stall with its deliveries). The likely
  // cause, not proven, is the runtime closing the storage of the queue the earlier scenarios
  // left idle; on Cloudflare objects do not share a thread.
  await measure("latency", `latency publish → deliver at ${LATENCY_RATE} msgs/s`, {
    prepare: () =>
      latencyRun(adapter, ledger, {
        queue: adapter.latencyQueue,
        rate: LATENCY_RATE,
        durationMs: Math.min(warmupMs, 1000),
      }),
    run: () =>
      latencyRun(adapter, ledger, { queue: adapter.latencyQueue, rate: LATENCY_RATE, durationMs }),
    count: (r) => r.delivered,
  });

  // Confirmed publishing, to the default exchange and through a direct exchange.
  for (const [key, label, exchange, routingKey] of [
    ["publishDefault", "confirmed publish, default exchange", "", adapter.queue],
    [
      "publishDirect",
      "confirmed publish, direct exchange",
      adapter.directExchange,
      adapter.directKey,
    ],
  ]) {
    await measure(key, `${label} (window ${WINDOW})`, {
      prepare: () =>
        pipelinedPublish(adapter, ledger, { exchange, routingKey, durationMs: warmupMs }),
      run: () => pipelinedPublish(adapter, ledger, { exchange, routingKey, durationMs }),
      count: (r) => r.confirmed,
    });
  }

  // Consuming with acks. A warm-up at the same prefetch estimates the rate; the queue is then
  // filled with enough messages for the measurement (bounded), which stops when drained.
  const consumeScenario = async (key, label, prefetch, ackEvery) => {
    await measure(key, label, {
      prepare: async () => {
        await fill(
          adapter,
          ledger,
          adapter.queue,
          WARM_FILL - (await adapter.depth(adapter.queue)),
        );
        const warm = await consumeAcked(adapter, ledger, {
          queue: adapter.queue,
          prefetch,
          ackEvery,
          durationMs: warmupMs,
        });
        const want = Math.min(
          MAX_FILL,
          Math.max(MIN_FILL, Math.ceil((warm.rate ?? 0) * seconds * FILL_FACTOR)),
        );
        await fill(adapter, ledger, adapter.queue, want - (await adapter.depth(adapter.queue)));
      },
      run: () =>
        consumeAcked(adapter, ledger, { queue: adapter.queue, prefetch, ackEvery, durationMs }),
      count: (r) => r.acked,
    });
  };
  for (const prefetch of PREFETCHES) {
    await consumeScenario(
      `consume${prefetch}`,
      `consume, prefetch ${prefetch}, ack each`,
      prefetch,
      0,
    );
  }
  await consumeScenario(
    "consume1000multi",
    `consume, prefetch 1000, ack multiple every ${ACK_MULTIPLE_EVERY}`,
    1000,
    ACK_MULTIPLE_EVERY,
  );

  // Drain whatever is left (not measured), bounded, then compare with what was confirmed.
  ledger.context = "final drain";
  const drainStart = Date.now();
  for (const queue of [adapter.queue, adapter.latencyQueue]) {
    for (let i = 0; i < 100 && Date.now() - drainStart < DRAIN_TIMEOUT_MS; i++) {
      if ((await adapter.depth(queue)) === 0) break;
      await consumeAcked(adapter, ledger, {
        queue,
        prefetch: 1000,
        ackEvery: ACK_MULTIPLE_EVERY,
        durationMs: Math.max(1000, DRAIN_TIMEOUT_MS - (Date.now() - drainStart)),
      });
    }
  }
  const endDepths = [await adapter.depth(adapter.queue), await adapter.depth(adapter.latencyQueue)];
  const changed = adapter.serverChanged();
  const s = ledger.summary();
  const lat = results.find((r) => r.key === "latency");
  const checks = [
    {
      what: `${tag}: queues empty after setup`,
      ok: setupDepths.every((d) => d === 0),
      detail: `messages=${setupDepths.join(", ")}`,
    },
    {
      what: `${tag}: every confirmed message consumed exactly once`,
      ok:
        s.missing.length === 0 &&
        s.duplicates.length === 0 &&
        s.unexpected.length === 0 &&
        s.unparseable === 0 &&
        s.redelivered === 0,
      detail:
        `confirmed ${fmt(s.confirmed)}, consumed ${fmt(s.consumed)}, missing ${s.missing.length}, ` +
        `duplicates ${s.duplicates.length}, unexpected ${s.unexpected.length}, ` +
        `redelivered ${s.redelivered}, unparseable ${s.unparseable}, uncertain ${s.uncertain}` +
        (s.missing.length ? ` (e.g. id ${s.missing.slice(0, 5).join(",")})` : "") +
        (s.duplicates.length ? ` (duplicates e.g. ${s.duplicates.slice(0, 5).join(",")})` : "") +
        (s.unexpected.length ? ` (unexpected e.g. ${s.unexpected.slice(0, 5).join(",")})` : ""),
    },
    {
      what: `${tag}: no failed frame, nack, unroutable message or connection error`,
      ok: s.failures === 0,
      detail: s.failures
        ? `${s.failures} failures, e.g. ${s.failureSamples.join(" | ")}`
        : `0 failures, ${s.refused} refused`,
    },
    {
      what: `${tag}: queues empty after draining`,
      ok: endDepths.every((d) => d === 0),
      detail: `messages=${endDepths.join(", ")}`,
    },
    {
      what: `${tag}: latency run delivered every message`,
      ok: lat ? lat.delivered === lat.sent : scenarios !== null && !scenarios.has("latency"),
      detail: lat ? `${lat.delivered} of ${lat.sent}` : "not run",
    },
    {
      what: `${tag}: broker not restarted while measuring`,
      ok: changed === null,
      detail: changed ?? "no restart",
    },
  ];
  return { results, checks, ledger: s };
}
