#!/usr/bin/env node
// @ts-check
// `npm start`: the Worker on 127.0.0.1:$PORT (default 8787), fully offline, with the embedded development
// defaults (ENVIRONMENT=development) and state persisted under .wrangler/state (or $PERSIST_TO).
//
// First, the licence register's D1 migrations are applied to the same local state (a no-op once
// applied). Then the Worker starts through wrangler's own dev server (the API `wrangler dev` is built
// on: same bundling, custom build, bindings, Miniflare and workerd), and once it answers, the
// development seed route fills the register with its 10,000 synthetic holders (a no-op once seeded).
//
// Why not the `wrangler dev` command: it always attaches its inspector proxy to the Worker, with the
// Network domain on, and that proxy keeps every event the runtime sends until a DevTools window connects
// (InspectorProxyWorker's runtimeMessageBuffer). With no DevTools open, the normal case and always in a
// soak, that buffer only grows. So the inspector is off unless asked for with --inspect (then
// `chrome://inspect` and `npm run gc-probe` work as before). For this Worker the buffer stays small (it
// holds console lines and subrequest events; the Worker logs refusals only and makes few subrequests):
// soaks with and without it ended within each other's noise. The processes' growth is V8's heap sizing
// (`npm run memory-baseline`), not this.
//
//   npm start                                   # 127.0.0.1:8787
//   npm start -- --ip 0.0.0.0 --port 8788       # reachable from a phone on the LAN
//   npm start -- --var PUBLIC_ORIGIN:http://192.168.1.20:8787 --var LOG_REQUESTS:all
//   npm start -- --inspect [--inspector-port 9229]
//   npm start -- --v8-flag=--max-semi-space-size=1   # measuring only: see lab/workerd-v8-flags.mjs
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { toolOptions } from "./lab/cli.mjs";
import { passV8FlagsToWorkerd } from "./lab/workerd-v8-flags.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const USAGE =
  "usage: npm start -- [--ip ADDRESS] [--port PORT] [--var NAME:VALUE]... [--inspect [--inspector-port PORT]] [--v8-flag=FLAG]...";

function options() {
  const { values, fail, int } = toolOptions(
    "start",
    {
      ip: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: process.env.PORT || "8787" },
      var: { type: "string", multiple: true, default: [] },
      inspect: { type: "boolean", default: false },
      "inspector-port": { type: "string", default: "9229" },
      "v8-flag": { type: "string", multiple: true, default: [] },
    },
    USAGE,
  );
  /** @type {Record<string, string>} */
  const vars = {};
  for (const pair of values.var) {
    const colon = pair.indexOf(":");
    if (colon < 1) fail(`--var takes NAME:VALUE, not "${pair}"\n${USAGE}`);
    vars[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return {
    ip: values.ip,
    port: int("port", 1, 65_535),
    vars,
    inspector: /** @type {{ hostname: string, port: number } | false} */ (
      values.inspect ? { hostname: "127.0.0.1", port: int("inspector-port", 1, 65_535) } : false
    ),
    v8Flags: values["v8-flag"],
  };
}

const o = options();
const persistTo = process.env.PERSIST_TO || ".wrangler/state";
// The seed request goes where the server listens: loopback when it listens on every address.
const seedHost = ["0.0.0.0", "::", "localhost"].includes(o.ip) ? "127.0.0.1" : o.ip.includes(":") ? `[${o.ip}]` : o.ip;
const base = `http://${seedHost}:${o.port}`;
// No network here or on a launch-day laptop: no telemetry, no Request.cf download (3 s stall). Set in
// this process too: wrangler's dev server runs in it.
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_LOG_PATH: process.env.WRANGLER_LOG_PATH || `${root}.wrangler/logs`,
});
/** How long to wait for the Worker to answer before giving up on seeding (the server keeps running). */
const READY_TIMEOUT_MS = 120_000;
/** Seeding 10,000 rows takes a second or two locally; allow for a slow, busy machine. */
const SEED_TIMEOUT_MS = 120_000;
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** The command running now (migrations), if any. @type {import("node:child_process").ChildProcess | null} */
let current = null;
/** The started Worker (wrangler's unstable_startWorker, untyped through createRequire). @type {{ ready: Promise<unknown>, dispose(): Promise<void> } | null} */
let worker = null;
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    if (current) current.kill(/** @type {NodeJS.Signals} */ (signal));
    else if (worker) worker.dispose().finally(() => process.exit(0));
    else process.exit(1);
  });
}

