// bench/compare.mjs's own scenarios: single HTTP publishes (RabbitMQ's management API and ours
// share the path and the body), and publishing and consuming as a queue grows deep, with the
// memory of the process running the objects.

import http from "node:http";
import { AUTH, fmt, percentile, withTimeout } from "../lib/common.mjs";
import { request } from "../lib/http.mjs";
import { runLoad } from "../lib/load.mjs";
import { startCpuMeter, waitForQuiet } from "../lib/machine.mjs";
import { consumeAcked, fill, Ledger, pipelinedPublish } from "../messaging/suite.mjs";

export const HTTP_CONCURRENCY = [1, 16];
const HTTP_QUEUE = "bench.http";
const DEEP_QUEUE = "bench.deep";
const FILL_TIMEOUT_MS = 20 * 60_000; // filling to the deepest depth, at most
const MAX_HTTP_REQUESTS = 500_000;
const V = "%2F";

const httpRequest = (agent, port, method, urlPath, body) =>
  request(agent, port, method, urlPath, body, { authorization: AUTH });

// ---------------------------------------------------------------------------------------------
// Single HTTP publishes.

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
  // Warm-up: connections open, code paths hot.
  for (let i = 0; i < concurrency * 5; i++) {
    await httpRequest(agent, port, "POST", `/api/exchanges/${V}/amq.default/publish`, body(i));
  }
  await waitForQuiet();
  let n = 0;
  const r = await runLoad({
    concurrency,
    durationMs,
    maxRequests: MAX_HTTP_REQUESTS,
    agent,
    server,
    one: async (a) => {
      const res = await httpRequest(
        a,
        port,
        "POST",
        `/api/exchanges/${V}/amq.default/publish`,
        body(++n),
      );
      if (res.status === 200 && JSON.parse(res.text).routed === true) return { ok: true };
      return { ok: false, error: `${res.status} ${res.text.slice(0, 120)}` };
    },
  });
  agent.destroy();
  const ok = r.messages;
  const { cpu } = r;
  return {
    concurrency,
    rate: ok / r.elapsed,
    p50: percentile(r.latencies, 50),
    p99: percentile(r.latencies, 99),
    failures: r.requests - ok,
    failureSamples: r.failureSamples.slice(0, 3),
    cpu,
    serverUsPerMsg: cpu.serverSeconds !== null && ok > 0 ? (cpu.serverSeconds * 1e6) / ok : null,
  };
}

/** Single HTTP publishes at each of HTTP_CONCURRENCY, `seconds` each: { [concurrency]: run }. */
export async function httpPublishScenarios(label, port, server, seconds) {
  const setup = async (method, p, body, expect) => {
    const agent = new http.Agent({ keepAlive: false });
    const r = await httpRequest(agent, port, method, p, body);
    if (!expect.includes(r.status)) throw new Error(`${method} ${p}: ${r.status} ${r.text}`);
  };
  await setup("PUT", `/api/queues/${V}/${HTTP_QUEUE}`, { durable: true }, [201, 204]);
  const out = {};
  for (const c of HTTP_CONCURRENCY) {
    process.stdout.write(`  ${label}: HTTP publish, concurrency ${c} ... `);
    const r = await httpPublishRun(port, server, c, seconds * 1000);
    console.log(
      `${fmt(r.rate)} msgs/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ` +
        `CPU broker/client/other ${fmt(r.cpu.serverPct)}/${fmt(r.cpu.clientPct)}/${fmt(r.cpu.otherPct)}%` +
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

/**
 * Publishing and consuming for `deepSeconds` each at every depth of `depths` (the queue filled
 * in between), and `rssMiB()`, the memory of the process running the objects, after both.
 */
export async function deepQueue(adapter, port, rssMiB, { depths, deepSeconds }) {
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
  // The warm-up leaves what it published and did not consume; the first depth is an empty queue.
  const purge = await httpRequest(agent, port, "DELETE", `/api/queues/${V}/${DEEP_QUEUE}/contents`);
  if (purge.status !== 204) throw new Error(`purge ${DEEP_QUEUE}: ${purge.status}`);
  for (const target of depths) {
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
      durationMs: deepSeconds * 1000,
    });
    const pubCpu = pubMeter.stop();
    await waitForQuiet();
    const conMeter = startCpuMeter(adapter.server);
    const con = await consumeAcked(adapter, ledger, {
      queue: DEEP_QUEUE,
      prefetch: 100,
      durationMs: deepSeconds * 1000,
    });
    const conCpu = conMeter.stop();
    const rss = rssMiB();
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
