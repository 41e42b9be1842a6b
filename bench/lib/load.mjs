// The load loop: `concurrency` workers, each issuing one request at a time until the time or
// the count is up, with the latency of each and the CPU use over the whole run.

import http from "node:http";
import { startCpuMeter } from "./machine.mjs";

const MAX_REQUESTS = 2_000_000; // count bound on every load loop

/**
 * Runs `one(agent)` in a loop on `concurrency` workers for `durationMs` (or `maxRequests` in
 * all). `one` answers { ok, messages?, error?, stop? } (messages: how many messages the request
 * moved, 1 by default; stop: end the whole run) or throws (a failure). `agent` defaults to a
 * keep-alive agent with one socket per worker, destroyed at the end; `server` is measured as in
 * machine.mjs's startCpuMeter.
 *
 * Answers { concurrency, requests, messages, failures, failureSamples (the first 5), latencies
 * (ms, sorted), elapsed (s), stopped, cpu }.
 */
export async function runLoad({
  concurrency,
  durationMs,
  maxRequests = MAX_REQUESTS,
  one,
  agent,
  server,
}) {
  const own = agent ? null : new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = [];
  let requests = 0;
  let messages = 0;
  let failures = 0;
  let stopped = false;
  const failureSamples = [];
  const deadline = performance.now() + durationMs;
  const meter = startCpuMeter(server);
  const t0 = performance.now();
  const worker = async () => {
    while (!stopped && requests < maxRequests && performance.now() < deadline) {
      requests++;
      const start = performance.now();
      let outcome;
      try {
        outcome = await one(agent ?? own);
      } catch (e) {
        outcome = { ok: false, error: e.message };
      }
      latencies.push(performance.now() - start);
      if (outcome.ok) messages += outcome.messages ?? 1;
      else {
        failures++;
        if (failureSamples.length < 5) failureSamples.push(outcome.error);
      }
      if (outcome.stop) stopped = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = meter.stop();
  own?.destroy();
  latencies.sort((a, b) => a - b);
  return {
    concurrency,
    requests,
    messages,
    failures,
    failureSamples,
    latencies,
    elapsed,
    stopped,
    cpu,
  };
}
