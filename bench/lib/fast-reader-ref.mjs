// The commit before the fast publish reader (src/protocol/publish-fast-read.ts) came in: the
// "before" side of the benchmarks that measure it (BENCH_BEFORE_REF overrides).

import { execFileSync } from "node:child_process";
import { ROOT } from "./root.mjs";

export function git(...args) {
  return execFileSync("git", args, { cwd: ROOT, encoding: "utf8" }).trim();
}

export function beforeFastReader() {
  if (process.env.BENCH_BEFORE_REF) return process.env.BENCH_BEFORE_REF;
  const added = git(
    "log",
    "--diff-filter=A",
    "--format=%H",
    "--",
    "src/protocol/publish-fast-read.ts",
  ).split("\n");
  const first = added.at(-1);
  if (!first) throw new Error("no commit adds the fast reader: set BENCH_BEFORE_REF");
  return `${first}^`;
}
