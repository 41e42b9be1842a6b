// Starts and stops the broker for everything that runs it outside the Workers test pool: the
// benchmarks, the browser, bridge, rabbitmqadmin and fault tests. The one place that spawns it.
//
// Modes:
//   "start"      as `npm start` runs it: scripts/start.mjs, the Worker in Miniflare directly
//   "dev"        as `npm run dev` does: `wrangler dev`, with its dev proxy in front
//   "npm-start"  package.json's own start script, run by sh, with this run's port and state
//                directory put in (the fault test: exactly what a user starts)
// BROKER_RUNNER=start|dev picks the default ("start").
//
// Every broker gets a free port on 127.0.0.1, a fresh state directory in a temporary directory
// (or the caller's `stateDir`, kept), its own process group, a bounded wait until GET /health
// answers 200, and stop() / kill() that end exactly that group. Node built-ins only.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HOST, sleep } from "./common.mjs";
import { freePort } from "./ports.mjs";
import { groupCpu, groupPids, roleNamer } from "./processes.mjs";
import { ROOT } from "./root.mjs";

export { ROOT };

export const RUNNERS = ["start", "dev"];
const STARTUP_TIMEOUT_MS = 90_000;
const BIN = path.join(ROOT, "node_modules", ".bin");

export function defaultRunner() {
  const runner = process.env.BROKER_RUNNER || "start";
  if (!RUNNERS.includes(runner))
    throw new Error(`BROKER_RUNNER must be start or dev, not ${runner}`);
  return runner;
}

/** Process groups started here and not yet stopped: ended on exit and on a signal. */
const live = new Set();

process.on("exit", () => {
  // Last resort (synchronous): never leave a broker running.
  for (const broker of live) signalGroup(broker.pid, "SIGKILL");
});

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * For scripts run by hand: on SIGINT, SIGTERM or SIGHUP stop every broker started here, run
 * `cleanup`, and exit 130.
 */
export function stopOnSignals(cleanup = () => {}) {
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(sig, () => {
      console.error(`\n${sig}: stopping the broker`);
      Promise.allSettled([...live].map((b) => b.stop()))
        .then(cleanup)
        .finally(() => process.exit(130));
    });
  }
}

/** package.json's start script with this run's port and state directory. */
export function startCommand(port, stateDir) {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  let command = pkg.scripts?.start;
  if (typeof command !== "string") throw new Error("package.json has no start script");
  const replace = (flag, value) => {
    const pattern = new RegExp(`${flag}(=|\\s+)\\S+`);
    command = pattern.test(command)
      ? command.replace(pattern, `${flag} ${value}`)
      : `${command} ${flag} ${value}`;
  };
  replace("--port", String(port));
  replace("--persist-to", stateDir);
  if (!command.includes(HOST)) {
    throw new Error(`the start script does not bind ${HOST} only: ${command}`);
  }
  return command;
}

/**
 * A copy of src/, the built UI and the configuration taken now, node_modules linked, for a run
 * that must measure one version of the code: `wrangler dev` restarts workerd when a watched file
 * changes, and src/ may be edited while a benchmark runs. Answers the copy's folder and the
 * fingerprint of its src/ and wrangler.jsonc.
 */
function snapshotApp(dir) {
  const app = path.join(dir, "app");
  fs.mkdirSync(app);
  fs.cpSync(path.join(ROOT, "src"), path.join(app, "src"), { recursive: true });
  for (const f of ["wrangler.jsonc", "package.json", "tsconfig.json"]) {
    if (fs.existsSync(path.join(ROOT, f))) fs.copyFileSync(path.join(ROOT, f), path.join(app, f));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(app, "node_modules"), "dir");
  // The built UI too: wrangler.jsonc's assets directory must exist for the Worker to start.
  const dist = path.join(ROOT, "dist");
  if (fs.existsSync(dist)) fs.cpSync(dist, path.join(app, "dist"), { recursive: true });
  const hash = createHash("sha256");
  let files = 0;
  const walk = (d) => {
    for (const e of fs
      .readdirSync(d, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        files++;
        hash.update(path.relative(app, p)).update("\0").update(fs.readFileSync(p)).update("\0");
      }
    }
  };
  walk(path.join(app, "src"));
  hash.update(fs.readFileSync(path.join(app, "wrangler.jsonc")));
  return { app, source: { files, sha256: hash.digest("hex").slice(0, 16), at: new Date() } };
}

