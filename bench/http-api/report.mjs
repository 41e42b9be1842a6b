// The HTTP API's part of BENCHMARKS.md (bench/run.mjs writes it at the top of the file) and
// its console table: the results, the checks, where the time goes, and the issue's targets.

import { fmt, MAX_ATTEMPTS, QUIET_BUSY_PCT } from "../lib/common.mjs";
import { describeMachine } from "../lib/machine.mjs";
import { printChecks, printConsoleTable } from "../lib/report.mjs";
import { BATCH_SIZE } from "./scenarios.mjs";

// Targets stated in the issue (not measured here).
const RABBITMQ_SINGLE_C16 = 500;
const TARGET_SINGLE_C16 = 2 * RABBITMQ_SINGLE_C16;
const TARGET_BATCH = 15_000;

/** The broker's processes as this report names them (lib/processes.mjs's kinds). */
export const ROLE_LABELS = {
  proxy: "workerd (dev proxy on the port)",
  host: "node (Miniflare host)",
  worker: "workerd (Worker + Durable Objects)",
  wrangler: "wrangler (node)",
  esbuild: "esbuild",
  other: "other",
};

function rateOf(r) {
  return r.unit === "req" ? r.reqPerSec : r.msgPerSec;
}

export function printTable(results, checks) {
  const rows = results.map((r) => [
    r.label,
    String(r.concurrency),
    fmt(rateOf(r)) + (r.unit === "req" ? " req/s" : " msg/s"),
    fmt(r.p50, 1),
    fmt(r.p99, 1),
    fmt(r.max, 1),
    fmt(r.serverCpuMsPerReq, 2),
    `${fmt(r.serverCpuPct)}/${fmt(r.clientCpuPct)}/${fmt(r.otherCpuPct)}`,
    String(r.failures + r.warmupFailures),
  ]);
  const head = [
    "scenario",
    "conc",
    "throughput",
    "p50 ms",
    "p99 ms",
    "max ms",
    "srv CPU ms/req",
    "CPU% srv/cli/other",
    "failures",
  ];
  printConsoleTable(head, rows);
  printChecks("checks", checks);
}

const ROLE_ORDER = Object.values(ROLE_LABELS);

/**
 * The section: `runner` is the broker's mode ("start" or "dev"), `source` the snapshot of the
 * code it ran (lib/broker.mjs), `seconds` and `warmupMs` the run's settings.
 */
