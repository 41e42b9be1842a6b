#!/usr/bin/env node
// The package's command (`npx workers-broker amqp --broker https://...`). Runs the compiled
// bridge when the package was built (npm pack / install from git: dist/bridge), else the
// TypeScript sources directly (Node >= 22.6 strips types; not for files under node_modules).
import fs from "node:fs";

const compiled = new URL("../dist/bridge/cli.js", import.meta.url);
const { main } = await import(fs.existsSync(compiled) ? compiled.href : "./cli.ts");
await main(process.argv.slice(2)).catch((error) => {
  console.error(error.message);
  process.exit(1);
});
