// Starts the broker for end-to-end runs outside the Workers test pool (the browser test and the
// benchmarks), either as `npm start` runs it (mode "start": scripts/start.mjs, the Worker in
// Miniflare directly) or as `npm run dev` does (mode "dev": `wrangler dev`, with its dev proxy).
// BROKER_RUNNER=start|dev picks the default ("start"). A free port on 127.0.0.1, fresh state in a
// temporary directory, its own process group, and a stop() that ends exactly that group and
// removes the directory. Node built-ins only; every wait is bounded.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const HOST = "127.0.0.1";
const STARTUP_TIMEOUT_MS = 90_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Processes still in a process group (Linux /proc; empty elsewhere). */
export function groupPids(pgid) {
  const pids = [];
  let entries = [];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export const RUNNERS = ["start", "dev"];

export function defaultRunner() {
  const runner = process.env.BROKER_RUNNER || "start";
  if (!RUNNERS.includes(runner))
    throw new Error(`BROKER_RUNNER must be start or dev, not ${runner}`);
  return runner;
}

/**
 * Starts the broker. `vars` are passed as --var NAME:value (guest/guest is always set); `mode`
 * is "start" (as `npm start`) or "dev" (as `npm run dev`); `configPath` defaults to the project's
 * wrangler.jsonc. Answers { url, port, pid, dir, mode, logPath, stop }.
 */
export async function startBroker({
  vars = {},
  prefix = "broker-e2e-",
  mode = defaultRunner(),
  configPath = path.join(ROOT, "wrangler.jsonc"),
} = {}) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const logPath = path.join(dir, "wrangler.log");
  const log = fs.openSync(logPath, "w");
  const bin = path.join(ROOT, "node_modules", ".bin");
  const allVars = { BROKER_ADMIN_USER: "guest", BROKER_ADMIN_PASSWORD: "guest", ...vars };
  const common = [
    "--config",
    configPath,
    "--ip",
    HOST,
    "--port",
    String(port),
    "--persist-to",
    path.join(dir, "state"),
    ...Object.entries(allVars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
  ];
  // Both through the pinned Node (node_modules/.bin first on PATH): wrangler refuses Node 20.
  const [command, args] =
    mode === "start"
      ? [path.join(bin, "node"), [path.join(ROOT, "scripts", "start.mjs"), ...common]]
      : [path.join(bin, "wrangler"), ["dev", ...common, "--show-interactive-dev-session=false"]];
  const child = spawn(command, args, {
    cwd: path.dirname(configPath),
    detached: true, // its own process group: stopped as a group, and only that group
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
    },
  });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  const pid = child.pid;
  let stopped = null;
  const stop = () => {
    stopped ??= (async () => {
      try {
        process.kill(-pid, "SIGTERM");
      } catch {
        // already gone
      }
      await Promise.race([exit, sleep(5000)]);
      for (let i = 0; i < 50 && groupPids(pid).length > 0; i++) {
        if (i === 10) {
          try {
            process.kill(-pid, "SIGKILL");
          } catch {}
        }
        await sleep(100);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  const onExit = () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
  };
  process.once("exit", onExit);

  const url = `http://${HOST}:${port}`;
  const started = Date.now();
  while (Date.now() - started < STARTUP_TIMEOUT_MS && !exited) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return { url, port, pid, dir, mode, logPath, stop };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  const tail = fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
  await stop();
  throw new Error(`the broker (${mode}) did not start (${JSON.stringify(exited)}):\n${tail}`);
}

/** The earlier name: the broker as BROKER_RUNNER says (default: as `npm start` runs it). */
export const startWranglerDev = startBroker;
