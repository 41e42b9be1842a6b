#!/usr/bin/env node
// The broker against RabbitMQ, side by side, the way an application uses each (issue 9): the
// broker run as `npm start` runs it (the Worker in Miniflare directly) and as `npm run dev` does
// (through `wrangler dev` and its dev proxy), RabbitMQ + amqplib from a private node this script
// starts (bench/rabbitmq.mjs, with its management plugin for the HTTP comparison).
//
//   node bench/compare.mjs                  # part of `npm run bench`
//   BENCH_QUICK=1 node bench/compare.mjs    # a short run: 2 s scenarios, depths 0/10k/50k
//   BENCH_RUNNERS=start node bench/compare.mjs   # only the `npm start` broker
//   BENCH_SECONDS=5, BENCH_DEPTHS=0,100000, BENCH_RABBITMQ=0
//   BENCH_RENDER_ONLY=1                     # rewrite the section from the last run's figures
//   BENCH_ONLY=deep                         # only the deep-queue phases (npm start broker)
//
// Measures, 256-byte persistent messages everywhere: confirmed publishing with one `publish()`
// call per message (client/ batches what is called in the same tick), consuming with one
// `ack()` per delivery at prefetch 1, 100 and 1,000, publish -> delivered latency at 1,000
// msgs/s (bench/messaging.mjs, which also checks every confirmed message arrives exactly once),
// a single HTTP publish at concurrency 1 and 16, and, on the `npm start` broker, publishing and
// consuming at growing queue depths with the memory of the process running the objects.
// Writes its section of BENCHMARKS.md (between platform-bench markers); exits non-zero when a
// check fails. Every loop is bounded in count and in time; all traffic goes to 127.0.0.1.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "../test/support/wrangler-dev.mjs";
import { clientAdapter } from "./client-adapter.mjs";
import {
  fmt,
  groupCpu,
  groupPids,
  HOST,
  percentile,
  QUICK,
  sleep,
  startCpuMeter,
  waitForQuiet,
  withTimeout,
} from "./lib.mjs";
import { consumeAcked, fill, Ledger, pipelinedPublish, runMessagingSuite } from "./messaging.mjs";
import { findRabbitMQ, rabbitAdapter, startRabbitMQ, stopRabbitMQ } from "./rabbitmq.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUTPUT = path.resolve(ROOT, process.env.BENCH_OUTPUT || "BENCHMARKS.md");
const AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
const MARK_START = "<!-- platform-bench:start -->";
const MARK_END = "<!-- platform-bench:end -->";
/** The last run's figures (BENCH_RENDER_ONLY=1 renders them again); bench/.state is not in git. */
const LAST_RUN = path.join(ROOT, "bench", ".state", "compare-last.json");

function numberEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`${name} must be a number in [${min}, ${max}], got '${raw}'`);
    process.exit(2);
  }
  return n;
}

const SECONDS = numberEnv("BENCH_SECONDS", QUICK ? 2 : 8, 0.5, 600);
const WARMUP_MS = Math.min(1000, Math.max(200, Math.round((SECONDS * 1000) / 5)));
const DEEP_SECONDS = QUICK ? 2 : Math.min(SECONDS, 5);
const DEPTHS = (process.env.BENCH_DEPTHS || (QUICK ? "0,10000,50000" : "0,100000,1000000"))
  .split(",")
  .map(Number)
  .filter((n) => Number.isInteger(n) && n >= 0 && n <= 5_000_000)
  .sort((a, b) => a - b);
const RUNNERS = (process.env.BENCH_RUNNERS || "start,dev")
  .split(",")
  .filter((r) => r === "start" || r === "dev");
const WITH_RABBITMQ = process.env.BENCH_RABBITMQ !== "0";
const HTTP_CONCURRENCY = [1, 16];
const HTTP_QUEUE = "bench.http";
const DEEP_QUEUE = "bench.deep";
const FILL_TIMEOUT_MS = 20 * 60_000; // filling to the deepest depth, at most
const REQUEST_TIMEOUT_MS = 30_000;
const MAX_HTTP_REQUESTS = 500_000;
const V = "%2F";

const RUNNER_NAMES = {
  start: "ours, `npm start` (Miniflare directly)",
  dev: "ours, `npm run dev` (wrangler dev)",
};

