// @ts-check
// The runtime the benchmark measures: the real Worker bundle (`wrangler deploy --dry-run`, exactly what
// would be deployed) and the benchmark-only Workers of tools/bench/workers/ (esbuild, the same settings wrangler
// uses), all in ONE Miniflare instance, that is one workerd process, with the bindings of wrangler.toml.
//
// Each Worker is reached on a socket of its own (`unsafeDirectSockets`), not through Miniflare's entry
// Worker: that entry hop exists only locally (it routes and adds `request.cf`), costs more than a
// hello-world Worker itself on these machines, and would dilute every ratio. Real Worker, hello world and
// floors are all reached the same way.
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Log, LogLevel, Miniflare } from "miniflare";
import { databaseBytes } from "./sqlite-size.mjs";
import { freePort } from "../lib/processes.mjs";

const require = createRequire(import.meta.url);

/** Worker names inside the Miniflare instance. */
export const WORKERS = {
  /** The real Worker, register read without simulated latency (what a deployment does). */
  app: "antichambre",
  /** The same bundle with the register gate opened wide (64 reads in flight instead of 8): what the gate costs. */
  appOpenGate: "antichambre-open-gate",
  /** The same bundle with wrangler.toml's vars as `npm start` uses them (40 ms simulated register read). */
  appDevRegister: "antichambre-dev-register",
  hello: "bench-hello",
  floor: "bench-floor",
};

export { freePort };

/**
 * What the bench reads of wrangler.toml.
 * @typedef {{
 *   compatibilityDate: string,
 *   compatibilityFlags: string[],
 *   vars: Record<string, string>,
 *   durableObjects: Array<{ name: string, className: string, useSQLite: boolean }>,
 *   d1: Array<{ binding: string, id: string }>,
 * }} BenchConfig
 */

/**
 * wrangler.toml as wrangler itself reads it (compatibility date, vars, Durable Objects, D1, migrations).
 * @param {string} root
 * @returns {BenchConfig}
 */
