#!/usr/bin/env node
// `npm start`: the Worker on 127.0.0.1:$PORT (default 8787) under `wrangler dev`, fully offline, with the
// embedded development defaults (ENVIRONMENT=development) and state persisted under .wrangler/state
// (or $PERSIST_TO: wrangler refuses a second --persist-to, so tests cannot override it by argument).
//
// First, the licence register's D1 migrations are applied to the same local state (a no-op once
// applied). Once the Worker answers, the development seed route fills the register with its 10,000
// synthetic holders (a no-op once seeded) and the count is printed.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const port = process.env.PORT || "8787";
const persistTo = process.env.PERSIST_TO || ".wrangler/state";
const base = `http://127.0.0.1:${port}`;
const env = {
  ...process.env,
  // No network here or on a launch-day laptop: no telemetry, no Request.cf download (3 s stall).
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG_PATH: process.env.WRANGLER_LOG_PATH || `${root}.wrangler/logs`,
};
/** How long to wait for the Worker to answer before giving up on seeding (the server keeps running). */
const READY_TIMEOUT_MS = 120_000;
/** Seeding 10,000 rows takes a second or two locally; allow for a slow, busy machine. */
const SEED_TIMEOUT_MS = 120_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let current = null;
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopping = true;
    if (current) current.kill(signal);
    else process.exit(1);
  });
}

/** Runs a command to completion; resolves with its exit code (signals count as failure). */
function run(args, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn("npx", args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
    current = child;
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => {
      current = null;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// 1. The register schema, in the same local state wrangler dev uses. Without a terminal wrangler would
//    ask "Ok to proceed?"; CI=true (and no stdin) makes it take the default answer, yes.
const migrated = await run(["wrangler", "d1", "migrations", "apply", "REGISTER", "--local", "--persist-to", persistTo], { CI: "true" });
if (stopping) process.exit(1);
if (migrated !== 0) {
  console.error(`register: applying the D1 migrations failed (exit ${migrated}); not starting`);
  process.exit(migrated);
}

// 2. The Worker.
const args = [
  "wrangler", "dev",
  "--ip", "127.0.0.1",
  "--port", port,
  "--var", "ENVIRONMENT:development",
  "--persist-to", persistTo,
  "--show-interactive-dev-session=false",
  ...process.argv.slice(2),
];
const child = spawn("npx", args, { cwd: root, env, stdio: "inherit" });
current = child;
let exited = false;
child.on("exit", (code, signal) => {
  exited = true;
  process.exit(code ?? (signal ? 1 : 0));
});

// 3. Seed the register once the Worker answers. Failures here are warnings: the waiting room works
//    without the register, and the server keeps running.
async function waitReady() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !exited) {
    try {
      const res = await fetch(`${base}/v1/rooms/permis`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  return false;
}

async function seed() {
  if (!(await waitReady())) {
    if (!exited) console.warn(`register: the Worker did not answer within ${READY_TIMEOUT_MS / 1000} s; register not seeded`);
    return;
  }
  try {
    const res = await fetch(`${base}/v1/dev/register/seed`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${process.env.ADMIN_TOKEN || "dev-admin-token"}` },
      body: "{}",
      signal: AbortSignal.timeout(SEED_TIMEOUT_MS),
    });
    const text = await res.text();
    if (res.status === 404) {
      console.warn("register: no seed route (POST /v1/dev/register/seed answered 404); register not seeded");
      return;
    }
    if (!res.ok) {
      console.warn(`register: seeding failed (${res.status}): ${text.slice(0, 300)}`);
      return;
    }
    let body = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Counted below as unknown.
    }
    const total = body.total ?? body.holders ?? body.inserted;
    const added = body.inserted === 0 ? " (already seeded)" : typeof body.inserted === "number" && body.inserted !== total ? ` (${body.inserted} added now)` : "";
    console.log(`register: ${typeof total === "number" ? total : "?"} licence holders${added}`);
  } catch (err) {
    if (!exited) console.warn(`register: seeding failed: ${err instanceof Error ? err.message : err}`);
  }
}
seed();