// ---------------------------------------------------------------------------------------------
// Processes: what each of the broker's processes is, and their memory.

function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

function roleOf(mode, port) {
  const roles = new Map();
  return (pid) => {
    if (roles.has(pid)) return roles.get(pid);
    const cmd = cmdline(pid);
    const exe = path.basename(cmd[0] ?? "");
    let role = "other";
    if (exe === "workerd") {
      role =
        mode === "dev" && cmd.some((a) => a.includes(`entry=${HOST}:${port}`))
          ? "workerd (dev proxy)"
          : "workerd (Worker + objects)";
    } else if (exe === "node") role = mode === "dev" ? "wrangler (node)" : "node (Miniflare host)";
    else if (exe === "esbuild") role = "esbuild";
    roles.set(pid, role);
    return role;
  };
}

/** Resident memory (MiB) of the group's workerd processes that run the Worker and objects. */
function workerRssMiB(pgid, role) {
  let kib = 0;
  for (const pid of groupPids(pgid)) {
    if (role(pid) !== "workerd (Worker + objects)") continue;
    try {
      const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
      if (m) kib += Number(m[1]);
    } catch {}
  }
  return kib / 1024;
}

// ---------------------------------------------------------------------------------------------
// Single HTTP publishes (RabbitMQ's management API and ours share the path and the body).

function httpRequest(agent, port, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { Authorization: AUTH, Accept: "application/json" };
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = payload.length;
    }
    const req = http.request({ host: HOST, port, method, path: urlPath, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(payload ?? undefined);
  });
}

function payload256(n) {
  const text = JSON.stringify({ n, order: `ord-${String(n).padStart(9, "0")}`, sku: "SKU-4711" });
  return text + " ".repeat(Math.max(0, 256 - Buffer.byteLength(text)));
}

async function httpPublishRun(port, server, concurrency, durationMs) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const body = (n) => ({
    properties: { delivery_mode: 2 },
    routing_key: HTTP_QUEUE,
    payload: payload256(n),
    payload_encoding: "string",
  });
  const latencies = [];
  let requests = 0;
  let ok = 0;
  const failures = [];
  // Warm-up: connections open, code paths hot.
  for (let i = 0; i < concurrency * 5; i++) {
    await httpRequest(agent, port, "POST", `/api/exchanges/${V}/amq.default/publish`, body(i));
  }
  await waitForQuiet();
  const meter = startCpuMeter(server);
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  const worker = async () => {
    while (performance.now() < deadline && requests < MAX_HTTP_REQUESTS) {
      requests++;
      const start = performance.now();
      try {
        const r = await httpRequest(
          agent,
          port,
          "POST",
          `/api/exchanges/${V}/amq.default/publish`,
          body(requests),
        );
        if (r.status === 200 && JSON.parse(r.text).routed === true) ok++;
        else if (failures.length < 3) failures.push(`${r.status} ${r.text.slice(0, 120)}`);
      } catch (e) {
        if (failures.length < 3) failures.push(e.message);
      }
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = meter.stop();
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    rate: ok / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: requests - ok,
    failureSamples: failures,
    cpu,
    serverUsPerMsg: cpu.serverSeconds !== null && ok > 0 ? (cpu.serverSeconds * 1e6) / ok : null,
  };
}

