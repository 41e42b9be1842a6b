// The machine: what it is, how busy it is (/proc/stat), waiting for it to be quiet, and CPU
// use over an interval split into the broker, this load generator and everything else.
// Linux /proc; every figure is null elsewhere. Node built-ins only.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { QUIET_BUSY_PCT, QUIET_WAIT_MS, sleep } from "./common.mjs";
import { cpuDelta } from "./processes.mjs";
import { ROOT } from "./root.mjs";

/** The machine and the tool versions a report names. */
export function machineInfo() {
  const cpus = os.cpus();
  let wrangler = "unknown";
  try {
    wrangler = JSON.parse(
      fs.readFileSync(path.join(ROOT, "node_modules", "wrangler", "package.json"), "utf8"),
    ).version;
  } catch {}
  return {
    cpu: cpus[0]?.model?.trim() ?? "unknown",
    cores: cpus.length,
    memGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    wrangler,
  };
}

/** "CPU model, N logical CPUs, X GiB RAM", as the reports print the machine. */
export function describeMachine(m = machineInfo()) {
  return `${m.cpu}, ${m.cores} logical CPUs, ${m.memGiB.toFixed(1)} GiB RAM`;
}

export function machineCpu() {
  // Aggregate jiffies from /proc/stat: { busy, total }; null when unavailable.
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0];
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * CPU use over an interval, in % of one core: the server's processes (`server.sample()` gives a
 * pid -> seconds map, `server.roleOf(pid)` names a process), this process (the load generator),
 * and every other process on the machine.
 */
export function startCpuMeter(server) {
  const client0 = process.cpuUsage();
  const server0 = server ? server.sample() : null;
  const machine0 = machineCpu();
  const t0 = performance.now();
  return {
    stop() {
      const elapsed = (performance.now() - t0) / 1000;
      const client = process.cpuUsage(client0);
      const d = cpuDelta(server0, server ? server.sample() : null, server?.roleOf);
      const machine1 = machineCpu();
      const machinePct =
        machine0 && machine1 && machine1.total > machine0.total
          ? ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) *
            os.cpus().length *
            100
          : null;
      const clientPct = ((client.user + client.system) / 1e6 / elapsed) * 100;
      const serverPct = d.seconds !== null ? (d.seconds / elapsed) * 100 : null;
      return {
        elapsed,
        clientPct,
        clientSeconds: (client.user + client.system) / 1e6,
        serverPct,
        serverSeconds: d.seconds,
        serverSecondsByRole: d.byRole,
        serverPctByRole: Object.fromEntries(
          Object.entries(d.byRole).map(([k, v]) => [k, (v / elapsed) * 100]),
        ),
        machinePct,
        otherPct:
          machinePct !== null && serverPct !== null
            ? Math.max(0, machinePct - serverPct - clientPct)
            : null,
        changed: d.changed,
      };
    },
  };
}

/**
 * Other processes on the machine (a test run, a build) distort the figures: before a scenario
 * wait, bounded by `maxMs`, for the machine to be nearly idle (under QUIET_BUSY_PCT of a core),
 * sampling every `intervalMs`. With `server`, what counts is every process but the broker and
 * this one; without, the whole machine. Returns the last busy % seen (null without /proc).
 */
export async function waitForQuiet({ maxMs = QUIET_WAIT_MS, intervalMs = 500, server } = {}) {
  const deadline = Date.now() + maxMs;
  const rounds = Math.max(100, Math.ceil(maxMs / intervalMs));
  let busy = null;
  for (let i = 0; i < rounds && Date.now() < deadline; i++) {
    const meter = startCpuMeter(server);
    await sleep(intervalMs);
    const cpu = meter.stop();
    busy = server ? cpu.otherPct : cpu.machinePct;
    if (busy === null || busy < QUIET_BUSY_PCT) return busy;
  }
  return busy;
}
