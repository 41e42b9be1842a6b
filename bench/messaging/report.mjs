// The messaging suites' figures: a console table, and the BENCHMARKS.md section (ours over
// WebSocket against RabbitMQ over AMQP, the issue's figures, and what limits our throughput,
// derived from the CPU measured during each scenario).

import fs from "node:fs";
import path from "node:path";
import { fmt, MAX_ATTEMPTS, QUIET_BUSY_PCT } from "../lib/common.mjs";
import { printChecks, printConsoleTable } from "../lib/report.mjs";
import { ROOT } from "../lib/root.mjs";
import {
  ACK_MULTIPLE_EVERY,
  FILL_FACTOR,
  LATENCY_PREFETCH,
  LATENCY_RATE,
  MAX_FILL,
  PREFETCHES,
  WINDOW,
} from "./suite.mjs";

// Figures quoted in the issue for RabbitMQ 3.10 with amqplib on these 2-core machines.
export const ISSUE_RABBITMQ = { confirmedPerSec: 15_000, ackedPerSec: 23_000, p99Ms: 4 };

const THROUGHPUT_KEYS = [
  "publishDefault",
  "publishDirect",
  ...PREFETCHES.map((p) => `consume${p}`),
  "consume1000multi",
];

const SHORT_LABEL = {
  publishDefault: `confirmed publish, default exchange → queue (window ${fmt(WINDOW)})`,
  publishDirect: `confirmed publish, direct exchange → queue (window ${fmt(WINDOW)})`,
  consume1: "consume + ack each, prefetch 1",
  consume100: "consume + ack each, prefetch 100",
  consume1000: "consume + ack each, prefetch 1000",
  consume1000multi: `consume, prefetch 1000, ack multiple every ${ACK_MULTIPLE_EVERY}`,
  latency: `publish → deliver at ${LATENCY_RATE} msgs/s`,
};

const has = (...xs) => xs.every((x) => x !== null && x !== undefined && Number.isFinite(x));
const byKey = (suite) => Object.fromEntries((suite?.results ?? []).map((r) => [r.key, r]));
const ratio = (a, b) => (has(a, b) && b > 0 ? a / b : null);
const fmtRatio = (x) => (has(x) ? `${fmt(x, x < 0.1 ? 3 : 2)}×` : "–");

function amqplibVersion() {
  try {
    return JSON.parse(
      fs.readFileSync(path.join(ROOT, "node_modules", "amqplib", "package.json"), "utf8"),
    ).version;
  } catch {
    return "unknown";
  }
}

function rabbitStatus(rabbit) {
  if (rabbit.skipped) return rabbit.skipped;
  if (rabbit.error) return `RabbitMQ comparison failed: ${rabbit.error}`;
  return null;
}

