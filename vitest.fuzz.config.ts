import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * `npm run test:fuzz`: the seeded fuzz tests (test/fuzz) in the same Workers runtime as
 * `npm test` (same plugin and bindings), kept out of `npm test` for its length. FUZZ_SEED sets
 * the seed.
 */
export default defineConfig({
  plugins: base.plugins,
  define: { __FUZZ_SEED__: JSON.stringify(process.env.FUZZ_SEED ?? "20261130") },
  test: { include: ["test/fuzz/**/*.fuzz.ts"], testTimeout: 110_000 },
});
