#!/usr/bin/env node
// @ts-check
// `npm run bench`: how fast the hot paths are against the floor of what they must do, measured side by
// side in one run, in one runtime. A benchmark, not a test: it asserts nothing about speed; it prints raw
// figures, ratios against their targets (met / MISSED), and writes reports/bench.json.
//
//   npm run bench                      (about three minutes)
//   npm run bench -- --publish         also rewrites results/bench/latest.md (the README's table)
//   npm run bench -- --help
//
// The runtime: the deployable bundle (`wrangler deploy --dry-run`) and the benchmark-only Workers of
// tools/bench/workers/ (a hello world, and the floors) in ONE Miniflare instance (one workerd process), each on a
// loopback socket of its own, `cf` off, logging off, with wrangler.toml's bindings and ENVIRONMENT=
// development. Not `wrangler dev`, whose proxy costs more than the work measured. State is persisted to a
// temporary directory, on tmpfs (/dev/shm) by default: a local disk's fsync per Durable Object commit
// would otherwise set every figure that writes (and make the 100,000-person fill take minutes);
// `--disk` puts it on the disk instead.
//
// Scenarios, each against its reference measured in the same run:
//   a) ticket poll (GET …/tickets/current, a real waiting ticket)      vs hello world          ≥ 0.6×
//   b) join (POST …/tickets, every request a new person and device)   vs one DO RPC + insert  ≥ 0.8×
//      and, because a join must also verify two ES256 signatures,     vs that crypto + RPC + insert
//   c) mdoc credential request (POST /credential)                      vs its own signature work ≥ 0.5×
//      and, side by side, object round trips before/after: the credential's objects, one session's
//      start + end (coordinator then, session object now), and (b) an isolate's snapshot miss
//      (coordinator RPC then, the location's Cache API copy now)
//   d) Durable Object bytes per waiting person (100,000 joined, real QueueShard SQLite files) ≤ 256 B;
//      workerd RSS at idle, under load, and with 100,000 waiting (must not grow with the number waiting).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, accessSync, constants } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  ADMIN_TOKEN,
  Device,
  admittedSession,
  expectStatus,
  http,
  joinPerson,
  mapPool,
  poll,
  pregenerateCredentialRequests,
  pregenerateJoins,
  putRoom,
  roomStats,
} from "./bench/client.mjs";
import { combine, feed, round, stopCurrentLoad } from "./bench/load.mjs";
import { loadTable, markdown, mib, memoryTable, ratioTable } from "./bench/report.mjs";
import {
  buildAppBundle,
  buildBenchWorker,
  freePort,
  memoryOf,
  readWranglerConfig,
  sqliteSizes,
  startRuntime,
  stopBundler,
  WORKERS,
  workerdPids,
} from "./bench/runtime.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REPORTS = join(ROOT, "reports");
const LATEST_MD = join(ROOT, "results/bench/latest.md");

