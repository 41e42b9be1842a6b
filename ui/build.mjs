// Builds the management UI (ui/src, TypeScript + Preact) into dist/ui, the directory wrangler
// serves as static assets (wrangler.jsonc "assets"). Runs on install (`prepare`) and before
// `npm start` and `npm test`, so nothing is built by hand. `--watch` rebuilds on change.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.join(root, "..", "dist", "ui");

fs.rmSync(outdir, { recursive: true, force: true });
fs.mkdirSync(outdir, { recursive: true });
for (const file of fs.readdirSync(path.join(root, "static"))) {
  fs.copyFileSync(path.join(root, "static", file), path.join(outdir, file));
}
// The API reference page (/api/docs, src/api/openapi.ts) renders with Swagger UI: its two files
// come from the swagger-ui-dist package, served from here rather than from a CDN.
const swaggerUi = path.dirname(
  createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"),
);
fs.mkdirSync(path.join(outdir, "api-docs"));
for (const file of ["swagger-ui.css", "swagger-ui-bundle.js"]) {
  fs.copyFileSync(path.join(swaggerUi, file), path.join(outdir, "api-docs", file));
}

const options = {
  entryPoints: { app: path.join(root, "src", "main.tsx") },
  outdir,
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "linked",
  logLevel: "warning",
};

if (process.argv.includes("--watch")) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log(`watching ui/src, writing ${path.relative(process.cwd(), outdir)}`);
} else {
  await esbuild.build(options);
}
