#!/usr/bin/env node
// Where a single HTTP publish's time goes (issue 9): the same keep-alive load against the
// pieces of the publish path, one broker, in one run, so the platform's per-request floor and
// the broker's own share are measured side by side:
//   health     GET /health: workerd's per-request floor (no login, no object)
//   whoami     GET /api/whoami: + login and the access cache (no object)
//   publish    POST /api/exchanges/%2F/amq.default/publish: + one queue object enqueue
//
//   node bench/probe-publish.mjs               # 3 s per piece at concurrency 1 and 16
//   PROBE_SECONDS=5 PROBE_PIECES=publish PROBE_CONCURRENCY=16 BROKER_RUNNER=dev ...
// Prints rate, p50/p99 and the broker's CPU per request. Every loop is bounded in count and in
// time; all traffic goes to 127.0.0.1.

import http from "node:http";
import { startBroker, stopOnSignals } from "./lib/broker.mjs";
import { AUTH, fmt, numberEnv, percentile } from "./lib/common.mjs";
import { request } from "./lib/http.mjs";
import { runLoad } from "./lib/load.mjs";
import { waitForQuiet } from "./lib/machine.mjs";

const SECONDS = numberEnv("PROBE_SECONDS", 3, 0.5, 60);
const PIECES = (process.env.PROBE_PIECES || "health,whoami,publish").split(",");
const CONCURRENCY = (process.env.PROBE_CONCURRENCY || "1,16").split(",").map(Number);
const QUEUE = "probe.http";
const V = "%2F";

function payload256(n) {
  const text = JSON.stringify({ n, order: `ord-${String(n).padStart(9, "0")}`, sku: "SKU-4711" });
  return text + " ".repeat(Math.max(0, 256 - Buffer.byteLength(text)));
}

let n = 0;
const PIECE = {
  health: { method: "GET", path: "/health", auth: false },
  whoami: { method: "GET", path: "/api/whoami", auth: true },
  publish: {
    method: "POST",
    path: `/api/exchanges/${V}/amq.default/publish`,
    auth: true,
    body: () => ({
      properties: { delivery_mode: 2 },
      routing_key: QUEUE,
      payload: payload256(++n),
      payload_encoding: "string",
    }),
    check: (text) => JSON.parse(text).routed === true,
  },
};

stopOnSignals();
const broker = await startBroker({
  mode: process.env.BROKER_RUNNER || "start",
  prefix: "probe-",
  ...(process.env.PROBE_CONFIG ? { configPath: process.env.PROBE_CONFIG } : {}),
});
try {
  const server = broker.server({ worker: "workerd", proxy: "proxy", host: "host" });
  const setup = new http.Agent({ keepAlive: false });
  await request(
    setup,
    broker.port,
    "PUT",
    `/api/queues/${V}/${QUEUE}`,
    { durable: true },
    {
      authorization: AUTH,
    },
  );
  for (const name of PIECES) {
    const piece = PIECE[name];
    for (const c of CONCURRENCY) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: c });
      const one = async (a) => {
        const r = await request(a, broker.port, piece.method, piece.path, piece.body?.(), {
          authorization: piece.auth ? AUTH : undefined,
        });
        if (r.status !== 200 || (piece.check && !piece.check(r.text)))
          return { ok: false, error: `${r.status} ${r.text.slice(0, 100)}` };
        return { ok: true };
      };
      for (let i = 0; i < c * 20; i++) await one(agent);
      await waitForQuiet();
      const r = await runLoad({ concurrency: c, durationMs: SECONDS * 1000, agent, server, one });
      agent.destroy();
      const us = r.cpu.serverSeconds !== null ? (r.cpu.serverSeconds * 1e6) / r.requests : null;
      console.log(
        `${name.padEnd(8)} c=${String(c).padEnd(3)} ${fmt(r.messages / r.elapsed).padStart(6)}/s  ` +
          `p50 ${fmt(percentile(r.latencies, 50), 2)} p99 ${fmt(percentile(r.latencies, 99), 2)} ms  ` +
          `broker CPU ${fmt(us)} µs/req  client ${fmt((r.cpu.clientSeconds * 1e6) / r.requests)} µs/req  ` +
          `other ${fmt(r.cpu.otherPct)}%` +
          (r.failures ? `  FAILURES ${r.failures}: ${r.failureSamples[0]}` : ""),
      );
    }
  }
} finally {
  await broker.stop();
}
