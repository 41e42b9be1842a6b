#!/usr/bin/env node
// Benchmark of the notification app, end to end through `wrangler dev` (npm run bench runs it
// after bench/run.mjs; alone: npm run bench:notifications). It measures:
//
//   1. send -> delivered: POST /send to one user while that user's live socket is open; the time
//      from sending the request until the socket receives the notification (p50, p99), one
//      notification at a time.
//   2. fan-out: one POST /send with toIDs naming 1,000 users, each with a live socket open; the
//      time until the answer (every inbox has stored it) and until all 1,000 sockets have it.
//   3. memory: the resident memory (RSS) of the broker's workerd processes before and after
//      opening 1,000 idle live sockets.
//
// It starts its own broker (free port on 127.0.0.1, fresh state in a temporary directory), talks
// only to it, bounds every loop in count and in time, stops exactly the process group it started,
// and replaces its own section of BENCHMARKS.md (between the markers below), leaving the rest.

import path from "node:path";
import { startBroker, stopOnSignals } from "./lib/broker.mjs";
import { middle, percentile, QUIET_BUSY_PCT, sleep } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { describeMachine, machineInfo, startCpuMeter, waitForQuiet } from "./lib/machine.mjs";
import { groupPids, processKind, rssKiB } from "./lib/processes.mjs";
import { writeSection } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";

const LATENCY_SENDS = Number(process.env.BENCH_NOTIFY_SENDS ?? 300);
const FANOUT_USERS = 1000;
const FANOUT_ROUNDS = 5;
const IDLE_SOCKETS = 1000;
const CONNECT_CONCURRENCY = 50;
const REQUEST_TIMEOUT_MS = 60_000;
const PHASE_TIMEOUT_MS = 180_000;
const MARK_START = "<!-- notifications-bench:start -->";
const MARK_END = "<!-- notifications-bench:end -->";
// Longer than the other benchmarks' wait (lib/common.mjs): one-at-a-time latencies of a few ms
// are the figures here that other processes distort most. Sampled every second, counting only
// processes that are neither the broker nor this script.
const WAIT_FOR_QUIET_MS = 120_000;

let server = null;

/** Waits, bounded, until other processes use less than QUIET_BUSY_PCT of a core. */
const quiet = () => waitForQuiet({ maxMs: WAIT_FOR_QUIET_MS, intervalMs: 1000, server: cpuOf() });

/** The broker's processes for CPU accounting (lib/machine.mjs). */
const cpuOf = () => server.server({});

const api = (method, urlPath, body, expected = [200]) =>
  callApi(server.url, method, urlPath, body, { expect: expected, timeoutMs: REQUEST_TIMEOUT_MS });

/** A figure in ms with one decimal, as this section prints them (no thousands separator). */
const ms1 = (ms) => (Number.isFinite(ms) ? ms.toFixed(1) : "n/a");

/** A live socket that records when each notification (by message text) arrived. */
async function openSocket(userId, token) {
  const url = `${server.url.replace("http", "ws")}/notifications/${userId}/live?token=${token}`;
  const socket = new WebSocket(url);
  const arrivals = new Map();
  const waiters = new Map();
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data));
    if (frame.type !== "notification") return;
    const at = performance.now();
    const text = frame.notification.message;
    arrivals.set(text, at);
    waiters.get(text)?.(at);
    waiters.delete(text);
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("socket open timed out")), REQUEST_TIMEOUT_MS);
    socket.addEventListener("open", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error(`socket for user ${userId} failed`));
    });
  });
  const arrival = (text, timeoutMs = REQUEST_TIMEOUT_MS) =>
    arrivals.has(text)
      ? Promise.resolve(arrivals.get(text))
      : new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`'${text}' never arrived`)), timeoutMs);
          waiters.set(text, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        });
  return { socket, arrivals, arrival };
}

async function tokenFor(userId) {
  return (await api("POST", `/api/notification-users/%2F/${userId}/token`, { expires_in: 3600 }))
    .token;
}

