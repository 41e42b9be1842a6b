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
  },
});