/** The command line of one mode. */
function commandFor(mode, { port, stateDir, configPath, vars }) {
  if (mode === "npm-start") {
    if (Object.keys(vars).length > 0) throw new Error("npm-start takes the start script's vars");
    return ["sh", ["-c", startCommand(port, stateDir)]];
  }
  const allVars = { BROKER_ADMIN_USER: "guest", BROKER_ADMIN_PASSWORD: "guest", ...vars };
  const common = [
    "--config",
    configPath,
    "--ip",
    HOST,
    "--port",
    String(port),
    "--persist-to",
    stateDir,
    ...Object.entries(allVars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  // Both through the pinned Node (node_modules/.bin first on PATH): wrangler refuses Node 20.
  if (mode === "start")
    return [path.join(BIN, "node"), [path.join(ROOT, "scripts", "start.mjs"), ...common]];
  if (mode === "dev")
    return [path.join(BIN, "wrangler"), ["dev", ...common, "--show-interactive-dev-session=false"]];
  throw new Error(`unknown broker mode ${mode}`);
}

/**
 * Starts the broker and waits until it answers. Options: `mode` (above); `vars`, passed as
 * --var NAME:value (guest/guest is always set; not with "npm-start"); `prefix` of the temporary
 * directory; `configPath` (default the project's wrangler.jsonc); `snapshot: true` runs a copy
 * of src/ taken now (answered as `source`); `stateDir` and `logPath` keep state and log where
 * the caller says (the log appended to), across restarts.
 *
 * Answers { url, port, pid (= the process group), mode, dir, logPath, startupMs, source,
 * stop(), kill(), reloads(), alive(), changeWatch(), server(labels) }:
 *   stop({ keepLogAt })  SIGTERM to the group, SIGKILL to what is left after 5 s; copies the
 *             log to `keepLogAt` when given, removes the temporary directory; answers the pids
 *             still alive (none, normally)
 *   kill()    the crash: SIGKILL to the group, then waits until none of it is left
 *   reloads() how many times `wrangler dev` restarted the Worker (a watched file changed)
 *   alive()   whether any process of the group is left
 *   changeWatch()  a function answering why the broker's figures since this call can't be
 *             trusted (restarted, exited), or null
 *   server(labels)  { sample(), roleOf(pid) } for CPU accounting (machine.mjs), the roles named
 *             by `labels` (processes.mjs's kinds -> the report's names)
 */
export async function startBroker({
  mode = defaultRunner(),
  vars = {},
  prefix = "broker-e2e-",
  configPath = path.join(ROOT, "wrangler.jsonc"),
  snapshot = false,
  stateDir,
  logPath,
} = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  let source = null;
  if (snapshot) {
    const copy = snapshotApp(dir);
    configPath = path.join(copy.app, "wrangler.jsonc");
    source = copy.source;
  }
  const state = stateDir ?? path.join(dir, "state");
  const log = logPath ?? path.join(dir, "wrangler.log");
  const [command, args] = commandFor(mode, { port, stateDir: state, configPath, vars });
  const fd = fs.openSync(log, logPath ? "a" : "w");
  if (logPath)
    fs.writeSync(fd, `\n--- ${new Date().toISOString()} ${[command, ...args].join(" ")}\n`);
  const started = Date.now();
  const child = spawn(command, args, {
    cwd: mode === "npm-start" ? ROOT : path.dirname(configPath),
    detached: true, // its own process group: stopped as a group, and only that group
    stdio: ["ignore", fd, fd],
    env: {
      ...process.env,
      PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      ...(mode === "npm-start"
        ? { PORT: String(port), BROKER_PORT: String(port), BROKER_STATE_DIR: state }
        : {}),
    },
  });
  fs.closeSync(fd);
  const pid = child.pid;
  let exited = null;
  const exit = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });

  const alive = () => groupPids(pid).length > 0;
  const gone = async () => {
    for (let i = 0; i < 100 && alive(); i++) await sleep(50);
    return !alive();
  };
  let stopped = null;
  const broker = {
    url: `http://${HOST}:${port}`,
    port,
    pid,
    mode,
    dir,
    logPath: log,
    startupMs: null,
    source,
    alive,
    stop({ keepLogAt } = {}) {
      stopped ??= (async () => {
        signalGroup(pid, "SIGTERM");
        await Promise.race([exit, sleep(5000)]);
        if (!exited) signalGroup(pid, "SIGKILL");
        // The runner's children (workerd) share the group: wait until none is left, bounded.
        for (let i = 0; i < 50 && alive(); i++) {
          if (i === 10) signalGroup(pid, "SIGKILL");
          await sleep(100);
        }
        const left = groupPids(pid);
        if (left.length > 0) console.error(`warning: processes left in group ${pid}: ${left}`);
        else live.delete(broker);
        if (keepLogAt) {
          try {
            fs.copyFileSync(log, keepLogAt);
          } catch {}
        }
        fs.rmSync(dir, { recursive: true, force: true });
        return left;
      })();
      return stopped;
    },
    async kill() {
      signalGroup(pid, "SIGKILL");
      if (!(await gone())) throw new Error(`process group ${pid} survived SIGKILL`);
      live.delete(broker);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    reloads() {
      try {
        const text = fs.readFileSync(log, "utf8");
        return (text.match(/Reloading local server|Detected changes, restarted server/g) ?? [])
          .length;
      } catch {
        return 0;
      }
    },
    changeWatch() {
      const reloads0 = broker.reloads();
      return () => {
        const reloads = broker.reloads() - reloads0;
        if (reloads > 0) return `wrangler reloaded ${reloads} times`;
        return alive() ? null : "the broker's processes exited";
      };
    },
    server(labels) {
      return { sample: () => groupCpu(pid), roleOf: roleNamer({ mode, port }, labels) };
    },
  };
  live.add(broker);

  let last = "";
  while (Date.now() - started < STARTUP_TIMEOUT_MS && !exited) {
    try {
      const response = await fetch(`${broker.url}/health`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) {
        broker.startupMs = Date.now() - started;
        return broker;
      }
      last = `status ${response.status}`;
    } catch (error) {
      last = error.message;
    }
    await sleep(250);
  }
  const tail = fs.readFileSync(log, "utf8").split("\n").slice(-40).join("\n");
  await broker.kill().catch(() => {});
  throw new Error(
    `the broker (${mode}) did not answer GET /health with 200 within ${STARTUP_TIMEOUT_MS / 1000} s` +
      (exited ? ` (exited: ${JSON.stringify(exited)})` : ` (last: ${last})`) +
      `\n--- its log ---\n${tail}`,
  );
}
