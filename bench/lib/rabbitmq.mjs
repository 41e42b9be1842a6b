// RabbitMQ on the same machine, for comparison: when rabbitmq-server is installed (Debian's
// package), a node of its own is started on 127.0.0.1 with a temporary directory for everything
// (config, Mnesia, logs, Erlang cookie), non-default ports, its own epmd on a private port, no
// plugins; the benchmarks run against it (bench/messaging/rabbitmq-adapter.mjs for the messaging
// suite), then exactly that node is stopped (rabbitmqctl stop, then its remaining processes by
// pid) and its epmd too.
//
//   BENCH_RABBITMQ=0                      skip the comparison
//   BENCH_RABBITMQ_SERVER=/path/to/rabbitmq-server   use that script (rabbitmqctl beside it)

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AUTH, HOST, sleep, withTimeout } from "./common.mjs";
import { freePort, freePortBlock } from "./ports.mjs";
import { isAlive, startTime, treePids } from "./processes.mjs";

export const NOT_INSTALLED =
  "RabbitMQ not installed: skipped (apt-get install rabbitmq-server to compare)";
const NODENAME = "bench@localhost";
const STARTUP_TIMEOUT_MS = 90_000;
const CTL_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/**
 * Where rabbitmq-server is: { server, ctl } or { skip: reason }. Debian's /usr/sbin scripts switch
 * to the rabbitmq user (and its home, cookie and directories); the scripts they wrap, in
 * /usr/lib/rabbitmq/bin, run as the caller with the environment given here.
 */
export function findRabbitMQ() {
  const flag = process.env.BENCH_RABBITMQ;
  if (flag !== undefined && /^(0|off|no|false|skip)$/i.test(flag)) {
    return { skip: `RabbitMQ comparison skipped (BENCH_RABBITMQ=${flag})` };
  }
  const wanted = process.env.BENCH_RABBITMQ_SERVER;
  let server = null;
  if (wanted) server = executable(wanted) ? wanted : null;
  else {
    const onPath = (process.env.PATH ?? "")
      .split(path.delimiter)
      .concat(["/usr/sbin", "/usr/local/sbin", "/sbin"])
      .map((d) => path.join(d, "rabbitmq-server"))
      .find(executable);
    const debian = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    if (onPath) server = executable(debian) ? debian : onPath;
  }
  if (!server) return { skip: NOT_INSTALLED };
  const ctl = path.join(path.dirname(server), "rabbitmqctl");
  if (!executable(ctl)) return { skip: `${NOT_INSTALLED} (no rabbitmqctl beside ${server})` };
  return { server, ctl };
}

// ---------------------------------------------------------------------------------------------
// The node: started here, stopped here.

let node = null; // the running node, for the exit handler

function epmdPids(port) {
  // epmd daemons started for our private ERL_EPMD_PORT (only our node uses that port).
  const out = [];
  for (const e of fs.readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      if (fs.readFileSync(`/proc/${e}/comm`, "utf8").trim() !== "epmd") continue;
      const env = fs.readFileSync(`/proc/${e}/environ`, "utf8").split("\0");
      if (env.includes(`ERL_EPMD_PORT=${port}`)) out.push(Number(e));
    } catch {
      // exited meanwhile, or not readable
    }
  }
  return out;
}

function remember(n) {
  // Processes of the node (children of beam may leave its process group and session): recorded
  // with their start times, so that they are stopped by pid and never a reused pid.
  for (const pid of [...treePids(n.pid), ...epmdPids(n.epmdPort)]) {
    if (!n.pids.has(pid)) n.pids.set(pid, startTime(pid));
  }
}