/** RSS (KiB) of the broker's workerd processes: the one running the Worker and its objects. */
function workerdRss() {
  let worker = 0;
  let proxy = 0;
  for (const pid of groupPids(server.pid)) {
    // Under `wrangler dev` its dev proxy is the workerd serving the port; under `npm start` the
    // one workerd serves the port itself and runs the Worker and the objects.
    const kind = processKind(pid, server);
    if (kind === "proxy") proxy += rssKiB(pid);
    else if (kind === "worker") worker += rssKiB(pid);
  }
  return { worker, proxy, total: worker + proxy };
}

async function inBatches(items, size, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += size) {
    const slice = items.slice(i, i + size);
    out.push(...(await Promise.all(slice.map((item, j) => fn(item, i + j)))));
  }
  return out;
}

async function measureLatency() {
  await api("POST", "/api/notification-users/%2F", {
    users: [
      { id: 1, name: "Emma" },
      { id: 2, name: "Bruno" },
    ],
  });
  const emma = await openSocket(1, await tokenFor(1));
  const send = async (i) => {
    const text = `latency ${i}`;
    const t0 = performance.now();
    const answered = api("POST", "/send", { fromID: 2, toID: 1, message: text });
    const delivered = await emma.arrival(text);
    await answered;
    const t1 = performance.now();
    return { delivered: delivered - t0, answered: t1 - t0 };
  };
  for (let i = 0; i < 20; i++) await send(`warm-up ${i}`); // warm-up, not counted
  const deadline = Date.now() + PHASE_TIMEOUT_MS;
  const samples = [];
  for (let i = 0; i < LATENCY_SENDS && Date.now() < deadline; i++) samples.push(await send(i));
  emma.socket.close();
  const delivered = samples.map((s) => s.delivered).sort((a, b) => a - b);
  const answered = samples.map((s) => s.answered).sort((a, b) => a - b);
  return {
    count: samples.length,
    delivered: {
      p50: percentile(delivered, 50),
      p99: percentile(delivered, 99),
      max: delivered.at(-1),
    },
    answered: {
      p50: percentile(answered, 50),
      p99: percentile(answered, 99),
      max: answered.at(-1),
    },
  };
}

async function measureFanoutAndMemory() {
  const ids = Array.from({ length: FANOUT_USERS }, (_, i) => 100_000 + i);
  await api("POST", "/api/notification-users/%2F", {
    users: ids.map((id) => ({ id, name: `user ${id}` })),
  });
  await api("PUT", "/api/notification-users/%2F/99999", { name: "Announcer" }, [201, 204]);
  const tokens = await inBatches(ids, CONNECT_CONCURRENCY, tokenFor);
  await sleep(2000);
  const before = workerdRss();
  const t0 = performance.now();
  const sockets = await inBatches(ids, CONNECT_CONCURRENCY, (id, i) => openSocket(id, tokens[i]));
  const connectMs = performance.now() - t0;
  await sleep(5000); // idle: let the runtime settle
  const after = workerdRss();
  const open = sockets.filter((s) => s.socket.readyState === WebSocket.OPEN).length;

  const rounds = [];
  for (let round = 0; round < FANOUT_ROUNDS; round++) {
    const text = `fan-out ${round}`;
    const start = performance.now();
    const arrivals = Promise.all(sockets.map((s) => s.arrival(text, PHASE_TIMEOUT_MS)));
    const answer = await api("POST", "/send", { fromID: 99_999, toIDs: ids, message: text });
    const answeredMs = performance.now() - start;
    if (answer.delivered !== FANOUT_USERS) throw new Error(`fan-out stored ${answer.delivered}`);
    const last = Math.max(...(await arrivals));
    rounds.push({ answered: answeredMs, delivered: last - start });
  }
  for (const s of sockets) s.socket.close();
  return { before, after, open, connectMs, rounds };
}

function machine() {
  const m = machineInfo();
  return `${describeMachine(m)}, ${m.os}`;
}