export function readWranglerConfig(root) {
  const { unstable_readConfig } = require("wrangler");
  /**
   * The part of wrangler's (untyped here: loaded through require) config read below.
   * @type {{
   *   compatibility_date: string, compatibility_flags?: string[], vars?: Record<string, unknown>,
   *   migrations: Array<{ new_sqlite_classes?: string[] }>,
   *   durable_objects: { bindings: Array<{ name: string, class_name: string }> },
   *   d1_databases: Array<{ binding: string, database_id: string }>,
   * }}
   */
  const config = unstable_readConfig({ config: join(root, "wrangler.toml") });
  const sqliteClasses = new Set(config.migrations.flatMap((m) => m.new_sqlite_classes ?? []));
  return {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    vars: Object.fromEntries(Object.entries(config.vars ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
    durableObjects: config.durable_objects.bindings.map((b) => ({
      name: b.name,
      className: b.class_name,
      useSQLite: sqliteClasses.has(b.class_name),
    })),
    d1: config.d1_databases.map((d) => ({ binding: d.binding, id: d.database_id })),
  };
}

/**
 * Runs a command to completion, output captured; rejects with the tail of the output on failure.
 * @typedef {(child: import("node:child_process").ChildProcess | null) => void} OnChild
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd: string, env: Record<string, string>, onChild?: OnChild }} options
 * @returns {Promise<string>}
 */
function runQuiet(cmd, args, { cwd, env, onChild }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    onChild?.(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      onChild?.(null);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited ${code ?? signal}:\n${out.slice(-2000)}`));
    });
  });
}

/**
 * The Worker's bundle, built by wrangler as `npm run build` does (same bundling) but from the development
 * entry, into `outdir`: the production bundle has no dev keys or /v1/dev routes, which the bench uses.
 * Returns the main module's path. `onChild` lets the caller kill the build if interrupted.
 * @param {string} root
 * @param {string} outdir
 * @param {string} workDir
 * @param {OnChild} [onChild]
 */
export async function buildAppBundle(root, outdir, workDir, onChild) {
  await runQuiet("npx", ["wrangler", "deploy", "src/dev/index.ts", "--dry-run", "--outdir", outdir], {
    cwd: root,
    env: {
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_LOG_PATH: join(workDir, "wrangler-logs"),
      NO_COLOR: "1",
      CI: "true",
    },
    onChild,
  });
  const main = readdirSync(outdir).find((f) => /\.m?js$/.test(f));
  if (!main) throw new Error(`wrangler produced no JavaScript in ${outdir}`);
  return join(outdir, main);
}

/**
 * A benchmark-only Worker of tools/bench/workers/, bundled with the settings wrangler uses for workerd.
 * @param {string} root
 * @param {string} entry
 * @param {string} outfile
 */
export async function buildBenchWorker(root, entry, outfile) {
  const esbuild = require("esbuild");
  await esbuild.build({
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["browser", "module", "main"],
    external: ["cloudflare:*", "node:*"],
    logLevel: "silent",
  });
  return outfile;
}

/** Ends esbuild's background service (started by the first build), so no child outlives the builds. */
export async function stopBundler() {
  await require("esbuild").stop?.();
}

/**
 * Starts the one Miniflare instance. `ports` are chosen by the caller (the floor Worker must know the real
 * Worker's origin to check proofs made for it). Persistence goes to `persistDir` (Durable Objects and D1
 * on disk, as under `wrangler dev`): the memory phase measures the real SQLite files there.
 * @param {{
 *   config: BenchConfig, appBundle: string, helloBundle: string, floorBundle: string, persistDir: string,
 *   ports: Record<"app" | "appOpenGate" | "appDevRegister" | "hello" | "floor", number>,
 *   registerLatencyMs: number, openGateSlots: number,
 * }} options
 */
export async function startRuntime({ config, appBundle, helloBundle, floorBundle, persistDir, ports, registerLatencyMs, openGateSlots }) {
  // The benchmark drives one ticket, one device key, one person, a few issuance sessions and one address
  // from 50 connections: exactly what the per-client limits exist to refuse. The limits stay on with a
  // ceiling no load reaches, so every request still pays for its bucket; proof of work is never asked
  // (its cost is the client's by design, the server's share being one HMAC check and one ReplayGuard
  // claim per join, not measured here).
  const ceiling = "999999999/1";
  const benchAbuseVars = {
    ...Object.fromEntries(
      [
        "POLL",
        "JOIN_DEVICE",
        "JOIN_CLIENT",
        "JOIN_PERSON",
        "TOKEN_CLIENT",
        "TOKEN_CODE",
        "NONCE_CLIENT",
        "CREDENTIAL_SESSION",
        "NOTIFICATION_CLIENT",
        "ADMIN_CLIENT",
        "ADMIN_LOGIN_CLIENT",
      ].map((scope) => [`RATE_LIMIT_${scope}`, ceiling]),
    ),
    POW_BUSY_ARRIVALS_PER_SECOND: "1000000000",
  };
  const devVars = { ...config.vars, ENVIRONMENT: "development", ...benchAbuseVars };
  const appDurableObjects = (/** @type {string | null} */ scriptName) =>
    Object.fromEntries(
      config.durableObjects.map((d) => [d.name, { className: d.className, useSQLite: d.useSQLite, ...(scriptName ? { scriptName } : {}) }]),
    );
  const d1Databases = Object.fromEntries(config.d1.map((d) => [d.binding, d.id]));
  // wrangler's default rules load `.sql` files as text (the register's migration, src/register/schema.ts):
  // the bundle keeps them as separate modules, so Miniflare needs the same rule to load it.
  const common = {
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    modules: true,
    modulesRules: [{ type: /** @type {const} */ ("Text"), include: ["**/*.sql"] }],
  };
  const socket = (/** @type {number} */ port) => [{ host: "127.0.0.1", port }];
  const mf = new Miniflare({
    log: new Log(LogLevel.NONE),
    cf: false,
    // workerd's own stdout/stderr (uncaught errors, console.log) are drained, not printed: logging off.
    handleRuntimeStdio(/** @type {import("node:stream").Readable} */ stdout, /** @type {import("node:stream").Readable} */ stderr) {
      stdout.resume();
      stderr.resume();
    },
    durableObjectsPersist: join(persistDir, "do"),
    d1Persist: join(persistDir, "d1"),
    workers: [
      {
        ...common,
        name: WORKERS.app,
        scriptPath: appBundle,
        modulesRoot: dirname(appBundle),
        bindings: { ...devVars, REGISTER_LATENCY_MS: String(registerLatencyMs) },
        durableObjects: appDurableObjects(null),
        d1Databases,
        unsafeDirectSockets: socket(ports.app),
      },
      {
        ...common,
        name: WORKERS.appOpenGate,
        scriptPath: appBundle,
        modulesRoot: dirname(appBundle),
        bindings: { ...devVars, REGISTER_LATENCY_MS: String(registerLatencyMs), REGISTER_MAX_CONCURRENCY: String(openGateSlots) },
        durableObjects: appDurableObjects(WORKERS.app),
        d1Databases,
        unsafeDirectSockets: socket(ports.appOpenGate),
      },
      {
        ...common,
        name: WORKERS.appDevRegister,
        scriptPath: appBundle,
        modulesRoot: dirname(appBundle),
        bindings: devVars,
        // The same objects and database as the first: one service, two configurations of its front end.
        durableObjects: appDurableObjects(WORKERS.app),
        d1Databases,
        unsafeDirectSockets: socket(ports.appDevRegister),
      },
      {
        ...common,
        name: WORKERS.hello,
        scriptPath: helloBundle,
        modulesRoot: dirname(helloBundle),
        unsafeDirectSockets: socket(ports.hello),
      },
      {
        ...common,
        name: WORKERS.floor,
        scriptPath: floorBundle,
        modulesRoot: dirname(floorBundle),
        bindings: { TARGET_ORIGIN: `http://127.0.0.1:${ports.app}` },
        d1Databases,
        durableObjects: {
          FLOOR_SHARD: { className: "FloorShard", useSQLite: true },
          QUEUE_SHARD: { className: "QueueShard", scriptName: WORKERS.app, useSQLite: true },
          REPLAY_GUARD: { className: "ReplayGuard", scriptName: WORKERS.app, useSQLite: true },
          ISSUANCE_SESSIONS: { className: "IssuanceSessions", scriptName: WORKERS.app, useSQLite: true },
          ROOM_COORDINATOR: { className: "RoomCoordinator", scriptName: WORKERS.app, useSQLite: true },
          FLOOR_COORDINATOR: { className: "FloorCoordinator", useSQLite: true },
        },
        unsafeDirectSockets: socket(ports.floor),
      },
    ],
  });
  await mf.ready;
  const urls = Object.fromEntries(Object.entries(ports).map(([k, port]) => [k, `http://127.0.0.1:${port}`]));
  return { mf, urls };
}