function bestAckEach(suite) {
  // The best ack-each consume rate and its prefetch.
  const o = byKey(suite);
  let best = null;
  for (const p of PREFETCHES) {
    const r = o[`consume${p}`];
    if (r && has(r.rate) && (!best || r.rate > best.rate)) best = { rate: r.rate, prefetch: p };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// Console.

export function printMessaging({ ours, rabbit, checks }) {
  const o = byKey(ours);
  const r = byKey(rabbit);
  const rows = [];
  for (const key of THROUGHPUT_KEYS) {
    rows.push([
      SHORT_LABEL[key],
      `${fmt(o[key]?.rate)} msg/s`,
      `${fmt(r[key]?.rate)} msg/s`,
      fmtRatio(ratio(o[key]?.rate, r[key]?.rate)),
    ]);
  }
  for (const [p, name] of [
    ["p50", "p50"],
    ["p99", "p99"],
  ]) {
    rows.push([
      `${SHORT_LABEL.latency}, ${name}`,
      `${fmt(o.latency?.[p], 2)} ms`,
      `${fmt(r.latency?.[p], 2)} ms`,
      fmtRatio(ratio(o.latency?.[p], r.latency?.[p])),
    ]);
  }
  const head = ["messaging scenario", "ours (WebSocket)", "RabbitMQ (AMQP)", "ours/RabbitMQ"];
  printConsoleTable(head, rows);
  const status = rabbitStatus(rabbit);
  if (status) console.log(`\n${status}`);
  printChecks("messaging checks", checks);
}

// ---------------------------------------------------------------------------------------------
// BENCHMARKS.md.

export function renderMessaging({ ours, rabbit, seconds, warmupMs, cores }) {
  const L = [];
  const o = byKey(ours);
  const r = byKey(rabbit);
  const haveRabbit = (rabbit.results ?? []).length > 0;
  const status = rabbitStatus(rabbit);
  const rabbitName = haveRabbit ? `RabbitMQ ${rabbit.version}` : "RabbitMQ";
  const capacity = cores * 100;

  L.push("## Messaging over WebSocket, compared with RabbitMQ");
  L.push("");
  L.push(
    "The same `npm run bench` run then measures publishing with confirms and consuming with acks " +
      "over the WebSocket frame protocol (`src/protocol/frames.ts`) against the broker it started, " +
      "and the same scenarios against RabbitMQ over AMQP 0-9-1 when `rabbitmq-server` is " +
      "installed. " +
      (haveRabbit
        ? `Here: ${rabbitName} from \`${rabbit.server}\` (Debian's package), started by the ` +
          "script as node `bench@localhost` on 127.0.0.1 with non-default ports, its own epmd on " +
          "a private port, temporary directories for config, Mnesia and logs, no plugins, and " +
          `stopped at the end; driven with amqplib ${amqplibVersion()} from the same Node process ` +
          "as the load on our broker. Our broker had been stopped before RabbitMQ started: each " +
          "had the machine to itself."
        : `Not here: ${status}.`),
  );
  L.push("");
  L.push(
    "Same for both: durable queues, persistent messages (`delivery_mode` 2), 256-byte JSON " +
      "payloads carrying an id and the send time, one connection (WebSocket or AMQP) per producer " +
      `and per consumer. Publishing keeps ${fmt(WINDOW)} messages unconfirmed (a confirm with ` +
      "`multiple` settles every earlier one), counts confirmed messages only, over the time from " +
      "the first send to the last confirm. Consuming acks each delivery on arrival (one ack frame " +
      `per message; the last row acks with \`multiple\` every ${ACK_MULTIPLE_EVERY} deliveries); ` +
      "the queue is filled first (ours: `publish-batch` of 1,000; RabbitMQ: confirmed publishes), " +
      `with ${FILL_FACTOR}× the messages for ${seconds} s at the rate a ${warmupMs} ms warm-up at ` +
      `the same prefetch reached (at most ${fmt(MAX_FILL)}); the consumer runs until the time is up or the queue is ` +
      "drained, then cancels, acks what was on its way, and closes. Latency: a consumer waits on " +
      `an empty queue (prefetch ${LATENCY_PREFETCH}, acks each), a producer publishes ` +
      `${LATENCY_RATE} msgs/s for ${seconds} s to the default exchange; latency is the delivery ` +
      "time minus the send time written in the payload (same process clock).",
  );
  L.push("");
  L.push("```sh");
  L.push(seconds === 8 ? "npm run bench" : `BENCH_SECONDS=${seconds} npm run bench`);
  L.push("```");
  L.push("");
  L.push(
    "(`BENCH_RABBITMQ=0` skips the comparison; without `rabbitmq-server` the run prints " +
      '"RabbitMQ not installed: skipped (apt-get install rabbitmq-server to compare)" and goes on.)',
  );
  L.push("");

  // ---- Headline.
  L.push(
    `| scenario | ours (WebSocket) | ${haveRabbit ? `${rabbitName} (AMQP, amqplib)` : "RabbitMQ"} | ours / RabbitMQ |`,
  );
  L.push("|---|---:|---:|---:|");
  for (const key of THROUGHPUT_KEYS) {
    const a = o[key];
    const b = r[key];
    const drained = (x) => (x?.drained ? " (drained)" : "");
    L.push(
      `| ${SHORT_LABEL[key]} | ${fmt(a?.rate)} msgs/s${drained(a)} | ${haveRabbit ? `${fmt(b?.rate)} msgs/s${drained(b)}` : "–"} | ${fmtRatio(ratio(a?.rate, b?.rate))} |`,
    );
  }
  for (const p of ["p50", "p99"]) {
    L.push(
      `| latency ${SHORT_LABEL.latency}, ${p} | ${fmt(o.latency?.[p], 2)} ms | ${haveRabbit ? `${fmt(r.latency?.[p], 2)} ms` : "–"} | ${fmtRatio(ratio(o.latency?.[p], r.latency?.[p]))} |`,
    );
  }
  L.push("");
  L.push(
    "Ratios are ours divided by RabbitMQ's: above 1 is better for throughput, worse for latency. " +
      '"(drained)": the queue emptied before the time was up; the rate is over the time it took.',
  );
  L.push("");

  // ---- The issue's figures.
  L.push("### Against the issue's figures");
  L.push("");
  L.push(
    "The issue quotes RabbitMQ 3.10 with amqplib on these 2-core machines at about " +
      `${fmt(ISSUE_RABBITMQ.confirmedPerSec)} confirmed publishes/s, ${fmt(ISSUE_RABBITMQ.ackedPerSec)} ` +
      `acked deliveries/s and a p99 publish-to-delivery of about ${ISSUE_RABBITMQ.p99Ms} ms (quoted, ` +
      "not measured here).",
  );
  L.push("");
  L.push(
    `| figure | issue (RabbitMQ 3.10 + amqplib) | ${rabbitName} measured here | ours | ours / issue |`,
  );
  L.push("|---|---:|---:|---:|---:|");
  const ob = bestAckEach(ours);
  const rb = bestAckEach(rabbit);
  L.push(
    `| confirmed publishes/s (default exchange, window ${fmt(WINDOW)}) | ${fmt(ISSUE_RABBITMQ.confirmedPerSec)} | ${haveRabbit ? fmt(r.publishDefault?.rate) : "–"} | ${fmt(o.publishDefault?.rate)} | ${fmtRatio(ratio(o.publishDefault?.rate, ISSUE_RABBITMQ.confirmedPerSec))} |`,
  );
  L.push(
    `| acked deliveries/s (best prefetch, ack each) | ${fmt(ISSUE_RABBITMQ.ackedPerSec)} | ${rb ? `${fmt(rb.rate)} (prefetch ${rb.prefetch})` : "–"} | ${ob ? `${fmt(ob.rate)} (prefetch ${ob.prefetch})` : "–"} | ${fmtRatio(ratio(ob?.rate, ISSUE_RABBITMQ.ackedPerSec))} |`,
  );
  L.push(
    `| p99 publish → delivery (ms, at ${LATENCY_RATE} msgs/s) | ${ISSUE_RABBITMQ.p99Ms} | ${haveRabbit ? fmt(r.latency?.p99, 2) : "–"} | ${fmt(o.latency?.p99, 2)} | ${fmtRatio(ratio(o.latency?.p99, ISSUE_RABBITMQ.p99Ms))} |`,
  );
  L.push("");

  // ---- Details.
  L.push("### Details");
  L.push("");
  L.push(
    "| broker | scenario | messages | seconds | throughput | latency p50 / p99 ms | CPU % broker / client / other | broker CPU µs/msg | client CPU µs/msg | notes | attempts | failures |",
  );
  L.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|");
  for (const [name, suite] of [
    ["ours", ours],
    [rabbitName, rabbit],
  ]) {
    for (const x of suite?.results ?? []) {
      const n = x.key === "latency" ? x.delivered : (x.confirmed ?? x.acked);
      const lat =
        x.key === "latency"
          ? `${fmt(x.p50, 2)} / ${fmt(x.p99, 2)} (delivery)`
          : x.confirmP50 !== undefined
            ? `${fmt(x.confirmP50, 1)} / ${fmt(x.confirmP99, 1)} (confirm)`
            : "–";
      L.push(
        `| ${name} | ${SHORT_LABEL[x.key]} | ${fmt(n)} | ${fmt(x.elapsed, 1)} | ${x.key === "latency" ? `${fmt(x.delivered / x.elapsed)} msgs/s` : `${fmt(x.rate)} msgs/s`} | ${lat} | ${fmt(x.cpu.serverPct)} / ${fmt(x.cpu.clientPct)} / ${fmt(x.cpu.otherPct)} | ${fmt(x.serverUsPerMsg)} | ${fmt(x.clientUsPerMsg)} | ${notes(x)} | ${x.attempts} | ${x.failures} |`,
      );
    }
  }
  L.push("");
  L.push(
    `CPU % is of one core (${capacity}% = all ${cores} cores busy), over the whole scenario ` +
      "(connections opened and closed included): the broker's processes (ours: wrangler and its " +
      "workerd processes; RabbitMQ: the Erlang VM and its helpers), this Node process (the load " +
      "generator and client: JSON frames for ours, amqplib for RabbitMQ) and everything else " +
      `(from /proc/stat). A scenario disturbed by other processes (over ${QUIET_BUSY_PCT}% of a ` +
      `core) was measured again, up to ${MAX_ATTEMPTS} times, keeping the least disturbed run. ` +
      `Publishing rows show the confirm latency (send to confirm, with up to ${fmt(WINDOW)} ` +
      "messages queued ahead); the latency row's confirm p50 / p99: ours " +
      `${fmt(o.latency?.confirmP50, 2)} / ${fmt(o.latency?.confirmP99, 2)} ms` +
      (haveRabbit
        ? `, RabbitMQ ${fmt(r.latency?.confirmP50, 2)} / ${fmt(r.latency?.confirmP99, 2)} ms.`
        : "."),
  );
  L.push("");

  // ---- Broker CPU by process.
  const roles = [];
  for (const suite of [ours, rabbit]) {
    for (const x of suite?.results ?? []) {
      for (const role of Object.keys(x.cpu.serverPctByRole ?? {})) {
        if (!roles.includes(role)) roles.push(role);
      }
    }
  }
  if (roles.length > 0) {
    L.push("Broker CPU by process (% of one core):");
    L.push("");
    L.push(`| broker | scenario | ${roles.join(" | ")} |`);
    L.push(`|---|---|${roles.map(() => "---:").join("|")}|`);
    for (const [name, suite] of [
      ["ours", ours],
      [rabbitName, rabbit],
    ]) {
      for (const x of suite?.results ?? []) {
        const cells = roles.map((role) =>
          role in (x.cpu.serverPctByRole ?? {}) ? fmt(x.cpu.serverPctByRole[role]) : "–",
        );
        L.push(`| ${name} | ${SHORT_LABEL[x.key]} | ${cells.join(" | ")} |`);
      }
    }
    L.push("");
  }

  // ---- What limits it.
  L.push("### What limits it");
  L.push("");
  for (const line of limits({ o, r, haveRabbit, capacity })) L.push(`- ${line}`);
  L.push("");

  // ---- Checks.
  L.push("### Checks");
  L.push("");
  for (const c of [...(ours?.checks ?? []), ...(rabbit.checks ?? [])]) {
    L.push(`- ${c.ok ? "ok" : c.warnOnly ? "**warning**" : "**FAILED**"}: ${c.what} (${c.detail})`);
  }
  if (status) L.push(`- ${status}`);
  L.push("");
  return L;
}

function notes(x) {
  if (x.depth0 !== undefined) {
    return `${fmt(x.depth0)} messages in the queue at the start${x.drained ? ", drained" : ""}`;
  }
  if (has(x.confirmFrames)) {
    return `${fmt(x.confirmFrames)} confirm frames (${fmt(x.multipleFrames)} with multiple)`;
  }
  if (x.key === "latency")
    return `confirm p50 / p99 ${fmt(x.confirmP50, 2)} / ${fmt(x.confirmP99, 2)} ms`;
  return "";
}

/** Sentences on what bounds each figure, from the CPU measured during the scenarios. */
function limits({ o, r, haveRabbit, capacity }) {
  const out = [];
  const worker = "workerd (Worker + Durable Objects)";
  const machineUse = (x) =>
    has(x?.cpu?.serverPct, x?.cpu?.clientPct) ? x.cpu.serverPct + x.cpu.clientPct : null;
  const busiest = (x) => {
    const entries = Object.entries(x?.cpu?.serverPctByRole ?? {}).sort((a, b) => b[1] - a[1]);
    return entries[0] ?? null;
  };
  const describeCpu = (x) => {
    const roles = Object.entries(x.cpu.serverPctByRole ?? {})
      .filter(([, v]) => v >= 1)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${fmt(v)}%`)
      .join(", ");
    return (
      `broker ${fmt(x.cpu.serverPct)}%${roles ? ` (${roles})` : ""}, client ${fmt(x.cpu.clientPct)}%` +
      ` — ${fmt(machineUse(x))}% of the machine's ${capacity}%`
    );
  };
  const verdict = (x) => {
    const use = machineUse(x);
    const top = busiest(x);
    if (has(use) && use >= 0.85 * capacity) {
      return "both cores are busy: CPU-bound on this machine, so the CPU each message costs sets the rate";
    }
    if (top && top[1] >= 80) {
      return `${top[0]} is close to one full core: bound by that one thread`;
    }
    return "no core is full: bound by waiting (round trips and commits), not by CPU";
  };

  const pd = o.publishDefault;
  if (pd) {
    let s =
      `Confirmed publishing (ours, default exchange): ${fmt(pd.rate)} msgs/s with ${describeCpu(pd)}; ` +
      `${verdict(pd)}. Per confirmed message the broker spent ${fmt(pd.serverUsPerMsg)} µs of CPU ` +
      `and the client ${fmt(pd.clientUsPerMsg)} µs`;
    const rp = r.publishDefault;
    if (haveRabbit && rp) {
      s +=
        `; RabbitMQ ${fmt(rp.serverUsPerMsg)} µs and amqplib ${fmt(rp.clientUsPerMsg)} µs ` +
        `(${fmt(rp.rate)} msgs/s, ${describeCpu(rp)})`;
    }
    out.push(`${s}.`);
    if (has(pd.confirmFrames) && pd.confirmed > 0) {
      out.push(
        `Our broker sent ${fmt(pd.confirmFrames)} confirm frames for ${fmt(pd.confirmed)} confirmed ` +
          `messages (${fmt(pd.multipleFrames)} with \`multiple\`): ` +
          (pd.confirmFrames >= 0.5 * pd.confirmed
            ? "about one frame per message, so every message also costs a WebSocket frame back " +
              "through the dev proxy, although a whole batch is stored at once."
            : `${fmt(pd.confirmed / pd.confirmFrames, 1)} messages per frame.`),
      );
    }
  }
  const pdir = o.publishDirect;
  if (pd && pdir) {
    out.push(
      `Through a direct exchange (one more Durable Object hop: Worker → exchange object → queue ` +
        `object) ours confirms ${fmt(pdir.rate)} msgs/s, ${fmtRatio(ratio(pdir.rate, pd.rate))} the default ` +
        `exchange's rate, at ${fmt(pdir.serverUsPerMsg)} µs of broker CPU per message.`,
    );
  }
  if (pd) {
    const wk = pd.cpu.serverPctByRole?.[worker];
    const total = pd.cpu.serverPct;
    if (has(wk, total) && total > 0) {
      out.push(
        `Of the broker's CPU while publishing, ${fmt((wk / total) * 100)}% was the workerd process ` +
          "running the Worker and the Durable Objects (the only part that exists in production); " +
          "the rest is `wrangler dev` machinery (the dev proxy that terminates and relays every " +
          "WebSocket frame, and wrangler's Node process) sharing the same two cores with the client.",
      );
    }
  }
  const c1 = o.consume1;
  if (c1 && has(c1.rate) && c1.rate > 0) {
    let s =
      `Prefetch 1 (ours): ${fmt(c1.rate)} msgs/s, one delivery per ack round trip, i.e. ` +
      `${fmt(1000 / c1.rate, 2)} ms per delivery → ack → next delivery through the dev proxy, the ` +
      `Worker and the queue object's SQLite commit (${describeCpu(c1)})`;
    if (haveRabbit && r.consume1 && has(r.consume1.rate) && r.consume1.rate > 0) {
      s += `; RabbitMQ ${fmt(1000 / r.consume1.rate, 3)} ms (${fmt(r.consume1.rate)} msgs/s)`;
    }
    out.push(`${s}.`);
  }
  for (const key of ["consume100", "consume1000", "consume1000multi"]) {
    const x = o[key];
    if (!x) continue;
    let s =
      `${SHORT_LABEL[key]} (ours, ${fmt(x.depth0)} messages queued at the start): ${fmt(x.rate)} msgs/s with ${describeCpu(x)}; ${verdict(x)}; ` +
      `${fmt(x.serverUsPerMsg)} µs of broker CPU per message`;
    const y = r[key];
    if (haveRabbit && y) {
      s += ` against RabbitMQ's ${fmt(y.serverUsPerMsg)} µs (${fmt(y.rate)} msgs/s, ${describeCpu(y)})`;
    }
    out.push(`${s}.`);
  }
  const m = o.consume1000multi;
  const e = o.consume1000;
  if (m && e && has(m.rate, e.rate)) {
    out.push(
      `Acking with \`multiple\` every ${ACK_MULTIPLE_EVERY} instead of each message changes ours from ` +
        `${fmt(e.rate)} to ${fmt(m.rate)} msgs/s (${fmtRatio(ratio(m.rate, e.rate))}) and its broker ` +
        `CPU from ${fmt(e.serverUsPerMsg)} to ${fmt(m.serverUsPerMsg)} µs per message: the queue ` +
        "object's work for each consumer frame, not the delivery itself, is what costs.",
    );
  }
  const lat = o.latency;
  if (lat) {
    const top = busiest(lat);
    const busy = top && top[1] >= 50;
    let s =
      `Latency at ${LATENCY_RATE} msgs/s (ours): p50 ${fmt(lat.p50, 2)} ms, p99 ${fmt(lat.p99, 2)} ms, ` +
      `max ${fmt(lat.max, 2)} ms, with ${describeCpu(lat)}` +
      (busy
        ? `: even this moderate rate keeps ${top[0]} ${fmt(top[1])}% busy ` +
          `(${fmt(lat.serverUsPerMsg)} µs of broker CPU per message: a publish frame, the queue ` +
          "object's write, a deliver frame and an ack frame), so the p99 includes waiting behind " +
          "that one thread, on top of the path (producer socket → dev proxy → Worker → queue object → consumer socket)"
        : ": a light load, so this is the path's length (producer socket → dev proxy → Worker → " +
          "queue object commit → consumer socket), not queueing");
    if (haveRabbit && r.latency) {
      s += `; RabbitMQ p50 ${fmt(r.latency.p50, 2)} ms, p99 ${fmt(r.latency.p99, 2)} ms`;
    }
    out.push(`${s}.`);
  }
  return out;
}
