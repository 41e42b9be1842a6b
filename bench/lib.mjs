// Helpers shared by the benchmark's modules: timing, formatting, free ports, and CPU accounting of
// processes from /proc (Linux; every figure is null elsewhere). Node built-ins only.

import fs from "node:fs";
import net from "node:net";
import os from "node:os";

export const HOST = "127.0.0.1";
// BENCH_QUICK=1: a short run (one attempt per scenario, a short wait for a quiet machine), for
// trying the scripts out; the figures of a full run need the defaults.
export const QUICK = process.env.BENCH_QUICK === "1";
export const QUIET_WAIT_MS = QUICK ? 2_000 : 30_000;
export const QUIET_BUSY_PCT = 25; // % of one core
export const MAX_ATTEMPTS = QUICK ? 1 : 3;

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (Math.abs(n) < 0.5 * 10 ** -digits) n = 0; // no "-0.00"
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Resolves `promise`, or rejects after `ms` with `what` in the message. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Ports on 127.0.0.1.

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** `count` consecutive free ports (first one returned), tried at most 50 times. */
export async function freePortBlock(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portIsFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found on ${HOST}`);
}

// ---------------------------------------------------------------------------------------------
// Processes (Linux /proc).

/** Fields of /proc/PID/stat after the command name (index 0 = state), or null. */
export function procStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

function allPids() {
  try {
    return fs
      .readdirSync("/proc")
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  } catch {
    return [];
  }
}

/** Live (not zombie) processes whose process group is `pgid`. */
export function groupPids(pgid) {
  const out = [];
  for (const pid of allPids()) {
    const f = procStat(pid);
    if (f && f[0] !== "Z" && Number(f[2]) === pgid) out.push(pid);
  }
  return out;
}

/** `root` and every live descendant of it (by parent pid). */
export function treePids(root) {
  const children = new Map();
  const live = new Set();
  for (const pid of allPids()) {
    const f = procStat(pid);
    if (!f || f[0] === "Z") continue;
    live.add(pid);
    const ppid = Number(f[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  const out = [];
  const todo = live.has(root) ? [root] : [];
  while (todo.length > 0 && out.length < 10_000) {
    const pid = todo.pop();
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Start time of a process (clock ticks since boot): tells a pid from a later reuse of it. */
export function startTime(pid) {
  const f = procStat(pid);
  return f && f[0] !== "Z" ? Number(f[19]) : null;
}

export function isAlive(pid, started) {
  const s = startTime(pid);
  return s !== null && (started === undefined || s === started);
}

/** Map pid -> utime + stime (seconds) of the given pids that are alive; null if none is. */
export function pidsCpu(pids) {
  const tick = 100; // USER_HZ on Linux
  const out = new Map();
  for (const pid of pids) {
    const f = procStat(pid);
    if (f) out.set(pid, (Number(f[11]) + Number(f[12])) / tick);
  }
  return out.size > 0 ? out : null;
}

export function groupCpu(pgid) {
  return pidsCpu(groupPids(pgid));
}

/**
 * CPU seconds a set of processes used between two samples, by role, and whether the set changed
 * (a process that exited takes its CPU time with it: then the figure is not reliable).
 */
export function cpuDelta(before, after, roleOf = () => "other") {
  if (!before || !after) return { seconds: null, changed: false, byRole: {} };
  let seconds = 0;
  let changed = false;
  const byRole = {};
  for (const [pid, t] of after) {
    const d = t - (before.get(pid) ?? 0);
    seconds += d;
    const role = roleOf(pid);
    byRole[role] = (byRole[role] ?? 0) + d;
  }
  for (const pid of before.keys()) if (!after.has(pid)) changed = true;
  for (const pid of after.keys()) if (!before.has(pid)) changed = true;
  return { seconds: changed ? null : seconds, changed, byRole: changed ? {} : byRole };
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

export async function waitForQuiet() {
  // Other processes on the machine (a test run, a build) distort the figures: before each
  // scenario wait, bounded, for the machine to be nearly idle. Returns the last busy % seen.
  const deadline = Date.now() + QUIET_WAIT_MS;
  let busy = null;
  for (let i = 0; i < 100 && Date.now() < deadline; i++) {
    const a = machineCpu();
    await sleep(500);
    const b = machineCpu();
    if (!a || !b || b.total <= a.total) return null;
    busy = ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length * 100;
    if (busy < QUIET_BUSY_PCT) return busy;
  }
  return busy;
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
        clientPct,
        clientSeconds: (client.user + client.system) / 1e6,
        serverPct,
        serverSeconds: d.seconds,
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