async function httpPublishScenarios(label, port, server) {
  const setup = async (method, p, body, expect) => {
    const agent = new http.Agent({ keepAlive: false });
    const r = await httpRequest(agent, port, method, p, body);
    if (!expect.includes(r.status)) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  };
  await setup("PUT", `/api/queues/${V}/${HTTP_QUEUE}`, { durable: true }, [201, 204]);
  const out = {};
  for (const c of HTTP_CONCURRENCY) {
    process.stdout.write(`  ${label}: HTTP publish, concurrency ${c} ... `);
    const r = await httpPublishRun(port, server, c, SECONDS * 1000);
    console.log(
      `${fmt(r.rate)} msgs/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms` +
        (r.failures ? `, FAILURES ${r.failures}: ${r.failureSamples[0]}` : ""),
    );
    out[c] = r;
    // Empty it for the next run: delete and declare again (RabbitMQ 3.10's purge answers 406
    // to this client).
    await setup("DELETE", `/api/queues/${V}/${HTTP_QUEUE}`, undefined, [200, 204]);
    await setup("PUT", `/api/queues/${V}/${HTTP_QUEUE}`, { durable: true }, [201, 204]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Deep queues: publish and consume rates, and memory, as the queue grows.

async function deepQueue(adapter, port, pgid, role) {
  const ledger = new Ledger();
  const agent = new http.Agent({ keepAlive: false });
  const put = await httpRequest(agent, port, "PUT", `/api/queues/${V}/${DEEP_QUEUE}`, {
    durable: true,
  });
  if (![201, 204].includes(put.status)) throw new Error(`declare ${DEEP_QUEUE}: ${put.status}`);
  const rows = [];
  const started = Date.now();
  // Warm-up (not recorded): the first phase would otherwise also pay the object's start and the
  // code's first runs.
  await pipelinedPublish(adapter, ledger, {
    exchange: "",
    routingKey: DEEP_QUEUE,
    durationMs: 1000,
  });
  await consumeAcked(adapter, ledger, { queue: DEEP_QUEUE, prefetch: 100, durationMs: 1000 });
  for (const target of DEPTHS) {
    const before = await adapter.depth(DEEP_QUEUE);
    if (target > before) {
      process.stdout.write(`  deep queue: filling to ${fmt(target)} ... `);
      const t0 = Date.now();
      const left = FILL_TIMEOUT_MS - (Date.now() - started);
      await withTimeout(fill(adapter, ledger, DEEP_QUEUE, target - before), left, "filling").catch(
        (e) => ledger.fail(e.message),
      );
      console.log(`${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    const depth = await adapter.depth(DEEP_QUEUE);
    await waitForQuiet();
    const pubMeter = startCpuMeter(adapter.server);
    const pub = await pipelinedPublish(adapter, ledger, {
      exchange: "",
      routingKey: DEEP_QUEUE,
      durationMs: DEEP_SECONDS * 1000,
    });
    const pubCpu = pubMeter.stop();
    await waitForQuiet();
    const conMeter = startCpuMeter(adapter.server);
    const con = await consumeAcked(adapter, ledger, {
      queue: DEEP_QUEUE,
      prefetch: 100,
      durationMs: DEEP_SECONDS * 1000,
    });
    const conCpu = conMeter.stop();
    const rss = workerRssMiB(pgid, role);
    rows.push({
      target,
      depth,
      publish: pub.rate,
      consume: con.rate,
      rss,
      otherPct: Math.max(pubCpu.otherPct ?? 0, conCpu.otherPct ?? 0),
    });
    console.log(
      `  deep queue at ${fmt(depth)}: publish ${fmt(pub.rate)} msgs/s, consume ${fmt(con.rate)} msgs/s, ` +
        `workerd RSS ${fmt(rss)} MiB`,
    );
  }
  return { rows, failures: ledger.failures, failureSamples: ledger.failureSamples };
}

// ---------------------------------------------------------------------------------------------
// One broker runner: start, measure, stop.

async function measureOurs(mode) {
  console.log(`\n${RUNNER_NAMES[mode]}: starting`);
  const broker = await startBroker({ mode, prefix: `broker-compare-${mode}-` });
  const role = roleOf(mode, broker.port);
  const server = { sample: () => groupCpu(broker.pid), roleOf: role };
  const reloads = () => {
    try {
      const text = fs.readFileSync(broker.logPath, "utf8");
      return (text.match(/Reloading local server|Detected changes, restarted server/g) ?? [])
        .length;
    } catch {
      return 0;
    }
  };
  const reloads0 = reloads();
  const serverChanged = () => {
    if (reloads() > reloads0) return "wrangler reloaded the Worker";
    return groupPids(broker.pid).length > 0 ? null : "the broker's processes exited";
  };
  const adapter = clientAdapter({
    port: broker.port,
    authorization: AUTH,
    server,
    serverChanged,
    name: RUNNER_NAMES[mode],
  });
  adapter.short = mode === "start" ? "ours (npm start)" : "ours (wrangler dev)";
  try {
    // BENCH_ONLY=deep: only the deep-queue phases (they take long with a million messages).
    const deepOnly = process.env.BENCH_ONLY === "deep";
    const http = deepOnly ? {} : await httpPublishScenarios(adapter.short, broker.port, server);
    const suite = deepOnly
      ? { results: [], checks: [] }
      : await runMessagingSuite(adapter, { seconds: SECONDS, warmupMs: WARMUP_MS });
    const deep =
      mode === "start" && DEPTHS.length > 0
        ? await deepQueue(adapter, broker.port, broker.pid, role)
        : null;
    return { mode, name: RUNNER_NAMES[mode], http, suite, deep };
  } finally {
    await broker.stop();
  }
}

async function measureRabbitMQ() {
  const found = findRabbitMQ();
  if (found.skip) return { skipped: found.skip };
  let adapter = null;
  try {
    const { node } = await startRabbitMQ(found, { management: true });
    console.log(`\nRabbitMQ ${node.version}: AMQP on ${node.port}, HTTP API on ${node.httpPort}`);
    adapter = rabbitAdapter(node);
    adapter.short = "RabbitMQ";
    const http = await httpPublishScenarios("RabbitMQ", node.httpPort, adapter.server);
    const suite = await runMessagingSuite(adapter, { seconds: SECONDS, warmupMs: WARMUP_MS });
    return { name: `RabbitMQ ${node.version} + amqplib`, version: node.version, http, suite };
  } catch (e) {
    console.error(`RabbitMQ comparison failed: ${e?.stack ?? e}`);
    return { error: String(e?.message ?? e).split("\n")[0] };
  } finally {
    await adapter?.close().catch(() => {});
    await stopRabbitMQ();
  }
}

// ---------------------------------------------------------------------------------------------
// The report.

const byKey = (suite, key) => suite?.results.find((r) => r.key === key) ?? null;
const ratio = (a, b) => (a !== null && b !== null && b > 0 ? a / b : null);
const fmtRatio = (x) => (x === null ? "–" : `${x.toFixed(2)}×`);

function render({ started, ours, rabbit, wallSeconds }) {
  const m = {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memGiB: os.totalmem() / 2 ** 30,
  };
  const L = [
    MARK_START,
    "## Issue 9: the broker as `npm start` and `npm run dev` run it, against RabbitMQ",
    "",
  ];
  L.push(
    "Written by `bench/compare.mjs` (the first part of `npm run bench`); every figure in this " +
      "section comes from the run recorded here.",
  );
  L.push("");
  L.push(`- Date: ${started.toISOString()}, ${fmt(wallSeconds)} s in all`);
  L.push(
    `- Machine: ${m.cpu}, ${m.cores} logical CPUs, ${m.memGiB.toFixed(1)} GiB RAM; Node ${process.version}`,
  );
  L.push(
    `- ${SECONDS} s per scenario after a ${WARMUP_MS} ms warm-up; 256-byte persistent messages ` +
      "(`delivery_mode` 2) into durable queues; ours through client/ (one `publish()` per message, " +
      "one `ack()` per delivery, batched by the client per tick), RabbitMQ through amqplib " +
      "(confirm channel, one `ack` per delivery); single HTTP publishes to RabbitMQ's management " +
      "API and ours, same path and body, keep-alive connections",
  );
  const others = [];
  for (const run of [...ours, rabbit]) {
    for (const r of run?.suite?.results ?? [])
      if (r.cpu?.otherPct != null) others.push(r.cpu.otherPct);
    for (const r of Object.values(run?.http ?? {}))
      if (r.cpu?.otherPct != null) others.push(r.cpu.otherPct);
  }
  others.sort((a, b) => a - b);
  L.push(
    `- Machine load from other processes (not the brokers, not this script) during the scenarios: ` +
      `median ${fmt(percentile(others, 50))}%, max ${fmt(others[others.length - 1] ?? null)}% of one core` +
      (QUICK
        ? "; BENCH_QUICK run: one attempt per scenario"
        : "; a disturbed scenario (over 25%) was run again, up to 3 times, keeping the quietest") +
      ". The machine is shared: figures from a busy machine are low for both sides.",
  );
  L.push("");
  L.push("Reproduce:");
  L.push("");
  L.push("```sh");
  L.push(
    `${QUICK ? "BENCH_QUICK=1 " : ""}${process.env.BENCH_SECONDS ? `BENCH_SECONDS=${SECONDS} ` : ""}` +
      `${process.env.BENCH_DEPTHS ? `BENCH_DEPTHS=${DEPTHS.join(",")} ` : ""}node bench/compare.mjs   # or npm run bench, which runs it first`,
  );
  L.push("```");
  L.push("");
  if (rabbit?.skipped || rabbit?.error) {
    L.push(`RabbitMQ: not measured (${rabbit.skipped ?? rabbit.error}).`);
    L.push("");
  }
  const rb = rabbit?.suite;
  const cols = ours.map((o) => o.name);
  L.push(`| target | goal | RabbitMQ | ${cols.map((c) => `${c} | ratio`).join(" | ")} |`);
  L.push(`|---|---:|---:|${cols.map(() => "---:|---:").join("|")}|`);
  const row = (label, goal, rabbitValue, value, unit, digits = 0, inverse = false) => {
    const cells = ours.map((o) => {
      const v = value(o);
      const x = inverse ? ratio(v, rabbitValue) : ratio(v, rabbitValue);
      return `${fmt(v, digits)}${unit} | ${fmtRatio(x)}`;
    });
    L.push(`| ${label} | ${goal} | ${fmt(rabbitValue, digits)}${unit} | ${cells.join(" | ")} |`);
  };
  row(
    "confirmed publish over WebSocket / AMQP, per-message `publish()`",
    "≥ 1.0×",
    byKey(rb, "publishDefault")?.rate ?? null,
    (o) => byKey(o.suite, "publishDefault")?.rate ?? null,
    " msgs/s",
  );
  for (const [p, goal] of [
    [1, "≥ 0.5×"],
    [100, "≥ 1.0×"],
    [1000, "≥ 1.0×"],
  ]) {
    row(
      `consume, one \`ack()\` per delivery, prefetch ${p}`,
      goal,
      byKey(rb, `consume${p}`)?.rate ?? null,
      (o) => byKey(o.suite, `consume${p}`)?.rate ?? null,
      " msgs/s",
    );
  }
  row(
    "publish → delivered p99 at 1,000 msgs/s (ratio: ours / RabbitMQ)",
    "≤ 3×",
    byKey(rb, "latency")?.p99 ?? null,
    (o) => byKey(o.suite, "latency")?.p99 ?? null,
    " ms",
    2,
  );
  for (const c of HTTP_CONCURRENCY) {
    row(
      `single HTTP publish, concurrency ${c}`,
      "≥ 1.0×",
      rabbit?.http?.[c]?.rate ?? null,
      (o) => o.http?.[c]?.rate ?? null,
      " msgs/s",
    );
  }
  L.push("");
  L.push(
    "Ratios are ours / RabbitMQ's: above 1 is faster for throughput; for the p99 latency row, " +
      "below 3 meets the goal. p50 latency (ms): " +
      [rabbit, ...ours]
        .filter((x) => x?.suite)
        .map((x) => `${x.name} ${fmt(byKey(x.suite, "latency")?.p50 ?? null, 2)}`)
        .join(", ") +
      ". HTTP publish p50 / p99 (ms): " +
      [rabbit, ...ours]
        .filter((x) => x?.http)
        .map(
          (x) =>
            `${x.name} ${HTTP_CONCURRENCY.map((c) => `c=${c} ${fmt(x.http?.[c]?.p50 ?? null, 2)} / ${fmt(x.http?.[c]?.p99 ?? null, 2)}`).join(", ")}`,
        )
        .join("; ") +
      ".",
  );
  L.push("");

  // CPU per message by process: whose time it is.
  L.push("### CPU per message, by process (µs)");
  L.push("");
  L.push(
    "The broker's processes' CPU time during the scenario divided by the messages it moved; " +
      "`client` is this Node process (the client library or amqplib and the load generator). " +
      "Only `workerd (Worker + objects)` exists in production; the dev proxy and wrangler's Node " +
      "process are `wrangler dev` machinery, and Miniflare's Node host only starts workerd.",
  );
  L.push("");
  const roles = new Set();
  const runs = [...ours.filter((o) => o.suite), ...(rabbit?.suite ? [rabbit] : [])];
  for (const run of runs) {
    for (const r of run.suite.results)
      for (const k of Object.keys(r.cpu?.serverPctByRole ?? {})) roles.add(k);
  }
  const roleList = [...roles].sort();
  L.push(
    `| broker | scenario | ${roleList.join(" | ")} | client | other processes (% of a core) |`,
  );
  L.push(`|---|---|${roleList.map(() => "---:").join("|")}|---:|---:|`);
  for (const run of runs) {
    for (const r of run.suite.results) {
      const share = (role) => {
        const pct = r.cpu?.serverPctByRole?.[role];
        if (pct === undefined || !r.cpu?.serverPct || r.serverUsPerMsg === null) return "–";
        return fmt((pct / r.cpu.serverPct) * r.serverUsPerMsg);
      };
      L.push(
        `| ${run.name} | ${r.label} | ${roleList.map(share).join(" | ")} | ${fmt(r.clientUsPerMsg)} | ${fmt(r.cpu?.otherPct ?? null)} |`,
      );
    }
  }
  L.push("");

  // Where a target is missed on the `npm start` broker: whose time it is.
  const main = ours.find((o) => o.mode === "start") ?? ours[0];
  if (main && rb) {
    const misses = [];
    const cpuOf = (r) => {
      if (!r?.cpu?.serverPct || r.serverUsPerMsg === null) return null;
      const worker = r.cpu.serverPctByRole?.["workerd (Worker + objects)"] ?? 0;
      return { worker: (worker / r.cpu.serverPct) * r.serverUsPerMsg, client: r.clientUsPerMsg };
    };
    const explain = (label, ourR, rabbitR, met, why) => {
      if (met) return;
      const o = cpuOf(ourR);
      const r = rabbitR?.serverUsPerMsg ?? null;
      misses.push(
        `- ${label}: per message the workerd running the objects spent ${fmt(o?.worker ?? null)} µs of CPU ` +
          `and the client ${fmt(o?.client ?? null)} µs; RabbitMQ ${fmt(r)} µs and amqplib ${fmt(rabbitR?.clientUsPerMsg ?? null)} µs; ` +
          `other processes used ${fmt(ourR?.cpu?.otherPct ?? null)}% of a core meanwhile. ${why}`,
      );
    };
    const c1 = byKey(main.suite, "consume1");
    const r1 = byKey(rb, "consume1");
    explain(
      "Prefetch 1",
      c1,
      r1,
      (ratio(c1?.rate ?? null, r1?.rate ?? null) ?? 0) >= 0.5,
      "Each delivery is a round trip with nothing to batch: the ack frame is one event in the " +
        "queue object, its removal and the next delivery's state one SQLite commit, and the " +
        "next deliver frame waits for that commit to be durable (the output gate), which is " +
        "the platform's per-event cost; RabbitMQ does not wait for a disk write before the next " +
        "delivery.",
    );
    const lo = byKey(main.suite, "latency");
    const lr = byKey(rb, "latency");
    explain(
      "Latency at 1,000 msgs/s",
      lo,
      lr,
      (ratio(lo?.p99 ?? null, lr?.p99 ?? null) ?? Number.POSITIVE_INFINITY) <= 3,
      "At this rate messages travel nearly one per frame (nothing waits to be batched), so each " +
        "pays a publish event in the Worker, an RPC and a commit in the queue object, a deliver " +
        "frame held until that commit is durable and an ack event; the p99 is that path plus " +
        "waiting for a core on a shared machine.",
    );
    if (misses.length > 0) {
      L.push("### Where the missed targets' time goes (`npm start` broker)");
      L.push("");
      L.push(...misses);
      L.push("");
    }
  }

  const deep = ours.find((o) => o.deep)?.deep;
  if (deep) {
    L.push("### Deep queues (`npm start` broker)");
    L.push("");
    L.push(
      `Publishing (per-message \`publish()\`, window 1,000) and consuming (prefetch 100, one ` +
        `\`ack()\` each) for ${DEEP_SECONDS} s each into and from one queue filled (publish-batch) ` +
        "to each depth; memory is the resident size of the workerd process running the Worker " +
        "and every object, read after both.",
    );
    L.push("");
    L.push(
      "| queued at start | publish msgs/s | vs empty | consume msgs/s | vs empty | workerd RSS MiB | other processes (% of a core) |",
    );
    L.push("|---:|---:|---:|---:|---:|---:|---:|");
    const first = deep.rows[0];
    for (const r of deep.rows) {
      L.push(
        `| ${fmt(r.depth)} | ${fmt(r.publish)} | ${fmtRatio(ratio(r.publish, first?.publish ?? null))} | ${fmt(r.consume)} | ${fmtRatio(ratio(r.consume, first?.consume ?? null))} | ${fmt(r.rss)} | ${fmt(r.otherPct)} |`,
      );
    }
    L.push("");
  }
  L.push("### Checks");
  L.push("");
  for (const c of checks(ours, rabbit)) {
    L.push(`- ${c.ok ? "ok" : c.warnOnly ? "warning" : "FAILED"}: ${c.what} (${c.detail})`);
  }
  L.push(MARK_END);
  return L.join("\n");
}

function checks(ours, rabbit) {
  const out = [];
  for (const o of ours) {
    if (o.error) {
      out.push({ what: `${o.name}: measured`, ok: false, detail: o.error });
      continue;
    }
    out.push(...o.suite.checks);
    for (const c of HTTP_CONCURRENCY) {
      const r = o.http[c];
      if (!r) continue;
      out.push({
        what: `${o.name}: every HTTP publish at concurrency ${c} answered routed`,
        ok: r.failures === 0,
        detail: r.failures ? `${r.failures} failed, e.g. ${r.failureSamples[0]}` : "0 failed",
      });
    }
    if (o.deep) {
      out.push({
        what: `${o.name}: deep-queue phases without failures`,
        ok: o.deep.failures === 0,
        detail: o.deep.failures ? o.deep.failureSamples.join(" | ") : "0 failures",
      });
    }
  }
  if (rabbit?.suite) out.push(...rabbit.suite.checks);
  return out;
}

function writeSection(text) {
  let current = "";
  try {
    current = fs.readFileSync(OUTPUT, "utf8");
  } catch {}
  const start = current.indexOf(MARK_START);
  const end = current.indexOf(MARK_END);
  const next =
    start >= 0 && end > start
      ? `${current.slice(0, start)}${text}${current.slice(end + MARK_END.length)}`
      : `${current.trimEnd()}\n\n${text}\n`;
  fs.writeFileSync(OUTPUT, next);
}

async function main() {
  const started = new Date();
  console.log(
    `compare: ${SECONDS} s per scenario, runners ${RUNNERS.join(", ")}, depths ${DEPTHS.join(", ")}` +
      (QUICK ? " (BENCH_QUICK)" : ""),
  );
  let ours = [];
  let rabbit = null;
  let wallSeconds = 0;
  let when = started;
  if (process.env.BENCH_RENDER_ONLY === "1") {
    // Render the last run's figures again (after a change to the report only).
    const last = JSON.parse(fs.readFileSync(LAST_RUN, "utf8"));
    ({ ours, rabbit, wallSeconds } = last);
    when = new Date(last.started);
  } else {
    for (const mode of RUNNERS) {
      try {
        ours.push(await measureOurs(mode));
      } catch (e) {
        // One runner failing (it did not start, a scenario threw) still leaves the others'
        // figures and a failed check in the report.
        console.error(`${RUNNER_NAMES[mode]} failed: ${e?.stack ?? e}`);
        const error = String(e?.message ?? e).split("\n")[0];
        ours.push({ mode, name: RUNNER_NAMES[mode], error, http: null, suite: null, deep: null });
      }
    }
    rabbit = WITH_RABBITMQ ? await measureRabbitMQ() : { skipped: "BENCH_RABBITMQ=0" };
    wallSeconds = (Date.now() - started.getTime()) / 1000;
    fs.mkdirSync(path.dirname(LAST_RUN), { recursive: true });
    fs.writeFileSync(
      LAST_RUN,
      JSON.stringify({ started: started.toISOString(), ours, rabbit, wallSeconds }),
    );
  }
  const text = render({ started: when, ours, rabbit, wallSeconds });
  writeSection(text);
  console.log(`\nwrote the platform-bench section of ${OUTPUT}`);
  const failed = checks(ours, rabbit).filter((c) => !c.ok && !c.warnOnly);
  for (const c of failed) console.error(`FAILED: ${c.what}: ${c.detail}`);
  if (failed.length > 0) process.exitCode = 1;
  await sleep(0);
}

main().catch((e) => {
  console.error(e?.stack ?? e);
  process.exit(1);
});
