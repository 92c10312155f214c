#!/usr/bin/env node
// `npm start`: the Worker on 127.0.0.1:$PORT (default 8787) under `wrangler dev`, fully offline, with the
// embedded development defaults (ENVIRONMENT=development) and state persisted under .wrangler/state
// (or $PERSIST_TO: wrangler refuses a second --persist-to, so tests cannot override it by argument).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const port = process.env.PORT || "8787";
const env = {
  ...process.env,
  // No network here or on a launch-day laptop: no telemetry, no Request.cf download (3 s stall).
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG_PATH: process.env.WRANGLER_LOG_PATH || `${root}.wrangler/logs`,
};
const args = [
  "wrangler", "dev",
  "--ip", "127.0.0.1",
  "--port", port,
  "--var", "ENVIRONMENT:development",
  "--persist-to", process.env.PERSIST_TO || ".wrangler/state",
  "--show-interactive-dev-session=false",
  ...process.argv.slice(2),
];
const child = spawn("npx", args, { cwd: root, env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
