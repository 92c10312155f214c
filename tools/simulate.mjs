#!/usr/bin/env node
// @ts-check
// `npm run simulate`: the launch-day simulator (tools/sim/). Bundles the TypeScript with esbuild for Node,
// runs it, prints the report, and writes reports/simulation.json plus three SVG charts (--out DIR to
// write elsewhere; --publish also writes them to results/simulation/, the copy the README shows).
//
//   npm run simulate -- [--arrivals N] [--hours H] [--shards S] [--admissions-per-minute N] [--active N]
//                       [--isolates N] [--locations N] [--location-skew X] [--cache-race-ms MS] [--snapshot-jitter-ms MS]
//                       [--auth-code-share X] [--ramp-minutes M] [--decay-minutes M]
//                       [--seed N] [--tracked N] [--tick-lag MIN,MAX] [--out DIR] [--publish]
// --rate is the same as --admissions-per-minute. The 10 M run of issue 17 (docs/scaling.md):
//   npm run simulate -- --arrivals 10000000 --admissions-per-minute 100000 --isolates 3000 --shards 32
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const started = performance.now();

// The run allocates many short-lived objects every tick (shard pages, merge buffers, snapshots): with a
// young generation of 128 MB more of them die there instead of being promoted (~10 % faster here).
const YOUNG_GENERATION = "--max-semi-space-size=128";
if (!process.execArgv.includes(YOUNG_GENERATION)) {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, YOUNG_GENERATION, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  process.exit(child.status ?? 1);
}

