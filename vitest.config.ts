import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { buildPages } from "./src/tools/build-pages.mjs";

// The Worker's static assets (the pages' browser bundles) must exist before workerd starts.
await buildPages({ quiet: true });

// Tests run inside workerd, against the Worker and Durable Objects declared in wrangler.toml.
// ENVIRONMENT=development turns on the embedded dev keys; the admission alarm is set far out so that
// tests drive every tick themselves (runDurableObjectAlarm) on a manual clock.
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        cf: false,
        bindings: { ENVIRONMENT: "development", ADMISSION_TICK_MS: "3600000", DEFAULT_ROOMS: "permis" },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report is what .ci/run counts from (src/tools/test-summary.mjs).
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
    // Some HTTP tests drive 150 admission ticks; on 2 busy cores that can take a minute.
    testTimeout: 120_000,
  },
});
