// Expiry of many messages at once, measured: N messages (default 100,000) published with a
// short x-message-ttl through the batch publish endpoint, while another queue keeps receiving
// publishes; answers how long the expired queue takes to be empty (the alarm's chunked sweep,
// no reader), and the publish rate on the other queue meanwhile.
//
//   node bench/queue-expiry.mjs            (BENCH_EXPIRY_MESSAGES=20000 for a shorter run)
//
// Printed and written to BENCHMARKS.md (its section between the markers below; the rest kept).

import path from "node:path";
import { startBroker } from "./lib/broker.mjs";
import { sleep } from "./lib/common.mjs";
import { callApi } from "./lib/http.mjs";
import { describeMachine, machineInfo, startCpuMeter } from "./lib/machine.mjs";
import { writeSection } from "./lib/report.mjs";
import { ROOT } from "./lib/root.mjs";

const MARK_START = "<!-- queue-expiry-bench:start -->";
const MARK_END = "<!-- queue-expiry-bench:end -->";
const fmt = (n) => Math.round(n).toLocaleString("en-US");

const N = Number(process.env.BENCH_EXPIRY_MESSAGES ?? 100_000);
const BATCH = 1000;
const TTL_MS = 2000;

/** A call under /api as guest: the parsed answer; throws on a status other than 2xx. */
const api = (base, method, path, body) => callApi(base, method, `/api${path}`, body);

const batch = (key, n) => ({
  messages: Array.from({ length: n }, (_, i) => ({
    routing_key: key,
    payload: `m${i}`,
    payload_encoding: "string",
    properties: {},
  })),
});

const broker = await startBroker({ prefix: "broker-queue-expiry-" });
try {
  const base = broker.url;
  await api(base, "PUT", "/queues/%2F/expiry.many", { arguments: { "x-message-ttl": TTL_MS } });
  await api(base, "PUT", "/queues/%2F/expiry.live", {});
  // Baseline: the other queue's publish rate with nothing expiring.
  let baseline = 0;
  const baseStart = Date.now();
  while (Date.now() - baseStart < 2000) {
    await api(base, "POST", "/exchanges/%2F/amq.default/publish-batch", batch("expiry.live", 100));
    baseline += 100;
  }
  const baselineRate = baseline / ((Date.now() - baseStart) / 1000);
  console.log(`baseline: ${Math.round(baselineRate)} msg/s published to a plain queue`);
  const t0 = Date.now();
  for (let sent = 0; sent < N; sent += BATCH) {
    await api(
      base,
      "POST",
      "/exchanges/%2F/amq.default/publish-batch",
      batch("expiry.many", Math.min(BATCH, N - sent)),
    );
  }
  const filled = Date.now();
  console.log(`published ${N} messages with x-message-ttl ${TTL_MS} ms in ${filled - t0} ms`);
  // Publish to another queue while they expire; watch the expiring queue drain by itself.
  let live = 0;
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      await api(
        base,
        "POST",
        "/exchanges/%2F/amq.default/publish-batch",
        batch("expiry.live", 100),
      );
      live += 100;
    }
  })();
  const expiresFrom = t0 + TTL_MS;
  const meter = startCpuMeter(broker.server({}));
  let empty = null;
  const liveStart = Date.now();
  while (Date.now() - filled < 120_000) {
    const { messages } = await api(base, "GET", "/queues/%2F/expiry.many");
    if (messages === 0) {
      empty = Date.now();
      break;
    }
    await sleep(100);
  }
  publishing = false;
  await publisher;
  const liveSeconds = (Date.now() - liveStart) / 1000;
  const cpu = meter.stop();
  if (empty === null) console.log("the expiring queue was not empty after 120 s");
  else {
    console.log(
      `all ${N} expired and deleted ${empty - (filled + TTL_MS)} ms after the last could expire (${empty - expiresFrom} ms after the first)`,
    );
  }
  console.log(
    `meanwhile ${live} messages published to another queue: ${Math.round(live / liveSeconds)} msg/s`,
  );
  const liveRate = live / liveSeconds;
  const lengthNote = process.env.BENCH_EXPIRY_MESSAGES ? `BENCH_EXPIRY_MESSAGES=${N} ` : "";
  writeSection(
    path.join(ROOT, "BENCHMARKS.md"),
    MARK_START,
    MARK_END,
    [
      MARK_START,
      "## Expiring many messages while publishing (bench/queue-expiry.mjs)",
      "",
      `- Date: ${new Date().toISOString()}; ${describeMachine(machineInfo())}; Node ${process.version}`,
      `- The broker as \`npm start\` runs it, fresh state. ${fmt(N)} messages published (batches of ${BATCH}) into a queue with \`x-message-ttl\` ${TTL_MS} ms and no consumer; then, while they expire (the queue's alarm deletes them in chunks), another queue receives batches of 100 as fast as one client sends them.`,
      "",
      "| figure | value |",
      "|---|---|",
      `| filling the expiring queue | ${fmt(filled - t0)} ms |`,
      empty === null
        ? "| all expired and deleted | not within 120 s |"
        : `| all expired and deleted, after the last one's expiry time | ${fmt(empty - (filled + TTL_MS))} ms (${fmt(empty - expiresFrom)} ms after the first's) |`,
      `| publish rate to the other queue, before (nothing expiring) | ${fmt(baselineRate)} msgs/s |`,
      `| publish rate to the other queue, while they expire | ${fmt(liveRate)} msgs/s (${(liveRate / baselineRate).toFixed(2)}×) |`,
      `| other processes on the machine meanwhile | ${cpu.otherPct === null ? "–" : `${fmt(cpu.otherPct)} % of a core`} |`,
      "",
      `Reproduce: \`${lengthNote}npm run bench:queue-expiry\``,
      MARK_END,
    ].join("\n"),
  );
} finally {
  await broker.stop();
}