/**
 * Runs a command to completion; resolves with its exit code (signals count as failure).
 * @param {string[]} args
 * @param {Record<string, string>} [extraEnv]
 * @returns {Promise<number>}
 */
function run(args, extraEnv = {}) {
  return new Promise((resolve) => {
    const child = spawn("npx", args, { cwd: root, env: { ...process.env, ...extraEnv }, stdio: ["ignore", "inherit", "inherit"] });
    current = child;
    child.on("error", () => resolve(1));
    child.on("exit", (code, signal) => {
      current = null;
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

// 1. The register schema, in the same local state the Worker uses. Without a terminal wrangler would
//    ask "Ok to proceed?"; CI=true (and no stdin) makes it take the default answer, yes.
const migrated = await run(["wrangler", "d1", "migrations", "apply", "REGISTER", "--local", "--persist-to", persistTo], { CI: "true" });
if (stopping) process.exit(1);
if (migrated !== 0) {
  console.error(`register: applying the D1 migrations failed (exit ${migrated}); not starting`);
  process.exit(migrated);
}

// 2. The Worker: wrangler.toml as `wrangler dev` reads it, but built from the development entry
//    (src/dev/index.ts: the production app plus the dev keys and /v1/dev routes; wrangler.toml's `main`
//    is the production entry, which has neither), vars from --var (and PUBLIC_ORIGIN from the
//    environment) over its [vars]. Log level "log" shows the Worker's console output ("info" hides it).
let assertV8FlagsPassed = () => {};
if (o.v8Flags.length > 0) {
  try {
    assertV8FlagsPassed = passV8FlagsToWorkerd(o.v8Flags);
  } catch (err) {
    console.error(`start: ${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    process.exit(2);
  }
}
const { unstable_startWorker: startWorker } = createRequire(import.meta.url)("wrangler");
const vars = { ENVIRONMENT: "development", ...(process.env.PUBLIC_ORIGIN ? { PUBLIC_ORIGIN: process.env.PUBLIC_ORIGIN } : {}), ...o.vars };
try {
  const started = await startWorker({
    config: `${root}wrangler.toml`,
    entrypoint: `${root}src/dev/index.ts`,
    bindings: Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, { type: "plain_text", value }])),
    dev: { server: { hostname: o.ip, port: o.port }, inspector: o.inspector, persist: persistTo, logLevel: "log" },
  });
  worker = started;
  await started.ready;
  assertV8FlagsPassed();
} catch (err) {
  console.error(`start: the Worker did not start: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
if (o.v8Flags.length > 0) console.log(`workerd V8 flags: ${o.v8Flags.join(" ")}`);
if (o.inspector !== false) console.log(`inspector: ws://127.0.0.1:${o.inspector.port} (chrome://inspect)`);

// 3. Seed the register once the Worker answers. Failures here are warnings: the waiting room works
//    without the register, and the server keeps running.
async function waitReady() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
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
    console.warn(`register: the Worker did not answer within ${READY_TIMEOUT_MS / 1000} s; register not seeded`);
    return;
  }
  try {
    const res = await fetch(`${base}/v1/dev/register/seed`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${o.vars.ADMIN_TOKEN || process.env.ADMIN_TOKEN || "dev-admin-token"}`,
      },
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
    /** What the seed route answers (counts of licence holders); every field is checked before use. @type {{ total?: unknown, holders?: unknown, inserted?: unknown }} */
    let body = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Counted below as unknown.
    }
    const total = body.total ?? body.holders ?? body.inserted;
    const added =
      body.inserted === 0
        ? " (already seeded)"
        : typeof body.inserted === "number" && body.inserted !== total
          ? ` (${body.inserted} added now)`
          : "";
    console.log(`register: ${typeof total === "number" ? total : "?"} licence holders${added}`);
  } catch (err) {
    console.warn(`register: seeding failed: ${err instanceof Error ? err.message : err}`);
  }
}
seed();