const { values: args } = parseArgs({
  options: {
    arrivals: { type: "string" },
    hours: { type: "string" },
    shards: { type: "string" },
    rate: { type: "string" },
    "admissions-per-minute": { type: "string" },
    isolates: { type: "string" },
    locations: { type: "string" },
    "location-skew": { type: "string" },
    "cache-race-ms": { type: "string" },
    "snapshot-jitter-ms": { type: "string" },
    "auth-code-share": { type: "string" },
    "ramp-minutes": { type: "string" },
    "decay-minutes": { type: "string" },
    active: { type: "string" },
    seed: { type: "string" },
    tracked: { type: "string" },
    "tick-lag": { type: "string" },
    out: { type: "string" },
    publish: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(
    [
      "npm run simulate -- [options]",
      "  --arrivals N                 people who join (default 3,000,000)",
      "  --hours H                    arrivals happen within H hours (default 6)",
      "  --admissions-per-minute N    the room's new_users_per_minute (default 12,000; --rate is the same)",
      "  --active N                   total_active_users and the backend's capacity (default: 25/6 min × the rate)",
      "  --shards S                   queue shards (default 8, at most 64)",
      "  --isolates N                 Worker isolates in all, spread over locations by traffic (default 3,000)",
      "  --locations N                Cloudflare locations with traffic (default 300)",
      "  --location-skew X            Zipf exponent of traffic over locations (default 1.5)",
      "  --cache-race-ms MS           window in which two isolates can both refresh a location's snapshot (default 2)",
      "  --snapshot-jitter-ms MS      not built: spread each isolate's snapshot expiry over MS, to size that fix (default 0)",
      "  --auth-code-share X          share of people using the browser's authorization code flow (default 0.3)",
      "  --ramp-minutes M             announcement to peak arrival rate (default 30)",
      "  --decay-minutes M            time constant of the decay after the peak (default 75)",
      "  --seed N --tracked N --tick-lag MIN,MAX --out DIR --publish",
    ].join("\n"),
  );
  process.exit(0);
}

/**
 * A numeric flag, or undefined when absent; anything else stops the run before it starts.
 * @param {"arrivals" | "hours" | "shards" | "rate" | "admissions-per-minute" | "active" | "seed" | "tracked" | "isolates" | "locations" | "location-skew" | "cache-race-ms" | "snapshot-jitter-ms" | "auth-code-share" | "ramp-minutes" | "decay-minutes"} name
 */
function num(name, { integer = true, min = 0, max = Number.POSITIVE_INFINITY } = {}) {
  const raw = args[name];
  if (raw === undefined) return undefined;
  const v = Number(raw.replaceAll("_", ""));
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    console.error(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max} (got ${raw})`);
    process.exit(2);
  }
  return v;
}

const lag = args["tick-lag"]?.split(",").map(Number);
if (
  lag &&
  (lag.length !== 2 || lag.some((x) => !Number.isFinite(x) || x < 0) || /** @type {number} */ (lag[0]) > /** @type {number} */ (lag[1]))
) {
  console.error("--tick-lag takes MIN,MAX in milliseconds, e.g. 5,40");
  process.exit(2);
}
if (args.rate !== undefined && args["admissions-per-minute"] !== undefined) {
  console.error("--rate and --admissions-per-minute are the same setting: give one");
  process.exit(2);
}
const ramp = num("ramp-minutes", { integer: false, min: 0.1 });
const decay = num("decay-minutes", { integer: false, min: 0.1 });
const edge = {
  isolates: num("isolates", { min: 1 }),
  locations: num("locations", { min: 1 }),
  locationSkew: num("location-skew", { integer: false }),
  cacheRaceMs: num("cache-race-ms", { integer: false }),
  snapshotJitterMs: num("snapshot-jitter-ms", { integer: false }),
};
const options = {
  arrivals: num("arrivals", { min: 1 }),
  hours: num("hours", { integer: false, min: 0.01 }),
  shards: num("shards", { min: 1 }),
  rate: num("rate", { min: 1 }) ?? num("admissions-per-minute", { min: 1 }),
  authorizationCodeShare: num("auth-code-share", { integer: false, max: 1 }),
  curve: { ...(ramp === undefined ? {} : { rampMinutes: ramp }), ...(decay === undefined ? {} : { decayMinutes: decay }) },
  edge: Object.fromEntries(Object.entries(edge).filter(([, v]) => v !== undefined)),
  active: num("active", { min: 1 }),
  seed: num("seed"),
  trackedUsers: num("tracked"),
  tickLagMs: lag,
};

// The simulator is pure TypeScript; one bundle for Node, rebuilt every run (it takes well under 1 s).
const cacheDir = join(root, "node_modules/.cache/antichambre-sim");
const bundle = join(cacheDir, "sim.mjs");
mkdirSync(cacheDir, { recursive: true });
await build({
  entryPoints: [join(root, "tools/sim/index.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: bundle,
  logLevel: "warning",
});
const sim = await import(`${pathToFileURL(bundle).href}?v=${Date.now()}`);

let config;
try {
  config = sim.simConfig(options);
} catch (e) {
  // The room is validated by the real RoomConfigSchema: out-of-range settings are refused here.
  // A zod error lists its issues; anything else is reported by its message.
  const { issues } = /** @type {{ issues?: Array<{ path: PropertyKey[], message: string }> }} */ (e ?? {});
  const listed = issues?.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; ");
  console.error(`invalid configuration: ${listed ?? (e instanceof Error ? e.message : String(e))}`);
  process.exit(2);
}
console.log(`simulating ${config.arrivals.toLocaleString("en-US")} arrivals over ${config.hours} h …`);
const simStarted = performance.now();
const report = sim.buildReport(sim.runSimulation(config));
const simSeconds = (performance.now() - simStarted) / 1000;

process.stdout.write(sim.formatReport(report));

const charts = sim.renderCharts(report);
const runtime = {
  simulation_seconds: round(simSeconds),
  total_seconds: round((performance.now() - started) / 1000),
  node: process.version,
};
const json = compactNumberArrays(JSON.stringify({ runtime, ...report }, null, 2)) + "\n";
const dirs = [args.out ?? join(root, "reports")];
if (args.publish) dirs.push(join(root, "results/simulation"));
for (const dir of dirs) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "simulation.json"), json);
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(dir, name), svg);
}

const met = report.targets.filter((/** @type {{ met: boolean }} */ t) => t.met).length;
console.log(`\n${met}/${report.targets.length} targets met`);
console.log(`wrote simulation.json and ${Object.keys(charts).join(", ")} to ${dirs.join(" and ")}`);
console.log(`elapsed: simulation ${runtime.simulation_seconds} s, total ${runtime.total_seconds} s`);

/**
 * Indented JSON, but each array of numbers on one line: a few hundred lines instead of thousands.
 * @param {string} text
 */
function compactNumberArrays(text) {
  const numbers = /\[\s+(-?[\d.e+-]+(?:,\s+-?[\d.e+-]+)*)\s+\]/g;
  return text.replace(numbers, (_, /** @type {string} */ list) => `[${list.split(/,\s+/).join(", ")}]`);
}

/** @param {number} x */
function round(x) {
  return Math.round(x * 100) / 100;
}
