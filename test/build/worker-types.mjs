#!/usr/bin/env node
// Is the committed worker-configuration.d.ts what `wrangler types` makes of wrangler.toml today? It
// regenerates beside it and compares the text (npm test runs this with the type-check; `npm run types`
// rewrites it). Why not `wrangler types --check`: this wrangler has it, but it compares only the hash
// in the header, so a hand-edited body passes; the whole text is compared here.
// Offline: wrangler reads wrangler.toml and the entry's exports, nothing from the network.
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const COMMITTED = "worker-configuration.d.ts";
// In the same folder, so the generated import paths ("./src/index") are the same.
const FRESH = "worker-configuration.check.d.ts";
const ARGS = ["wrangler", "types", "--include-runtime=false", "--strict-vars=false"];

const r = spawnSync("npx", [...ARGS, FRESH], {
  cwd: root,
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  encoding: "utf8",
});
// process.exitCode, not process.exit: the fresh file must be removed whatever the outcome.
try {
  if (r.status !== 0) {
    console.error(`wrangler types failed:\n${r.stdout}\n${r.stderr}`);
    process.exitCode = 1;
  } else {
    // The header names the output file; nothing else may differ.
    const fresh = readFileSync(join(root, FRESH), "utf8").replace(FRESH, COMMITTED);
    const committed = readFileSync(join(root, COMMITTED), "utf8");
    if (fresh === committed) {
      console.log(`${COMMITTED} matches wrangler.toml`);
    } else {
      console.error(`${COMMITTED} is stale: wrangler.toml changed since it was generated. Run \`npm run types\` and commit it.`);
      process.exitCode = 1;
    }
  }
} finally {
  rmSync(join(root, FRESH), { force: true });
}
