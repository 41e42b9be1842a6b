#!/usr/bin/env node
/**
 * `npm start`: the Worker in Miniflare directly (the same workerd runtime `wrangler dev` uses),
 * without wrangler's dev proxy process in front of it, configured from wrangler.jsonc through
 * wrangler's own helper (unstable_getMiniflareWorkerOptions), state persisted where
 * `wrangler dev --persist-to DIR` keeps it (DIR/v3/do/<worker>-<Class>/<id>.sqlite), so the two
 * share one state. No live reload: that is `npm run dev` (wrangler dev).
 *
 *   node scripts/start.mjs [--ip 127.0.0.1] [--port 8787] [--persist-to .wrangler/state]
 *                          [--config wrangler.jsonc] [--var NAME:VALUE ...]
 *
 * The Worker is bundled first by wrangler itself (`wrangler deploy --dry-run --outdir`), so the
 * bundle is what a deploy would upload. Stops cleanly on SIGINT/SIGTERM.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

// Offline machines: no Request.cf download, no metrics (set before wrangler/miniflare load).
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
process.env.WRANGLER_SEND_METRICS ??= "false";

const { unstable_getMiniflareWorkerOptions, unstable_readConfig } = await import("wrangler");
const { Miniflare, convertV4MiniflareOptions } = await import("miniflare");

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    ip: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8787" },
    "persist-to": { type: "string", default: ".wrangler/state" },
    config: { type: "string", default: "wrangler.jsonc" },
    var: { type: "string", multiple: true, default: [] },
  },
});

// Relative paths are the caller's, as wrangler's own flags.
const configPath = resolve(values.config);
const persistTo = resolve(values["persist-to"]);
const vars = {};
for (const entry of values.var) {
  const at = entry.indexOf(":");
  if (at <= 0) throw new Error(`--var takes NAME:VALUE, not ${entry}`);
  vars[entry.slice(0, at)] = entry.slice(at + 1);
}

// 1. Bundle as a deploy would.
const outdir = join(persistTo, "..", "start-build");
mkdirSync(outdir, { recursive: true });
// This Node (the pinned one under npm scripts): wrangler refuses older ones.
const wrangler = join(root, "node_modules", "wrangler", "bin", "wrangler.js");
const build = spawnSync(
  process.execPath,
  [wrangler, "deploy", "--dry-run", "--outdir", outdir, "--config", configPath],
  { cwd: dirname(configPath), stdio: ["ignore", "ignore", "inherit"], env: process.env },
);
if (build.status !== 0) {
  console.error(`wrangler deploy --dry-run failed (exit ${build.status})`);
  process.exit(1);
}
const config = unstable_readConfig({ config: configPath });
const scriptPath = join(outdir, "index.js");
if (!existsSync(scriptPath)) throw new Error(`no bundle at ${scriptPath}`);

// 2. wrangler.jsonc -> Miniflare options, with the bundle as the script.
const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);
const { modulesRules: _rules, rootPath: _root, ...options } = workerOptions;
const miniflare = new Miniflare(
  convertV4MiniflareOptions({
    ...options,
    // The worker's name decides the state folder of each Durable Object class, as wrangler's.
    name: config.name,
    modules: true,
    scriptPath,
    modulesRoot: outdir,
    bindings: { ...options.bindings, ...vars },
    host: values.ip,
    port: Number(values.port),
    // As wrangler dev --persist-to DIR (its getDefaultPersistRoot): DIR/v3, Durable Objects under do/.
    resourcePersistencePath: join(persistTo, "v3"),
    ...(process.env.BROKER_INSPECTOR_PORT
      ? { inspectorPort: Number(process.env.BROKER_INSPECTOR_PORT) }
      : {}),
  }),
);
const url = await miniflare.ready;
console.log(`Ready on ${url.origin} (Miniflare, state in ${values["persist-to"]})`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await miniflare.dispose();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