// ---- workerd processes and their memory -----------------------------------------------------------------

/**
 * Descendants of `pid` (Linux /proc), with their command names.
 * @param {number} pid
 */
function descendants(pid) {
  /** @type {Map<number, Array<{ pid: number, comm: string }>>} */
  const children = new Map();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const siblings = children.get(ppid) ?? [];
      children.set(ppid, siblings);
      siblings.push({ pid: Number(name), comm });
    } catch {
      // Exited while reading.
    }
  }
  /** @type {Array<{ pid: number, comm: string }>} */
  const out = [];
  const walk = (/** @type {number} */ p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(pid);
  return out;
}

/** The workerd process(es) this Node process started (through Miniflare). */
export function workerdPids() {
  return descendants(process.pid)
    .filter((p) => p.comm.startsWith("workerd"))
    .map((p) => p.pid);
}

/**
 * Resident memory (VmRSS) of the given processes, summed, in bytes; processes gone are skipped.
 * @param {number[]} pids
 */
export function rssBytes(pids) {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // Gone.
    }
  }
  return total;
}

/**
 * VmRSS and its anonymous part (heaps, caches; not file mappings), summed over processes, in bytes.
 * @param {number[]} pids
 */
export function memoryOf(pids) {
  let rss = 0;
  let anon = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      rss += Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * 1024;
      anon += Number(/^RssAnon:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // Gone.
    }
  }
  return { rss, anon };
}

/**
 * Samples RSS every `everyMs` until stopped; returns {max, mean, samples}.
 * @param {number[]} pids
 */
export function sampleRss(pids, everyMs = 200) {
  const samples = [rssBytes(pids)];
  const timer = setInterval(() => samples.push(rssBytes(pids)), everyMs);
  return {
    stop() {
      clearInterval(timer);
      samples.push(rssBytes(pids));
      const max = Math.max(...samples);
      const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
      return { max, mean, samples: samples.length };
    },
  };
}

// ---- SQLite files of Durable Objects ---------------------------------------------------------------------

/**
 * Every file under `dir` (recursively) whose name starts with one of `ids`, with its size.
 * @param {string} dir
 * @param {Iterable<string>} ids
 */
export function sqliteFiles(dir, ids) {
  const wanted = new Set(ids);
  /** @type {Array<{ path: string, id: string, name: string, bytes: number }>} */
  const out = [];
  const walk = (/** @type {string} */ d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        // split() always answers at least one piece.
        const id = /** @type {string} */ (/** @type {string} */ (e.name.split(".")[0]).split("-")[0]);
        if (wanted.has(id)) out.push({ path: p, id, name: e.name, bytes: statSync(p).size });
      }
    }
  };
  try {
    walk(dir);
  } catch {
    // Not created yet.
  }
  return out;
}

/**
 * Sizes of a set of objects' SQLite files: main database files, WAL files, everything on disk, and the
 * databases' own size (pages after the last commit × page size: the main files once checkpointed).
 * @param {string} dir
 * @param {Iterable<string>} ids
 */
export function sqliteSizes(dir, ids) {
  const files = sqliteFiles(dir, ids);
  const sum = (/** @type {(file: { name: string, bytes: number }) => boolean} */ f) => files.filter(f).reduce((a, x) => a + x.bytes, 0);
  const mains = files.filter((f) => f.name.endsWith(".sqlite"));
  return {
    objects: mains.length,
    main: sum((f) => f.name.endsWith(".sqlite")),
    wal: sum((f) => f.name.endsWith("-wal")),
    total: sum(() => true),
    database: mains.reduce((a, f) => a + databaseBytes(f.path), 0),
  };
}

/** @param {string} dir */
export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}
