// Processes from Linux /proc: process groups and trees, which part of the broker a process is,
// CPU time and resident memory. Every figure is null (every list empty) without /proc.
// Node built-ins only.

import fs from "node:fs";
import path from "node:path";
import { HOST } from "./common.mjs";

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

/** The process's command line (argv), or [] once it is gone. */
export function cmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  } catch {
    return [];
  }
}

/** Resident memory of a process in KiB (VmRSS), 0 once it is gone. */
export function rssKiB(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Whether the process is a workerd serving 127.0.0.1:`port` itself (its `entry` socket). */
function servesPort(cmd, port) {
  return cmd.some((a) => a.includes(`entry=${HOST}:${port}`));
}

/**
 * Which part of a broker started by broker.mjs a process is: "proxy" (under `wrangler dev`, the
 * workerd listening on the port: wrangler's dev proxy in front of the Worker), "worker" (the
 * workerd running the Worker and its Durable Objects), "host" (under `npm start`, the Node
 * process hosting Miniflare), "wrangler" (wrangler's own Node process), "esbuild" or "other".
 */
export function processKind(pid, { mode, port }) {
  const cmd = cmdline(pid);
  const exe = path.basename(cmd[0] ?? "");
  if (exe === "workerd") return mode === "dev" && servesPort(cmd, port) ? "proxy" : "worker";
  if (mode === "start" && exe === "node") return "host";
  if (exe === "node" || cmd.some((a) => a.includes("wrangler"))) return "wrangler";
  if (exe === "esbuild") return "esbuild";
  return "other";
}

/** pid -> the report's name for its kind (`labels`: kind -> name), remembered per pid. */
export function roleNamer(broker, labels) {
  const roles = new Map();
  return (pid) => {
    if (!roles.has(pid)) {
      const kind = processKind(pid, broker);
      roles.set(pid, labels[kind] ?? kind);
    }
    return roles.get(pid);
  };
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