function report(latency, fanout, other) {
  const mib = (kib) => (kib / 1024).toFixed(1);
  const perSocket = ((fanout.after.worker - fanout.before.worker) / IDLE_SOCKETS).toFixed(1);
  const perSocketTotal = ((fanout.after.total - fanout.before.total) / IDLE_SOCKETS).toFixed(1);
  return `${MARK_START}
## Notifications (bench/notifications.mjs)

Written by \`bench/notifications.mjs\` (run by \`npm run bench\` after the figures above, or alone with \`npm run bench:notifications\`); every figure below comes from the run recorded here. Same setup: \`wrangler dev\` on 127.0.0.1 with fresh state, load generator on the same machine, user tokens on the sockets, the administrator's Basic auth on /send.

- Date: ${new Date().toISOString()}
- Machine: ${machine()}
- Node ${process.version}
- Other processes on the machine (not the broker, not this script) used ${other.map((pct) => (pct === null ? "n/a" : `${pct.toFixed(0)}%`)).join(" and ")} of one core during the latency and the fan-out/memory phases (the script first waits, up to ${WAIT_FOR_QUIET_MS / 1000} s, for them to use less than ${QUIET_BUSY_PCT}%)

| measurement | figure |
|---|---|
| send -> delivered on the live socket, one at a time (${latency.count} sends) | p50 ${ms1(latency.delivered.p50)} ms, p99 ${ms1(latency.delivered.p99)} ms, max ${ms1(latency.delivered.max)} ms |
| send -> HTTP answer (stored), same sends | p50 ${ms1(latency.answered.p50)} ms, p99 ${ms1(latency.answered.p99)} ms |
| fan-out of one notification to ${FANOUT_USERS} inboxes: until the answer (all stored), median of ${fanout.rounds.length} | ${ms1(middle(fanout.rounds.map((r) => r.answered)))} ms (each: ${fanout.rounds.map((r) => ms1(r.answered)).join(", ")}) |
| fan-out: until all ${FANOUT_USERS} live sockets have it, median of ${fanout.rounds.length} | ${ms1(middle(fanout.rounds.map((r) => r.delivered)))} ms (each: ${fanout.rounds.map((r) => ms1(r.delivered)).join(", ")}) |
| opening ${IDLE_SOCKETS} live sockets (${CONNECT_CONCURRENCY} at a time) | ${ms1(fanout.connectMs)} ms; ${fanout.open} open after 5 s idle |
| RSS of the workerd running the Worker and objects, before -> after ${IDLE_SOCKETS} idle sockets | ${mib(fanout.before.worker)} MiB -> ${mib(fanout.after.worker)} MiB (${perSocket} KiB per socket) |
| RSS of both workerd processes (with wrangler's dev proxy), before -> after | ${mib(fanout.before.total)} MiB -> ${mib(fanout.after.total)} MiB (${perSocketTotal} KiB per socket) |

Reproduce: \`npm run bench:notifications\` (\`BENCH_NOTIFY_SENDS\` sets the latency sample, default 300).

Reading them: locally every Durable Object shares one workerd process and its disk, so a fan-out to 1,000 inboxes is 1,000 SQLite commits in one process; on Cloudflare the inboxes are spread over machines. The 1,000 inbox objects already exist (their users were just created) when the "before" memory is read, so the difference is what local workerd holds per accepted socket, wrangler's dev proxy shown separately; it says nothing about memory on Cloudflare, where a hibernated inbox leaves memory while its sockets stay open.
${MARK_END}`;
}

async function main() {
  stopOnSignals();
  console.log("starting wrangler dev ...");
  server = await startBroker({
    vars: { NOTIFICATION_TOKEN_SECRET: "bench-secret" },
    prefix: "broker-notify-bench-",
  });
  try {
    console.log(`broker on ${server.url}; waiting for a quiet machine ...`);
    const other = [];
    await quiet();
    console.log("measuring send -> delivered latency ...");
    let meter = startCpuMeter(cpuOf());
    const latency = await measureLatency();
    other.push(meter.stop().otherPct);
    console.log(
      `  delivered p50 ${ms1(latency.delivered.p50)} ms, p99 ${ms1(latency.delivered.p99)} ms`,
    );
    console.log(`fan-out to ${FANOUT_USERS} inboxes and memory of ${IDLE_SOCKETS} sockets ...`);
    await quiet();
    meter = startCpuMeter(cpuOf());
    const fanout = await measureFanoutAndMemory();
    other.push(meter.stop().otherPct);
    const section = report(latency, fanout, other);
    writeSection(path.join(ROOT, "BENCHMARKS.md"), MARK_START, MARK_END, section);
    console.log(section);
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  (server?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
});