function runCtl(n, args) {
  // rabbitmqctl against our node (bounded; our environment: cookie, epmd port, CLI ports).
  const r = spawnSync(n.ctl, ["-n", NODENAME, ...args], {
    env: n.env,
    encoding: "utf8",
    timeout: CTL_TIMEOUT_MS,
    killSignal: "SIGKILL",
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/**
 * Starts a private node. `management: true` also enables the management plugin (its HTTP API
 * on a free port of 127.0.0.1, answered as `node.httpPort` and `node.managementUrl`), to compare
 * HTTP publishing and to fetch rabbitmqadmin; `prometheus: true` the rabbitmq_prometheus plugin
 * with per-object metrics (`node.prometheusUrl`), to compare metric names.
 */
export async function startRabbitMQ(
  { server, ctl },
  { management = false, prometheus = false } = {},
) {
  const amqp = (await import("amqplib")).default;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rabbitmq-bench-"));
  const port = await freePort();
  const distPort = await freePort();
  const epmdPort = await freePort();
  const ctlPorts = await freePortBlock(10);
  const httpPort = management ? await freePort() : null;
  const prometheusPort = prometheus ? await freePort() : null;
  const plugins = [
    ...(management ? ["rabbitmq_management"] : []),
    ...(prometheus ? ["rabbitmq_prometheus"] : []),
  ];
  const file = (name, text) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: dir, // the Erlang cookie is created here, for the node and rabbitmqctl alike
    RABBITMQ_CONF_ENV_FILE: file("rabbitmq-env.conf", ""), // not /etc/rabbitmq's
    RABBITMQ_CONFIG_FILE: file(
      "rabbitmq.conf",
      [
        `listeners.tcp.1 = ${HOST}:${port}`,
        "loopback_users.guest = true",
        "log.console = false",
        "log.file.level = warning",
        ...(management ? [`management.tcp.port = ${httpPort}`, `management.tcp.ip = ${HOST}`] : []),
        ...(prometheus
          ? [
              `prometheus.tcp.ip = ${HOST}`,
              `prometheus.tcp.port = ${prometheusPort}`,
              "prometheus.return_per_object_metrics = true",
            ]
          : []),
        "",
      ].join("\n"),
    ),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: file("enabled_plugins", `[${plugins.join(",")}].\n`),
    RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: path.join(dir, "log"),
    RABBITMQ_PID_FILE: path.join(dir, "rabbitmq.pid"),
    RABBITMQ_NODENAME: NODENAME,
    RABBITMQ_NODE_IP_ADDRESS: HOST,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CTL_DIST_PORT_MIN: String(ctlPorts),
    RABBITMQ_CTL_DIST_PORT_MAX: String(ctlPorts + 9),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: HOST,
  };
  const logPath = path.join(dir, "server.out");
  const log = fs.openSync(logPath, "w");
  const child = spawn(server, [], {
    cwd: dir,
    detached: true, // own process group and session
    stdio: ["ignore", log, log],
    env,
  });
  fs.closeSync(log);
  let exit = null;
  const exited = new Promise((resolve) =>
    child.once("exit", (code, sig) => {
      exit = { code, sig };
      resolve(exit);
    }),
  );
  node = {
    pid: child.pid,
    started: startTime(child.pid),
    pids: new Map(),
    exited,
    dir,
    env,
    ctl,
    port,
    httpPort,
    managementUrl: httpPort === null ? null : `http://${HOST}:${httpPort}`,
    prometheusUrl: prometheusPort === null ? null : `http://${HOST}:${prometheusPort}`,
    epmdPort,
    logPath,
    url: `amqp://guest:guest@${HOST}:${port}/%2F`,
    amqp,
  };
  remember(node);
  const t0 = Date.now();
  let last = "";
  while (Date.now() - t0 < STARTUP_TIMEOUT_MS && !exit) {
    await sleep(500);
    remember(node);
    try {
      const conn = await withTimeout(node.amqp.connect(node.url), 5000, "AMQP connect");
      node.version = String(conn.connection.serverProperties?.version ?? "unknown");
      await conn.close();
      if (httpPort !== null) {
        const r = await fetch(`http://${HOST}:${httpPort}/api/overview`, {
          headers: { Authorization: AUTH },
          signal: AbortSignal.timeout(5000),
        });
        if (r.status !== 200) throw new Error(`management API answered ${r.status}`);
      }
      remember(node);
      return { node, startupMs: Date.now() - t0 };
    } catch (e) {
      last = e.message;
    }
  }
  const tail = fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
  await stopRabbitMQ();
  throw new Error(
    `RabbitMQ did not accept AMQP connections within ${STARTUP_TIMEOUT_MS / 1000} s` +
      (exit ? ` (exited: ${JSON.stringify(exit)})` : ` (last: ${last})`) +
      `\n--- rabbitmq-server output ---\n${tail}`,
  );
}

/** Stops the node started here: rabbitmqctl stop, then any process of it left, by pid. */
export async function stopRabbitMQ() {
  const n = node;
  if (!n) return { left: [] };
  remember(n);
  const report = { ctl: null, left: [] };
  if (isAlive(n.pid, n.started)) {
    const r = runCtl(n, ["stop"]);
    report.ctl = r.ok ? "rabbitmqctl stop: ok" : `rabbitmqctl stop failed: ${r.out.slice(-300)}`;
    // Wait (bounded) for the node's own processes to end; epmd stays until stopped below.
    const epmd = new Set(epmdPids(n.epmdPort));
    const t0 = Date.now();
    while (Date.now() - t0 < STOP_TIMEOUT_MS) {
      const alive = [...n.pids].filter(([p, s]) => !epmd.has(p) && isAlive(p, s ?? undefined));
      if (alive.length === 0) break;
      await sleep(100);
    }
    report.stopMs = Date.now() - t0;
  }
  for (const signal of ["SIGTERM", "SIGKILL"]) {
    const alive = [...n.pids].filter(([pid, started]) => isAlive(pid, started ?? undefined));
    if (alive.length === 0) break;
    for (const [pid] of alive) {
      try {
        process.kill(pid, signal);
      } catch {}
    }
    for (let i = 0; i < 50 && [...n.pids].some(([p, s]) => isAlive(p, s ?? undefined)); i++) {
      await sleep(100);
    }
  }
  report.left = [...n.pids].filter(([pid, s]) => isAlive(pid, s ?? undefined)).map(([p]) => p);
  report.stopped = [...n.pids.keys()];
  if (report.left.length === 0) {
    try {
      fs.rmSync(n.dir, { recursive: true, force: true });
    } catch {}
  }
  node = null;
  return report;
}

process.on("exit", () => {
  // Last resort (synchronous): never leave the node or its epmd running.
  if (!node) return;
  remember(node);
  for (const [pid, started] of node.pids) {
    if (isAlive(pid, started ?? undefined)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
});
