import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { buildPages } from "./tools/build-pages.mjs";

// Node's environment (the project's types are the Workers', which have no `process`).
const { env } = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process;

// The Worker's static assets (the pages' browser bundles) must exist before workerd starts.
await buildPages({ quiet: true });

// Tests run inside workerd, against the Worker and Durable Objects declared in wrangler.toml, built from
// the development entry (src/dev/index.ts: the production app plus the development kit, with the same
// Durable Object classes). ENVIRONMENT=development turns the kit's dev keys and /v1/dev routes on; the
// admission alarm is set far out so that tests drive every tick themselves (runDurableObjectAlarm) on a
// manual clock.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./src/dev/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        cf: false,
        bindings: { ENVIRONMENT: "development", ADMISSION_TICK_MS: "3600000", DEFAULT_ROOMS: "permis" },
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report is what .ci/run counts from (tools/test-summary.mjs).
    reporters: ["default", "json"],
    outputFile: { json: "reports/vitest.json" },
    // Some HTTP tests drive 150 admission ticks; on 2 busy cores that can take a minute.
    testTimeout: 120_000,
    // Property tests (test/property) read these inside workerd, where process.env is empty: FC_SEED
    // replays a run, FC_RUNS scales every property's numRuns (e.g. 10 for a long soak).
    provide: { FC_SEED: env.FC_SEED ?? "", FC_RUNS: env.FC_RUNS ?? "" },
  },
});
