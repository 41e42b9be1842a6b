// Starts the broker the way `npm start` does, for fault tests: the command is package.json's
// start script, with its port and state directory replaced (`--port`, `--persist-to`; also
// given as PORT / BROKER_PORT / BROKER_STATE_DIR for a start script that reads those), run by
// sh in its own process group so that a crash can kill -9 exactly that group. Loopback only.

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { groupPids, ROOT } from "../support/wrangler-dev.mjs";

export const HOST = "127.0.0.1";
const STARTUP_TIMEOUT_MS = 90_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
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
 * Starts one broker process group on `stateDir`; answers { url, pgid, kill, stop }.
 * `kill()` is the crash: SIGKILL to the whole group, then waits until none of it is left.
 */
export async function startBroker(stateDir, logPath) {
  const port = await freePort();
  const command = startCommand(port, stateDir);
  const bin = path.join(ROOT, "node_modules", ".bin");
  const log = fs.openSync(logPath, "a");
  fs.writeSync(log, `\n--- ${new Date().toISOString()} ${command}\n`);
  const child = spawn("sh", ["-c", command], {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}`,
      PORT: String(port),
      BROKER_PORT: String(port),
      BROKER_STATE_DIR: stateDir,
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
    },
  });
  fs.closeSync(log);
  const pgid = child.pid;
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  const signalGroup = (signal) => {
    try {
      process.kill(-pgid, signal);
    } catch {
      // already gone
    }
  };
  const gone = async () => {
    for (let i = 0; i < 100 && groupPids(pgid).length > 0; i++) await sleep(50);
    return groupPids(pgid).length === 0;
  };
  const kill = async () => {
    signalGroup("SIGKILL");
    if (!(await gone())) throw new Error(`process group ${pgid} survived SIGKILL`);
  };
  const stop = async () => {
    signalGroup("SIGTERM");
    if (!(await gone())) await kill();
  };
  process.once("exit", () => signalGroup("SIGKILL"));
  const url = `http://${HOST}:${port}`;
  const started = Date.now();
  while (Date.now() - started < STARTUP_TIMEOUT_MS && !exited) {
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return { url, pgid, kill, stop };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await kill();
  const tail = fs.readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
  throw new Error(`the broker did not start:\n${tail}`);
}