export function render({ started, m, results, checks, runner, seconds, warmupMs, source }) {
  const by = Object.fromEntries(results.map((r) => [r.key, r]));
  const L = [];
  const has = (...xs) => xs.every((x) => x !== null && x !== undefined && Number.isFinite(x));
  const inv = (rate) => (has(rate) && rate > 0 ? 1000 / rate : null); // ms per request at that rate
  const sub = (x, y) => (has(x, y) ? x - y : null);
  const rate = (r) =>
    r ? (r.kind === "baseline" || r.key === "get1" ? r.reqPerSec : r.msgPerSec) : null;

  L.push("# Benchmarks");
  L.push("");
  L.push(
    `End-to-end throughput and latency of the HTTP API, the broker run ${runner === "start" ? "as `npm start` runs it (the Worker in Miniflare directly" : "through `wrangler dev` (with its dev proxy"}, local workerd, ` +
      "SQLite-backed Durable Objects on local disk), with the load generator on the same machine; " +
      "then messaging over WebSocket (confirmed publishing, consuming with acks, latency) compared " +
      "with RabbitMQ on the same machine, in the last section. " +
      "`bench/run.mjs` wrote this file; every figure in it comes from the run recorded here, " +
      "except the targets quoted from the issue.",
  );
  L.push("");
  L.push(`- Date: ${started.toISOString()}`);
  L.push(`- Machine: ${describeMachine(m)}, ${m.os}`);
  L.push(`- Node ${m.node}, wrangler ${m.wrangler}`);
  if (source) {
    L.push(
      `- Code: src/ and wrangler.jsonc as copied at ${source.at.toISOString()} ` +
        `(${source.files} files, sha256 prefix ${source.sha256}); the broker runs from that copy`,
    );
  }
  L.push(
    `- ${seconds} s per scenario after a ${warmupMs} ms warm-up (gets: no warm-up; count=100 ` +
      "runs until the queue is drained or time is up); keep-alive connections, one per concurrent " +
      "client; 256-byte JSON payloads, delivery_mode 2",
  );
  L.push("");
  L.push("Reproduce:");
  L.push("");
  L.push("```sh");
  const envs = ["BENCH_QUICK", "BENCH_SECONDS", "BENCH_ONLY", "BENCH_RUNNER"]
    .filter((name) => process.env[name])
    .map((name) => `${name}=${process.env[name]} `)
    .join("");
  L.push(envs === "" ? "npm run bench" : `${envs}node bench/run.mjs   # npm run bench runs it too`);
  L.push("```");
  L.push("");
  L.push(
    "`BENCH_SECONDS` sets the seconds per scenario (default 8). The script starts its own broker " +
      `(${runner === "start" ? "`scripts/start.mjs`, as `npm start`" : "`wrangler dev`"} on a free port of 127.0.0.1, fresh state in a temporary directory, ` +
      "guest/guest) and stops it at the end. It exits non-zero when a request or a frame failed " +
      "or a check did not hold.",
  );
  L.push("");
  L.push("## Results");
  L.push("");
  L.push(
    "| scenario | concurrency | requests | messages | throughput | p50 ms | p99 ms | max ms | broker CPU ms/request | CPU % broker / client / other | failures |",
  );
  L.push("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    const tp =
      r.key === "get1"
        ? `${fmt(r.reqPerSec)} gets/s`
        : r.kind === "baseline"
          ? `${fmt(r.reqPerSec)} req/s`
          : `${fmt(r.msgPerSec)} msgs/s`;
    L.push(
      `| ${r.label} | ${r.concurrency} | ${fmt(r.requests)} | ${fmt(r.messages)} | ${tp} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${fmt(r.max, 1)} | ${fmt(r.serverCpuMsPerReq, 2)} | ${fmt(r.serverCpuPct)} / ${fmt(r.clientCpuPct)} / ${fmt(r.otherCpuPct)} | ${r.failures + r.warmupFailures} |`,
    );
  }
  L.push("");
  L.push(
    "Latency is per HTTP request (a batch request carries 100 messages; a get count=100 request " +
      'takes up to 100). "Broker CPU" is the user+system CPU time of the process group started ' +
      "for the broker (wrangler and its workerd processes) during the scenario, divided by the " +
      `requests made. CPU % is of one core (${m.cores * 100}% = all ${m.cores} cores busy): the ` +
      "broker, this load generator (same machine, same cores), and every other process on the " +
      "machine (from /proc/stat). A scenario disturbed by other processes (over " +
      `${QUIET_BUSY_PCT}% of a core) was measured again, up to ${MAX_ATTEMPTS} times, keeping the ` +
      "least disturbed run" +
      (results.some((r) => r.attempts > 1)
        ? ` (measured again: ${results
            .filter((r) => r.attempts > 1)
            .map((r) => `${r.label} c=${r.concurrency} ×${r.attempts}`)
            .join(", ")}).`
        : "; none needed it."),
  );
  L.push("");
  L.push("### Checks");
  L.push("");
  for (const c of checks) {
    L.push(`- ${c.ok ? "ok" : c.warnOnly ? "**warning**" : "**FAILED**"}: ${c.what} (${c.detail})`);
  }
  L.push("");

  // ---- Where the time goes
  L.push("## Where the time goes");
  L.push("");
  const h = by.health16;
  const w = by.whoami16;
  const d = by.default16;
  const e = by.empty16;
  const f = by.pub16;
  const cpu = (r) => r?.serverCpuMsPerReq ?? null;
  L.push(
    "Each request at concurrency 16 keeps the machine busy, so 1 / throughput is what one request " +
      "costs the machine as a whole (broker and load generator); the broker's CPU time per request " +
      "is the same cost seen from the broker alone. The scenarios differ by one piece each, so " +
      "their differences isolate the pieces:",
  );
  L.push("");
  L.push("| piece | computed as | ms per request (1 / throughput) | broker CPU ms per request |");
  L.push("|---|---|---:|---:|");
  const row = (piece, how, x, y) => L.push(`| ${piece} | ${how} | ${fmt(x, 2)} | ${fmt(y, 2)} |`);
  row(
    `Worker request (${runner === "start" ? "Miniflare directly" : "through wrangler dev"}), no auth`,
    "GET /health",
    inv(rate(h)),
    cpu(h),
  );
  row(
    "Basic auth + /api routing",
    "whoami − health",
    sub(inv(rate(w)), inv(rate(h))),
    sub(cpu(w), cpu(h)),
  );
  row(
    "Queue object call writing one message (parse + DO hop + SQLite row)",
    "default-exchange publish − whoami",
    sub(inv(rate(d)), inv(rate(w))),
    sub(cpu(d), cpu(w)),
  );
  row(
    "Exchange object call routing to nothing (parse + DO hop)",
    "no-binding publish − whoami",
    sub(inv(rate(e)), inv(rate(w))),
    sub(cpu(e), cpu(w)),
  );
  row(
    "Full publish (Worker → exchange object → queue object)",
    "bench.orders publish",
    inv(rate(f)),
    cpu(f),
  );
  const pieces = (g) => (has(g(w), g(d), g(e)) ? g(d) + g(e) - g(w) : null);
  row(
    "Sum of the pieces (whoami + queue call + exchange call)",
    "default + no-binding − whoami",
    pieces((r) => inv(rate(r))),
    pieces(cpu),
  );
  L.push("");

  // Broker CPU by process.
  const roleKeys = ROLE_ORDER.filter((role) =>
    results.some((r) => (r.serverCpuMsByRole?.[role] ?? 0) > 0),
  );
  if (roleKeys.length > 0) {
    L.push(
      "Broker CPU per request by process (ms), and how busy each process was (% of one core):",
    );
    L.push("");
    L.push(`| scenario | concurrency | ${roleKeys.join(" | ")} |`);
    L.push(`|---|---:|${roleKeys.map(() => "---:").join("|")}|`);
    for (const r of results) {
      if (!r.serverCpuMsByRole || Object.keys(r.serverCpuMsByRole).length === 0) continue;
      const cells = roleKeys.map(
        (role) =>
          `${fmt(r.serverCpuMsByRole[role] ?? 0, 2)} (${fmt(r.serverCpuPctByRole?.[role] ?? 0)}%)`,
      );
      L.push(`| ${r.label} | ${r.concurrency} | ${cells.join(" | ")} |`);
    }
    L.push("");
  }

  const notes = [
    "Only the workerd process running the Worker and the Durable Objects exists in production; " +
      "the dev proxy workerd (the one listening on the port) and wrangler's Node process (which " +
      "prints one log line per request) are `wrangler dev` machinery, and all three share the " +
      "machine's cores with the load generator.",
  ];
  if (h && f && has(inv(rate(h)), inv(rate(f)))) {
    notes.push(
      `A full single publish costs ${fmt(inv(rate(f)) / inv(rate(h)), 1)}× a bare /health request ` +
        `(${fmt(rate(f))} msgs/s against ${fmt(rate(h))} req/s at concurrency 16): the request ` +
        `through wrangler dev and the Worker alone is ${fmt((inv(rate(h)) / inv(rate(f))) * 100)}% of a publish's cost.`,
    );
  }
  if (d && e && f) {
    notes.push(
      `Queue write only (default exchange): ${fmt(rate(d))} msgs/s; exchange hop only (no bindings): ` +
        `${fmt(rate(e))} msgs/s; both (topic exchange into the queue): ${fmt(rate(f))} msgs/s.`,
    );
  }
  const worker = "workerd (Worker + Durable Objects)";
  const busiest = results
    .filter((r) => r.kind !== "get" && has(r.serverCpuPctByRole?.[worker]))
    .map((r) => `${r.label} c=${r.concurrency}: ${fmt(r.serverCpuPctByRole[worker])}%`);
  if (busiest.length) {
    notes.push(
      `The workerd process running the Worker and the objects was this busy (% of one core): ${busiest.join("; ")}.`,
    );
  }
  if (by.pub1 && f) {
    notes.push(
      `One client at a time: ${fmt(rate(by.pub1))} msgs/s at p50 ${fmt(by.pub1.p50, 1)} ms ` +
        `(p99 ${fmt(by.pub1.p99, 1)} ms); 16 clients: ${fmt(rate(f))} msgs/s at p50 ${fmt(f.p50, 1)} ms ` +
        `(p99 ${fmt(f.p99, 1)} ms).`,
    );
  }
  if (by.batch1 && by.batch4 && f) {
    const best = by.batch4.msgPerSec >= by.batch1.msgPerSec ? by.batch4 : by.batch1;
    notes.push(
      `Batches of ${BATCH_SIZE}: ${fmt(best.msgPerSec)} msgs/s at concurrency ${best.concurrency} ` +
        `(${fmt(best.msgPerSec / f.msgPerSec, 1)}× single publishes at concurrency 16), ` +
        `${fmt(1000 / best.msgPerSec, 3)} ms per message: the per-request cost is paid once per batch.`,
    );
  }
  if (by.get1 && by.get100) {
    notes.push(
      `Gets, one client: ${fmt(by.get1.reqPerSec)} gets/s taking one message each, ` +
        `${fmt(by.get100.msgPerSec)} msgs/s taking up to 100 per request` +
        (by.get100.stopped ? " (the queue was drained before the time was up)." : "."),
    );
  }
  for (const n of notes) L.push(`- ${n}`);
  L.push("");

  // ---- Targets
  L.push("## Targets (from the issue)");
  L.push("");
  L.push(
    `RabbitMQ's HTTP API handles about ${fmt(RABBITMQ_SINGLE_C16)} msgs/s at concurrency 16 on these ` +
      "2-core machines (figure quoted from the issue, not measured here).",
  );
  L.push("");
  L.push("| target | goal | measured | met |");
  L.push("|---|---:|---:|---|");
  if (f) {
    L.push(
      `| single publishes at concurrency 16 (2× RabbitMQ) | ${fmt(TARGET_SINGLE_C16)} msgs/s | ${fmt(f.msgPerSec)} msgs/s | ${f.msgPerSec >= TARGET_SINGLE_C16 ? "yes" : "no"} |`,
    );
  }
  if (by.batch1 && by.batch4) {
    const best = by.batch4.msgPerSec >= by.batch1.msgPerSec ? by.batch4 : by.batch1;
    L.push(
      `| batch publishes (best of concurrency 1 and 4) | ${fmt(TARGET_BATCH)} msgs/s | ${fmt(best.msgPerSec)} msgs/s (concurrency ${best.concurrency}) | ${best.msgPerSec >= TARGET_BATCH ? "yes" : "no"} |`,
    );
  }
  L.push("");
  return L.join("\n");
}
