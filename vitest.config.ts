import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        bindings: {
          BROKER_ADMIN_USER: "guest",
          BROKER_ADMIN_PASSWORD: "guest",
          MAX_MESSAGE_BYTES: "65536",
          NOTIFICATION_TOKEN_SECRET: "test-token-secret",
          // test/api/metrics.test.ts scrapes with it as a bearer token.
          METRICS_TOKEN: "test-metrics-token-0123456789",
          // Small, so retention is testable; test/notifications/inbox.test.ts relies on it.
          INBOX_MAX_NOTIFICATIONS: "30",
        },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // A guard against hangs, not a speed assertion: on a loaded 2-core machine a file's first
    // test pays workerd's module load, which can pass vitest's 5 s default.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // test/api/batched-frames.test.ts aborts a queue object on purpose (state.abort("simulated
    // crash")). Under the pool, a rejecting Durable Object call can also surface as one unhandled
    // rejection although the test catches it (cloudflare/workers-sdk#14736), which fails a green
    // run depending on timing. Only that deliberate crash is forgiven; any other unhandled error
    // still fails the run.
    onUnhandledError(error) {
      const text = `${error.message ?? ""} ${"stack" in error ? (error.stack ?? "") : ""}`;
      if (text.includes("simulated crash")) return false;
    },
  },
});