const { values: args } = parseArgs({
  options: {
    publish: { type: "boolean", default: false },
    seconds: { type: "string", default: "6" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    waiting: { type: "string", default: "100000" },
    disk: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`npm run bench [-- options]
  --publish          also write results/bench/latest.md (markdown table for the README)
  --seconds N        timed run per scenario (default 6)
  --warmup N         warm-up before each timed run (default 2)
  --connections N    autocannon connections (default 50)
  --waiting N        people joined for the memory phase (default 100000)
  --disk             persist Durable Objects and D1 on disk (os.tmpdir()) instead of tmpfs (/dev/shm)`);
  process.exit(0);
}
const SECONDS = positive(args.seconds, "--seconds");
const WARMUP = nonNegative(args.warmup, "--warmup");
const CONNECTIONS = positive(args.connections, "--connections");
const WAITING = positive(args.waiting, "--waiting");
/** Reads in flight per isolate for the "gate opened" variant (wrangler.toml has 8). */
const OPEN_GATE_SLOTS = 64;
/** The memory phase's polls are shorter: they are there for memory, not throughput. */
const MEMORY_POLL = { warmup: 1, seconds: 4 };
/**
 * RSS growth still counted as "does not grow with the number waiting": 100 bytes per waiting person
 * (about 10 MB at 100,000), well above run-to-run noise and far below any per-person state.
 */
const RSS_GROWTH_LIMIT_BYTES = WAITING * 100;

/**
 * @param {string} value
 * @param {string} name
 */
function positive(value, name) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${name} must be a positive number, got ${value}`);
    process.exit(2);
  }
  return n;
}

/**
 * @param {string} value
 * @param {string} name
 */
function nonNegative(value, name) {
  return Number(value) === 0 ? 0 : positive(value, name);
}

// ---- progress, and cleanup on every way out -------------------------------------------------------------

const t0 = Date.now();
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
/** @param {string} msg */
function log(msg) {
  const s = Math.floor((Date.now() - t0) / 1000);
  console.log(`[${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${msg}`);
}
const int = (/** @type {number} */ n) => Math.round(n).toLocaleString("en-US");
const fmtMs = (/** @type {number} */ n) => (n >= 10 ? n.toFixed(0) : n.toFixed(1));

/** @type {string | null} */
let work = null;
/** @type {Awaited<ReturnType<typeof startRuntime>> | null} */
let runtime = null;
/** @type {import("node:child_process").ChildProcess | null} */
let buildChild = null;
/** workerd processes started through Miniflare: killed by pid if a graceful dispose did not end them. @type {Set<number>} */
const knownPids = new Set();

/** @param {number} pid */
function isWorkerd(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("workerd");
  } catch {
    return false;
  }
}

function killLeftovers() {
  for (const pid of knownPids) {
    if (isWorkerd(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  knownPids.clear();
}

async function stopRuntime() {
  const r = runtime;
  runtime = null;
  if (r) await Promise.race([r.mf.dispose().catch(() => {}), sleep(15_000)]);
  // dispose() waits for workerd to exit; give a straggler a moment before the kill.
  for (let i = 0; i < 20 && [...knownPids].some(isWorkerd); i++) await sleep(100);
  killLeftovers();
}

function removeWorkDir() {
  if (work && existsSync(work)) rmSync(work, { recursive: true, force: true });
  work = null;
}

process.on("exit", () => {
  // Synchronous last resort (uncaught error, process.exit): no workerd, build or temp dir left behind.
  stopCurrentLoad();
  if (buildChild) buildChild.kill("SIGKILL");
  killLeftovers();
  removeWorkDir();
});
let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, async () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`\ninterrupted by ${signal}: stopping the runtime and removing ${work ?? "the temporary directory"}`);
    stopCurrentLoad();
    if (buildChild) buildChild.kill("SIGKILL");
    await stopRuntime();
    removeWorkDir();
    process.exit(130);
  });
}

// ---- the run -------------------------------------------------------------------------------------------

/** @param {string} dir */
function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * @param {string} pkg
 * @returns {string}
 */
function version(pkg) {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/**
 * Everything the run measured (reports/bench.json); `memory` fills in phase by phase.
 * @typedef {ReturnType<typeof memoryOf>} Memory
 * @typedef {ReturnType<typeof sqliteSizes>} Sizes
 * @typedef {{
 *   date: string,
 *   machine: { cpus: number, cpuModel: string, memoryGiB: number, node: string, platform: string, loadAverage: { start: string, end: string | null } },
 *   runtime: Record<string, string | number>,
 *   settings: { connections: number, seconds: number, warmupSeconds: number, waiting: number },
 *   scenarios: Record<string, ReturnType<typeof combine> & { label: string }>,
 *   ratios: Array<import("./bench/report.mjs").Ratio & { value: number, target: number }>,
 *   memory: {
 *     idleStart?: Memory, idleAfterLoad?: Memory, idleEmpty?: Memory, idleFull?: Memory, afterFill?: Memory, afterShutdown?: Sizes,
 *     fill?: { people: number, created: number, seconds: number, waitingPerCoordinator: number, before: Sizes, after: Sizes },
 *     lastPosition?: number,
 *   },
 *   memoryRows: import("./bench/report.mjs").MemoryRow[],
 *   notes: string[],
 *   register?: unknown,
 *   error?: string,
 * }} BenchReport
 */
/** @type {BenchReport} */
const report = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model?.replace(/\s+/g, " ").trim() ?? "?",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverage: { start: loadLevel(), end: null },
  },
  runtime: {},
  settings: { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: WARMUP, waiting: WAITING },
  scenarios: {},
  ratios: [],
  memory: {},
  memoryRows: [],
  notes: [],
};

/** The one-minute load average, two decimals. */
function loadLevel() {
  return (loadavg()[0] ?? 0).toFixed(2);
}

async function main() {
  const useTmpfs = !args.disk && writable("/dev/shm");
  work = mkdtempSync(join(useTmpfs ? "/dev/shm" : tmpdir(), "antichambre-bench-"));
  const persistDir = join(work, "state");
  const doDir = join(persistDir, "do");
  log(`work directory ${work} (${useTmpfs ? "tmpfs" : "disk"})`);

  // 1. Build.
  log("building the Worker bundle (wrangler deploy --dry-run) and the benchmark Workers of tools/bench/workers/ (esbuild)");
  const config = readWranglerConfig(ROOT);
  const appBundle = await buildAppBundle(ROOT, join(work, "bundle"), work, (child) => (buildChild = child));
  mkdirSync(join(work, "bench"));
  const helloBundle = await buildBenchWorker(ROOT, "tools/bench/workers/hello-worker.ts", join(work, "bench", "hello-worker.js"));
  const floorBundle = await buildBenchWorker(ROOT, "tools/bench/workers/floor-worker.ts", join(work, "bench", "floor-worker.js"));
  await stopBundler();
  report.runtime = {
    miniflare: version("miniflare"),
    workerd: version("workerd"),
    wrangler: version("wrangler"),
    autocannon: version("autocannon"),
    compatibilityDate: config.compatibilityDate,
    persistMedium: useTmpfs ? "tmpfs" : "disk",
    bundleBytes: readFileSync(appBundle).length,
  };

  // 2. Start.
  const ports = {
    app: await freePort(),
    appOpenGate: await freePort(),
    appDevRegister: await freePort(),
    hello: await freePort(),
    floor: await freePort(),
  };
  const start = async () => {
    const started = await startRuntime({
      config,
      appBundle,
      helloBundle,
      floorBundle,
      persistDir,
      ports,
      registerLatencyMs: 0,
      openGateSlots: OPEN_GATE_SLOTS,
    });
    runtime = started;
    for (const pid of workerdPids()) knownPids.add(pid);
    if (knownPids.size === 0) throw new Error("no workerd process found under this process");
    return started;
  };
  /** Endpoints by Worker (`ports`' keys). @type {Record<keyof typeof ports, string>} */
  const urls = /** @type {Record<keyof typeof ports, string>} */ ((await start()).urls);
  log(`runtime up: workerd pid ${[...knownPids].join(",")}; real Worker ${urls.app}, hello ${urls.hello}, floors ${urls.floor}`);
  const pids = () => [...knownPids].filter(isWorkerd);

  // 3. Setup: the register (for issuance), the rooms, a waiting ticket.
  log("setup: seeding the licence register, creating the rooms");
  const seeded = expectStatus(
    await http(urls.app, "POST", "/v1/dev/register/seed", { body: {}, token: ADMIN_TOKEN, timeoutMs: 180_000 }),
    200,
  ).json;
  const rooms = { poll: "bench-poll", join: "bench-join", issue: "bench-issue", waiting: "bench-waiting" };
  await putRoom(urls.app, rooms.poll, { new_users_per_minute: 1, shards: 8 });
  await putRoom(urls.app, rooms.join, { new_users_per_minute: 1, shards: 8 });
  // A handful of sessions carry tens of thousands of credential requests: their limits are lifted (the
  // session is still checked and counted on every request, which is what is measured).
  await putRoom(urls.app, rooms.issue, {
    queueing_method: "passthrough",
    shards: 2,
    session_credentials_per_configuration: 100_000,
    session_register_reads: 100_000,
  });
  await putRoom(urls.app, rooms.waiting, { new_users_per_minute: 1, shards: 8 });
  const pollers = [];
  for (let i = 0; i < 3; i++) pollers.push(await joinPerson(urls.app, rooms.poll, `BP-${i}`));
  const pollTicket = /** @type {(typeof pollers)[number]} */ (pollers.at(-1)).ticket;
  await sleep(2_500); // a few admission ticks: every room's shards exist, the idle state is steady
  const pollCheck = expectStatus(await poll(urls.app, rooms.poll, pollTicket), 200).json;
  if (pollCheck.status !== "waiting") throw new Error(`the poll ticket is not waiting: ${JSON.stringify(pollCheck)}`);
  const idleStart = memoryOf(pids());
  report.memory.idleStart = idleStart;
  log(`register ${seeded.total} holders; poll ticket at position ${pollCheck.position}; workerd idle RSS ${mib(idleStart.rss)} MiB`);

  /**
   * A target's combined rounds, kept under `key` and logged.
   * @param {string} key
   * @param {string} label
   * @param {ReturnType<typeof combine>} m
   */
  const record = (key, label, m) => {
    report.scenarios[key] = { label, ...m };
    const not =
      m.failed || m.transportErrors
        ? `, NOT OK ${int(m.failed)} (statuses ${JSON.stringify(m.statuses)}), transport errors ${m.transportErrors}`
        : "";
    const rounds = m.rounds.map((r) => int(r.rps)).join(" / ");
    log(
      `  → ${label}: ${int(m.rps)} req/s (rounds ${rounds}), p50 ${fmtMs(m.latencyMs.p50)} ms, p99 ${fmtMs(m.latencyMs.p99)} ms, ${int(m.ok)} ok${not}${m.ranOut ? ", RAN OUT of pre-generated requests (rate over the time it ran)" : ""}`,
    );
    if (m.ranOut)
      report.notes.push(`${label}: the pre-generated requests ran out; the rate is over the ${m.seconds.toFixed(1)} s the run lasted.`);
    return m;
  };
  /**
   * What series() measures: a static request or a feed of pre-generated ones, and the statuses that count as ok.
   * @typedef {{ key: string, label: string, base: string, ok: number[], warmupAmount?: number, settleMs?: number }
   *   & ({ request: import("./bench/load.mjs").LoadRequest & { path: string }, feed?: undefined } | { feed: import("./bench/load.mjs").Feed, request?: undefined })} Target
   * @param {Target} t
   */
  const warm = async (t) => {
    const w = await round({ ...t, ...(t.warmupAmount ? { amount: t.warmupAmount } : { seconds: WARMUP }), connections: CONNECTIONS });
    if (!w) throw new Error(`${t.label}: ran out of pre-generated requests during the warm-up`);
    if (!t.ok.some((st) => (w.statuses[st] ?? 0) > 0))
      throw new Error(`${t.label}: no successful answer during the warm-up; statuses ${JSON.stringify(w.statuses)}`);
    if (t.settleMs) await sleep(t.settleMs);
  };
  /**
   * Targets measured side by side: each warmed up, then timed in two halves in mirrored order
   * (A B C, then C B A), so a drift in the machine's load during the series (other jobs share these
   * two cores) weighs on every target alike. Percentiles are over every response of both halves.
   */
  /**
   * @template {Target[]} T
   * @param {[...T]} targets
   * @returns {Promise<{ [K in keyof T]: ReturnType<typeof combine> }>}
   */
  const series = async (targets) => {
    /** @type {Map<string, Array<import("./bench/load.mjs").RoundResult | null>>} */
    const rounds = new Map(targets.map((t) => [t.key, []]));
    /** @param {string} key */
    const roundsOf = (key) => /** @type {Array<import("./bench/load.mjs").RoundResult | null>} */ (rounds.get(key));
    const half = SECONDS / 2;
    for (const t of targets) {
      log(
        `  ${t.label}: warm-up ${t.warmupAmount ? `${int(t.warmupAmount)} requests` : `${WARMUP} s`}, then ${half} s${t.feed ? ` (${int(t.feed.items.length)} pre-generated requests)` : ""}`,
      );
      await warm(t);
      roundsOf(t.key).push(await round({ ...t, seconds: half, connections: CONNECTIONS, pids: pids() }));
    }
    for (const t of [...targets].reverse()) {
      log(`  ${t.label}: second ${half} s`);
      roundsOf(t.key).push(await round({ ...t, seconds: half, connections: CONNECTIONS, pids: pids() }));
    }
    // One measurement per target, in the targets' order: the tuple the signature promises.
    return /** @type {{ [K in keyof T]: ReturnType<typeof combine> }} */ (
      targets.map((t) => record(t.key, t.label, combine(roundsOf(t.key), t.ok)))
    );
  };
  const progress = (/** @type {string} */ what, /** @type {number} */ total) => {
    let next = 0.25;
    return (/** @type {number} */ done) => {
      if (done / total >= next) {
        log(`  ${what}: ${int(done)} / ${int(total)}`);
        next += 0.25;
      }
    };
  };

  // a) Poll vs hello world.
  log("a) ticket poll vs hello world");
  const pollPath = `/v1/rooms/${rooms.poll}/tickets/current`;
  const pollRequest = { method: "GET", path: pollPath, headers: { authorization: `Bearer ${pollTicket}` } };
  const [hello, pollRun] = await series([
    { key: "hello", label: "hello world", base: urls.hello, request: { method: "GET", path: "/" }, ok: [200] },
    { key: "poll", label: "poll", base: urls.app, request: pollRequest, ok: [200] },
  ]);

  // b) Join vs its floors.
  log("b) join vs one Durable Object RPC + one SQLite insert, and vs the same with the join's signature checks");
  const floorInsertTarget = {
    key: "floorRpcInsert",
    label: "floor RPC + insert",
    base: urls.floor,
    request: { method: "POST", path: "/floor/rpc-insert" },
    ok: [201],
  };
  // The join's warm-up brings its room to a busy steady state: at ≥ 20 arrivals/s over the last minute a
  // join stops asking every shard for unsynced arrivals (EXACT_JOIN_POSITION_BELOW in src/routes/tickets.ts),
  // which is what a room under 50 concurrent joiners is. Then a pause for a tick to sync them.
  const joinWarmup = 1_500;
  // Sized from a short calibration of the fastest consumer (the crypto floor) on a first batch, with a margin.
  log(
    "  pre-generating 1,000 joins to size the rest (identity assertions from the dev identity service; device keys and DPoP proofs made here)",
  );
  const firstJoins = await pregenerateJoins(urls.app, rooms.join, 1_000, "BJ");
  const calibration = await round({ base: urls.floor, feed: feed(firstJoins), seconds: Math.max(1, WARMUP), connections: CONNECTIONS });
  if (!calibration) throw new Error("the join calibration did not run");
  const cryptoRate = (calibration.statuses[201] ?? 0) / calibration.seconds;
  const joinCount = Math.min(80_000, Math.ceil(cryptoRate * (WARMUP + SECONDS) * 1.3) + joinWarmup + 500);
  log(`  calibration: ~${int(cryptoRate)} req/s; pre-generating ${int(joinCount - firstJoins.length)} more joins`);
  const joins = [
    ...firstJoins,
    ...(await pregenerateJoins(
      urls.app,
      rooms.join,
      joinCount - firstJoins.length,
      "BJ",
      progress("joins", joinCount - firstJoins.length),
      firstJoins.length,
    )),
  ];
  const [floorInsert, floorJoin, joinRun] = await series([
    floorInsertTarget,
    { key: "floorJoinCrypto", label: "floor crypto + RPC + insert", base: urls.floor, feed: feed(joins), ok: [201] },
    { key: "join", label: "join", base: urls.app, feed: feed(joins), ok: [201], warmupAmount: joinWarmup, settleMs: 2_000 },
  ]);

  // The join path's snapshot read when an isolate's copy is a TTL old, before the location layer and
  // now (docs/scaling-past-one-coordinator.md). One isolate here stands for many: "before" is what each
  // of them did once per TTL, "now" what each does (the coordinator is asked once per TTL per location).
  const snapshotMissPath = (/** @type {string} */ when) => `/floor/snapshot-miss/${when}?room=${rooms.join}`;
  const [missBefore, missAfter] = await series([
    {
      key: "snapshotMissBefore",
      label: "isolate snapshot miss, before (coordinator snapshot RPC)",
      base: urls.floor,
      request: { method: "POST", path: snapshotMissPath("before") },
      ok: [200],
    },
    {
      key: "snapshotMissAfter",
      label: "isolate snapshot miss, now (location copy; coordinator once per TTL)",
      base: urls.floor,
      request: { method: "POST", path: snapshotMissPath("after") },
      ok: [200],
    },
  ]);

  // c) Credential issuance vs its own cryptography.
  log("c) mdoc credential request vs its signature work (DPoP proof, key proof, COSE_Sign1)");
  const today = new Date().toISOString().slice(0, 10);
  if (!runtime) throw new Error("the runtime is not running");
  const register = await runtime.mf.getD1Database("REGISTER", WORKERS.app);
  /** @type {{ results: Array<{ person_id: string }> }} */
  const { results: holders } = await register
    .prepare("SELECT person_id FROM licence_holders WHERE expiry_date > ? ORDER BY person_id LIMIT 16")
    .bind(today)
    .all();
  const firstHolder = holders[0];
  if (!firstHolder) throw new Error("no holder with a valid licence in the register");
  const sessions = await mapPool(holders, 8, (h) => admittedSession(urls.app, rooms.issue, h.person_id));
  const walletKeys = await Promise.all(Array.from({ length: 32 }, () => Device.create()));
  const [probe] = await pregenerateCredentialRequests(urls.app, urls.app, sessions, walletKeys, 1);
  if (!probe) throw new Error("no credential request could be made");
  const probed = await http(urls.app, "POST", probe.path, { headers: probe.headers, body: probe.body });
  if (probed.status !== 200) throw new Error(`a credential request fails before any load: ${probed.describe()}`);
  const credentialBytes = probed.text.length;
  // Sized like the joins: a short calibration of the fastest consumer (the crypto floor) on a first batch.
  log(
    `  ${sessions.length} admitted sessions; pre-generating 1,000 credential requests to size the rest (fresh c_nonce, key proof and DPoP proof each)`,
  );
  const firstCredentials = await pregenerateCredentialRequests(urls.app, urls.app, sessions, walletKeys, 1_000);
  const credentialCalibration = await round({
    base: urls.floor,
    feed: feed(firstCredentials),
    seconds: Math.max(1, WARMUP),
    connections: CONNECTIONS,
  });
  if (!credentialCalibration) throw new Error("the credential calibration did not run");
  const credentialRate = (credentialCalibration.statuses[200] ?? 0) / credentialCalibration.seconds;
  // At least twice the calibration batch: on a loaded machine the calibration can read far below the
  // rate of the timed runs, whose feed then ran out in both halves (no figure at all, and every later
  // size computed from it NaN).
  const credentialCount = Math.min(
    80_000,
    Math.max(2 * firstCredentials.length, Math.ceil(credentialRate * (WARMUP + SECONDS) * 1.3) + 500),
  );
  const moreCredentials = Math.max(0, credentialCount - firstCredentials.length);
  log(`  calibration: ~${int(credentialRate)} req/s; pre-generating ${int(moreCredentials)} more`);
  const credentials = [
    ...firstCredentials,
    ...(await pregenerateCredentialRequests(
      urls.app,
      urls.app,
      sessions,
      walletKeys,
      moreCredentials,
      progress("credential requests", moreCredentials),
    )),
  ];
  // The credential path's Durable Object round trips before issuance sessions and now, side by side: the
  // session check rides on the call that claims the DPoP proof, so it should cost no extra round trip.
  const [objectsBefore, objectsAfter] = await series([
    {
      key: "credentialObjectsBefore",
      label: "credential's objects, before sessions (2 ReplayGuard claims)",
      base: urls.floor,
      request: { method: "POST", path: "/floor/credential-objects/before" },
      ok: [200],
    },
    {
      key: "credentialObjectsAfter",
      label: "credential's objects, with the session check (spend + c_nonce claim)",
      base: urls.floor,
      request: { method: "POST", path: "/floor/credential-objects/after" },
      ok: [200],
    },
  ]);
  // One issuance session's start and end (token, notification), object round trips before sessions
  // left the coordinator (its start and end RPCs on the room's one object) and now.
  const [sessionBefore, sessionAfter] = await series([
    {
      key: "sessionObjectsBefore",
      label: "session start + end objects, before (coordinator insert + redeem + notify + coordinator update + confirm)",
      base: urls.floor,
      request: { method: "POST", path: "/floor/session-objects/before" },
      ok: [200],
    },
    {
      key: "sessionObjectsAfter",
      label: "session start + end objects, now (redeem + notify)",
      base: urls.floor,
      request: { method: "POST", path: "/floor/session-objects/after" },
      ok: [200],
    },
  ]);
  const [floorCredential, credentialRun, registerRead] = await series([
    { key: "floorCredentialCrypto", label: "floor credential crypto", base: urls.floor, feed: feed(credentials), ok: [200] },
    { key: "credential", label: "credential", base: urls.app, feed: feed(credentials), ok: [200] },
    // Not a target's reference: the one read a credential cannot do without, to say what bounds it here.
    {
      key: "floorRegisterRead",
      label: "floor register read",
      base: urls.floor,
      request: {
        method: "POST",
        path: "/floor/register-read",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ person_id: firstHolder.person_id }),
      },
      ok: [200],
    },
  ]);
  // Two informational variants of the same bundle, to say where issuance time goes.
  // It cannot outrun the register read alone (or its own crypto): sized from the slower of the two.
  const floorCredentialRps = Number.isFinite(floorCredential.rps) ? floorCredential.rps : credentialRun.rps;
  const openCount = Math.min(40_000, Math.ceil(Math.min(floorCredentialRps, registerRead.rps) * (WARMUP + SECONDS) * 1.1) + 300);
  log(
    `  pre-generating ${int(openCount)} credential requests for the same Worker with the register gate opened (${OPEN_GATE_SLOTS} reads in flight)`,
  );
  const openItems = await pregenerateCredentialRequests(
    urls.appOpenGate,
    urls.app,
    sessions,
    walletKeys,
    openCount,
    progress("credential requests", openCount),
  );
  await series([{ key: "credentialOpenGate", label: "credential, gate opened", base: urls.appOpenGate, feed: feed(openItems), ok: [200] }]);
  const devCount = Math.min(20_000, Math.ceil(credentialRun.rps * (WARMUP + SECONDS) * 1.2) + 300);
  log(`  pre-generating ${int(devCount)} credential requests for npm start's configuration (register read 40 ms simulated, 8 in flight)`);
  const devItems = await pregenerateCredentialRequests(
    urls.appDevRegister,
    urls.app,
    sessions,
    walletKeys,
    devCount,
    progress("credential requests", devCount),
  );
  await series([
    { key: "credentialDevRegister", label: "credential, npm start's register", base: urls.appDevRegister, feed: feed(devItems), ok: [200] },
  ]);
  report.register = expectStatus(await http(urls.app, "GET", "/v1/admin/register", { token: ADMIN_TOKEN }), 200).json;

  await sleep(2_000);
  const idleAfterLoad = memoryOf(pids());
  report.memory.idleAfterLoad = idleAfterLoad;
  log(`workerd idle RSS after the loads: ${mib(idleAfterLoad.rss)} MiB`);

  // d) Memory: bytes per waiting person on disk, and workerd RSS with nobody / 100,000 waiting.
  // RSS is compared between two fresh processes with the same history (a restart on the same state each
  // time), the only difference being the 100,000 rows: what the loads and the fill left in the heap of
  // the process they ran in does not count against the waiting.
  /**
   * @param {string} key
   * @param {string} label
   * @param {import("./bench/load.mjs").LoadRequest & { path: string }} request
   */
  const memoryPoll = async (key, label, request) => {
    log(`  ${label}: warm-up ${MEMORY_POLL.warmup} s, then ${MEMORY_POLL.seconds} s`);
    await round({ base: urls.app, request, seconds: MEMORY_POLL.warmup, connections: CONNECTIONS });
    return record(
      key,
      label,
      combine([await round({ base: urls.app, request, seconds: MEMORY_POLL.seconds, connections: CONNECTIONS, pids: pids() })], [200]),
    );
  };
  /**
   * @param {string} why
   * @param {() => void} [whileStopped]
   */
  const restart = async (why, whileStopped) => {
    log(`  restarting the runtime on the same state (${why})`);
    await stopRuntime();
    whileStopped?.();
    await start();
    await sleep(3_000); // every room's coordinator ticks again, loading its shards
    const idle = memoryOf(pids());
    log(`  fresh workerd pid ${pids().join(",")}: idle RSS ${mib(idle.rss)} MiB (anonymous ${mib(idle.anon)} MiB)`);
    return idle;
  };
  const waitingPoll = (/** @type {string} */ ticket) => ({
    method: "GET",
    path: `/v1/rooms/${rooms.waiting}/tickets/current`,
    headers: { authorization: `Bearer ${ticket}` },
  });

  log(`d) memory: workerd with nobody waiting in ${rooms.waiting}, then ${int(WAITING)} joined through the real QueueShard.join RPC`);
  const idleEmpty = await restart("baseline: nobody waiting");
  report.memory.idleEmpty = idleEmpty;
  const first = await joinPerson(urls.app, rooms.waiting, "BW-FIRST");
  const pollEmpty = await memoryPoll("pollEmpty", "poll, 1 waiting", waitingPoll(first.ticket));

  const ids = expectStatus(await http(urls.floor, "GET", `/shard-ids?room=${rooms.waiting}&shards=8`, { retries: 2 }), 200).json.ids;
  const before = sqliteSizes(doDir, ids);
  const batch = 10_000;
  const fillStart = Date.now();
  let created = 0;
  for (let from = 0; from < WAITING; from += batch) {
    const count = Math.min(batch, WAITING - from);
    const res = expectStatus(
      await http(urls.floor, "POST", "/fill", {
        body: { room: rooms.waiting, shards: 8, from, count, concurrency: 128 },
        retries: 3,
        timeoutMs: 300_000,
      }),
      200,
    ).json;
    created += res.created;
    log(
      `  ${int(from + count)} / ${int(WAITING)} joined (${int((from + count) / ((Date.now() - fillStart) / 1000))} joins/s${res.retries ? `, ${res.retries} retried` : ""})`,
    );
  }
  await sleep(2_500); // ticks sync the arrivals to the coordinator
  const stats = await roomStats(urls.app, rooms.waiting);
  const after = sqliteSizes(doDir, ids);
  report.memory.fill = {
    people: WAITING,
    created,
    seconds: (Date.now() - fillStart) / 1000,
    waitingPerCoordinator: stats.waiting,
    before,
    after,
  };
  const afterFill = memoryOf(pids());
  report.memory.afterFill = afterFill;
  const perPerson = (after.database - before.database) / WAITING;
  log(
    `  coordinator counts ${int(stats.waiting)} waiting; shard databases ${mib(before.database)} → ${mib(after.database)} MiB = ${perPerson.toFixed(1)} bytes per person; workerd RSS ${mib(afterFill.rss)} MiB`,
  );
  const last = await joinPerson(urls.app, rooms.waiting, "BW-LAST");
  log(`  one more person joined over HTTP: position ${last.position === undefined ? "?" : int(last.position)}`);

  /** @type {Sizes | undefined} */
  let afterShutdown;
  const idleFull = await restart(`${int(WAITING)} waiting`, () => (afterShutdown = report.memory.afterShutdown = sqliteSizes(doDir, ids)));
  report.memory.idleFull = idleFull;
  const stopped = /** @type {Sizes} */ (afterShutdown); // set by restart() while the runtime was down
  const pollFull = await memoryPoll("pollFull", `poll, ${int(stats.waiting + 1)} waiting`, waitingPoll(last.ticket));
  const lastPoll = expectStatus(await poll(urls.app, rooms.waiting, last.ticket), 200).json;
  report.memory.lastPosition = lastPoll.position;

  // ---- ratios and verdicts --------------------------------------------------------------------------
  /**
   * @param {string} label
   * @param {{ rps: number }} num
   * @param {{ rps: number }} den
   * @param {number} target
   */
  const ratio = (label, num, den, target) => {
    const value = num.rps / den.rps;
    report.ratios.push({
      label,
      value,
      target,
      display: `${value.toFixed(2)}× (${int(num.rps)} / ${int(den.rps)} req/s)`,
      wanted: `≥ ${target}×`,
      met: value >= target,
    });
  };
  ratio("a) poll / hello world", pollRun, hello, 0.6);
  ratio("b) join / (DO RPC + insert)", joinRun, floorInsert, 0.8);
  ratio("b) join / (join's signature checks + RPC + insert)", joinRun, floorJoin, 0.8);
  ratio("c) mdoc credential / its signature work", credentialRun, floorCredential, 0.5);
  ratio("c) credential's object round trips: with the session check / before it", objectsAfter, objectsBefore, 0.9);
  // Informational targets: the change must not make either path slower where it is measured here (one
  // isolate, one process); what it saves is coordinator requests, which only count on Cloudflare.
  ratio("b) isolate snapshot miss: location copy / coordinator RPC", missAfter, missBefore, 0.9);
  ratio("c) session start + end objects: now / with the coordinator", sessionAfter, sessionBefore, 1);
  report.ratios.push({
    label: "d) Durable Object storage per waiting person",
    value: perPerson,
    target: 256,
    display: `${perPerson.toFixed(0)} B (${mib(after.database - before.database)} MiB / ${int(WAITING)})`,
    wanted: "≤ 256 B",
    met: perPerson <= 256,
  });
  const idleGrowth = idleFull.rss - idleEmpty.rss;
  const loadGrowth = pollFull.rss.maxBytes - pollEmpty.rss.maxBytes;
  const signed = (/** @type {number} */ bytes) => `${bytes >= 0 ? "+" : ""}${mib(bytes)} MiB`;
  report.ratios.push({
    label: `d) workerd RSS, ${int(WAITING)} waiting vs nobody (fresh process each): idle / under poll load`,
    value: Math.max(idleGrowth, loadGrowth),
    target: RSS_GROWTH_LIMIT_BYTES,
    display: `${signed(idleGrowth)} / ${signed(loadGrowth)}`,
    wanted: `< ${mib(RSS_GROWTH_LIMIT_BYTES)} MiB (100 B per person)`,
    met: Math.max(idleGrowth, loadGrowth) < RSS_GROWTH_LIMIT_BYTES,
  });
  report.memoryRows = [
    [
      "QueueShard databases before / after the fill (8 objects)",
      `${mib(before.database)} / ${mib(after.database)} MiB (on disk: main files ${mib(after.main)} MiB + WAL ${mib(after.wal)} MiB)`,
    ],
    [
      "the same, runtime stopped",
      `main files ${mib(stopped.main)} MiB + WAL ${mib(stopped.wal)} MiB; database ${mib(stopped.database)} MiB`,
    ],
    ["per waiting person", `${perPerson.toFixed(1)} B`],
    ["workerd RSS idle, first start (rooms created, register seeded)", `${mib(idleStart.rss)} MiB (anonymous ${mib(idleStart.anon)} MiB)`],
    [
      "workerd RSS under load (max over a–c)",
      `${mib(Math.max(...LOAD_ROWS.filter(([l]) => !l.startsWith("d)")).map(([, k]) => report.scenarios[k]?.rss.maxBytes ?? 0)))} MiB`,
    ],
    ["workerd RSS idle after the loads a–c (same process)", `${mib(idleAfterLoad.rss)} MiB (anonymous ${mib(idleAfterLoad.anon)} MiB)`],
    [
      `workerd RSS fresh, nobody waiting: idle / max under poll load`,
      `${mib(idleEmpty.rss)} / ${mib(pollEmpty.rss.maxBytes)} MiB (anonymous idle ${mib(idleEmpty.anon)} MiB)`,
    ],
    [
      `workerd RSS right after the ${int(WAITING)}-person fill (same process)`,
      `${mib(afterFill.rss)} MiB (anonymous ${mib(afterFill.anon)} MiB)`,
    ],
    [
      `workerd RSS fresh, ${int(WAITING)} waiting: idle / max under poll load`,
      `${mib(idleFull.rss)} / ${mib(pollFull.rss.maxBytes)} MiB (anonymous idle ${mib(idleFull.anon)} MiB)`,
    ],
  ];
  const sc = report.scenarios;
  report.notes.push(
    `The real Worker reads the register without the simulated latency (REGISTER_LATENCY_MS=0, as deployed) and with wrangler.toml's gate of ${config.vars.REGISTER_MAX_CONCURRENCY} reads in flight per isolate. Two (info) rows run the same bundle as other Workers of the same process: with the gate opened to ${OPEN_GATE_SLOTS} reads, and with the vars \`npm start\` uses (40 ms simulated read, 8 in flight), where the gate caps issuance near 8 / 40 ms = 200/s by design.`,
    "Floors: the join floors call the very functions a join uses (verifyDpopProof, verifyIdentityAssertion) and insert into a table of the same shape; the credential floor verifies the DPoP proof (with ath) and the key proof with the issuer's own functions and makes one COSE_Sign1 ES256 signature over 1 KiB. Not in the floors: for a join, the pseudonym HMAC, the snapshot, the order key, the ticket (HS256) and the sealed person (AES-GCM); for a credential, two sealed-token opens, two ReplayGuard RPC + inserts (DPoP jti, c_nonce), the register read (D1, through the capacity gate), and the MSO itself (CBOR, a SHA-256 digest per element, the portrait).",
    `Latency percentiles are over every answer of both halves, refusals included. A credential response is ${int(credentialBytes)} bytes. workerd RSS is the whole process: every Worker isolate and every Durable Object with its SQLite page cache.`,
  );
  for (const key of ["credential", "credentialOpenGate", "credentialDevRegister"]) {
    const x = sc[key];
    if (x?.failed)
      report.notes.push(
        `${x.label}: ${int(x.failed)} refused (statuses ${JSON.stringify(x.statuses)}); a 503 here is the register gate turning a request away after 250 ms without a slot (retryable), as designed.`,
      );
  }
  report.notes.push(
    `The join was timed after ${int(joinWarmup)} warm-up joins, once its room was busy (≥ 20 arrivals/s over the last minute, where a join makes one shard call); in a quiet room a join also asks every other shard for its unsynced arrivals, and costs more (not timed here).`,
    `The d) polls are single ${MEMORY_POLL.seconds} s runs in freshly restarted processes, there for memory; their rates are not a comparison. The RSS verdict compares two such fresh processes with the same history, one with nobody and one with ${int(WAITING)} waiting: a growth under 100 B per waiting person (${mib(RSS_GROWTH_LIMIT_BYTES)} MiB) counts as not growing.`,
  );
  report.machine.loadAverage.end = loadLevel();
}

/** @type {Array<[string, string]>} */
const LOAD_ROWS = [
  ["a) hello world (floor)", "hello"],
  ["a) poll GET …/tickets/current", "poll"],
  ["b) floor: DO RPC + SQLite insert", "floorRpcInsert"],
  ["b) floor: join's signature checks + RPC + insert", "floorJoinCrypto"],
  ["b) join POST …/tickets (new person + device each)", "join"],
  ["b) floor: isolate snapshot miss, before (coordinator RPC)", "snapshotMissBefore"],
  ["b) floor: isolate snapshot miss, now (location copy)", "snapshotMissAfter"],
  ["c) floor: credential's signature work", "floorCredentialCrypto"],
  ["c) credential POST /credential (mso_mdoc)", "credential"],
  ["c) floor: credential's objects before sessions (2 ReplayGuard claims)", "credentialObjectsBefore"],
  ["c) floor: credential's objects with the session check (spend + c_nonce)", "credentialObjectsAfter"],
  ["c) floor: session start + end objects, before (with the coordinator)", "sessionObjectsBefore"],
  ["c) floor: session start + end objects, now (session object only)", "sessionObjectsAfter"],
  ["c) (info) floor: one register read (D1)", "floorRegisterRead"],
  [`c) (info) credential, register gate opened (${OPEN_GATE_SLOTS} slots)`, "credentialOpenGate"],
  ["c) (info) credential, npm start's register (40 ms, 8 slots)", "credentialDevRegister"],
  ["d) poll, 1 waiting (fresh process)", "pollEmpty"],
  [`d) poll, ${WAITING.toLocaleString("en-US")} waiting (fresh process)`, "pollFull"],
];
/** The memory phase's rows say how many were waiting (the last joiner's place). */
const rowLabel = (/** @type {string} */ label, /** @type {string} */ key) =>
  label.startsWith("d)") && report.scenarios[key] ? `d) ${report.scenarios[key].label} (fresh process)` : label;

/** @type {unknown} */
let failure = null;
try {
  await main();
} catch (error) {
  failure = error;
  console.error(`\nbench failed: ${error instanceof Error ? error.stack : error}`);
} finally {
  log("stopping the runtime and removing the temporary directory");
  await stopRuntime();
  removeWorkDir();
}

/** @type {import("./bench/report.mjs").LoadRow[]} */
const rows = LOAD_ROWS.map(([label, key]) => [rowLabel(label, key), report.scenarios[key]]);
console.log(`\n${loadTable(rows)}\n`);
if (report.ratios.length) console.log(`${ratioTable(report.ratios)}\n`);
if (report.memoryRows.length) console.log(`${memoryTable(report.memoryRows)}\n`);
for (const n of report.notes) console.log(`- ${n}`);
if (failure) report.error = String(failure instanceof Error ? failure.stack : failure);
report.machine.loadAverage.end ??= loadLevel();
mkdirSync(REPORTS, { recursive: true });
writeFileSync(join(REPORTS, "bench.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nwrote reports/bench.json`);
if (args.publish) {
  if (failure) console.log("not publishing: the run failed");
  else {
    writeFileSync(LATEST_MD, markdown(report, rows));
    console.log("wrote results/bench/latest.md");
  }
}
log("done");
process.exit(failure ? 1 : 0);
