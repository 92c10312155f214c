#!/usr/bin/env node
// @ts-check
// `npm run soak`: a steady arrival rate for a fixed time against a running `npm start`, every device
// going through the whole flow with the client SDK (identity → join → poll → admitted → token → nonce
// → credential → notification), a few of them abandoning on purpose. It reports 5xx (there must be
// none), the memory of the workerd process that runs the Worker at start and end, latencies, and what
// became of every device: issued, or abandoned and then read back as expired, nothing else.
//
//   npm run soak -- --minutes 10 --rate 90                 # against http://127.0.0.1:8787
//   npm run soak -- --minutes 10 --rate 90 --start         # starts its own npm start (snapshot, fresh state)
//
// --rate arrivals per minute, evenly spaced (±20 % jitter, seeded); the room admits --room-rate per
// minute (default: the arrival rate). Every --abandon-every-th device gives up on purpose, alternately
// while waiting (stops polling) and once admitted (never redeems); its admission then lapses after
// --ttl seconds (the room's admission_ttl_seconds) and the soak checks its ticket reads "expired".
// Loopback only; bounded: arrivals stop after --minutes, the drain after 5 more minutes plus the TTL.
// Memory: the workerd that `npm start` (wrangler's dev server) runs for --base's port, or --workerd-pid PID
// (any other runtime, e.g. a bare Miniflare, to tell the Worker's own memory from what the dev layers add).
// Report: stdout and reports/soak.json. Exit code 1 if any check fails.
import { setMaxListeners } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { disarmFaults, putRoom, roomStats } from "./lab/admin.mjs";
import { runChecks } from "./lab/checks.mjs";
import { toolOptions } from "./lab/cli.mjs";
import { runJourney, statusOf } from "./lab/journey.mjs";
import { latencySummary, round } from "./lab/numbers.mjs";
import { createRecorder, Semaphore } from "./lab/requests.mjs";
import { rssKiB, workerdMemory } from "./lab/rss.mjs";
import { loadLab } from "./lab/sdk.mjs";
import { DevServer } from "./lab/server.mjs";
import { freePort, snapshotTree } from "./lib/processes.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));
const DRAIN_MS = 5 * 60_000;

const USAGE =
  "usage: npm run soak -- [--minutes M] [--rate PER_MINUTE] [--room-rate PER_MINUTE] [--abandon-every K] [--ttl S] [--concurrency C] [--seed S] [--base URL | --start [--start-arg=ARG]...] [--workerd-pid PID] [--out FILE]";

function options() {
  const { values, int, num, loopback } = toolOptions(
    "soak",
    {
      minutes: { type: "string", default: "10" },
      rate: { type: "string", default: "90" },
      "room-rate": { type: "string" },
      "abandon-every": { type: "string", default: "25" },
      ttl: { type: "string", default: "60" },
      concurrency: { type: "string", default: "64" },
      seed: { type: "string", default: "1" },
      base: { type: "string", default: "http://127.0.0.1:8787" },
      start: { type: "boolean", default: false },
      "start-arg": { type: "string", multiple: true, default: [] },
      "workerd-pid": { type: "string" },
      out: { type: "string", default: join(ROOT, "reports", "soak.json") },
    },
    USAGE,
  );
  // --base has a default, so loopback() always answers a URL here.
  const base = /** @type {string} */ (loopback());
  const rate = num("rate", 1, 6_000);
  return {
    minutes: num("minutes", 0.1, 24 * 60),
    rate,
    roomRate: values["room-rate"] === undefined ? Math.ceil(rate) : int("room-rate", 1, 1_000_000),
    abandonEvery: int("abandon-every", 0, 1_000_000),
    ttl: int("ttl", 10, 3_600),
    concurrency: int("concurrency", 1, 10_000),
    seed: int("seed", 0, 2 ** 31),
    base,
    port: Number(new URL(base).port || 80),
    start: values.start,
    /** Options for the `npm start` that --start runs: `--start-arg=--inspect`, `--start-arg=--v8-flag=…`. */
    startArgs: values["start-arg"],
    /** A workerd to measure other than the one `npm start` runs for --base (e.g. a bare Miniflare). */
    workerdPid: values["workerd-pid"] === undefined ? null : int("workerd-pid", 1, 2 ** 31),
    out: values.out,
  };
}

async function main() {
  const o = options();
  const lab = await loadLab(ROOT);
  const random = lab.mulberry32(o.seed);
  /** @type {DevServer | null} */
  let server = null;
  /** @type {string | null} */
  let workDir = null;
  if (o.start) {
    workDir = mkdtempSync(join(tmpdir(), "antichambre-soak-"));
    const persistDir = join(workDir, "state");
    mkdirSync(persistDir);
    mkdirSync(join(ROOT, "reports"), { recursive: true });
    const started = new DevServer({
      root: snapshotTree(ROOT, workDir),
      port: await freePort(),
      persistDir,
      logPath: join(ROOT, "reports", "soak-server.log"),
      args: o.startArgs,
    });
    server = started;
    process.on("exit", () => started.killNow());
    const ms = await started.start();
    o.base = started.base;
    o.port = started.port;
    console.error(`soak: started npm start in ${(ms / 1000).toFixed(1)} s on ${o.base}`);
  } else if (!(await new DevServer({ port: o.port }).answers())) {
    console.error(`soak: no server at ${o.base}; start one with npm start (or pass --start)`);
    process.exit(2);
  }
  await disarmFaults(o.base); // a soak measures the healthy service
  const memory = () => {
    if (o.workerdPid === null) return workerdMemory(o.port);
    const kib = rssKiB(o.workerdPid);
    return {
      worker_pid: o.workerdPid,
      worker_rss_mib: kib === null ? null : Math.round((kib / 1024) * 10) / 10,
      proxy_pid: null,
      proxy_rss_mib: null,
    };
  };

  const room = `soak-${Date.now().toString(36)}`;
  await putRoom(o.base, room, { queueing_method: "fifo", new_users_per_minute: o.roomRate, admission_ttl_seconds: o.ttl, shards: 8 });
  const stats = createRecorder();
  const ctx = {
    sdk: lab.sdk,
    base: o.base,
    room,
    fetch: stats.fetch(new Semaphore(o.concurrency)),
    metadataCache: new Map(),
    attempts: 8,
    stats,
  };
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    abort.abort(new Error("interrupted (SIGINT)"));
    process.once("SIGINT", () => process.exit(130));
  });

  const memoryAtStart = memory();
  const t0 = Date.now();
  const arrivalMs = o.minutes * 60_000;
  /** @typedef {ReturnType<typeof memory> & { t_s: number, waiting: number | null, active: number | null, admitted_last_minute: number | null, requests: number, five_xx: number }} Sample */
  /** @type {Sample[]} */
  const timeline = [];
  /** @type {import("./lab/journey.mjs").JourneyRecord[]} */
  const records = [];
  /** @type {Promise<void>[]} */
  const journeys = [];
  /** Devices in each state now. @type {Record<string, number>} */
  const states = { waiting: 0, admitted: 0 };
  /** @type {ReturnType<typeof memory> | null} */
  let memoryAfterWarmUp = null;

  // Every 10 s: memory, the room, requests and 5xx so far.
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const s = await roomStats(o.base, room);
      const m = memory();
      const t = Math.round((Date.now() - t0) / 1000);
      if (memoryAfterWarmUp === null && t >= 60) memoryAfterWarmUp = m;
      timeline.push({
        t_s: t,
        ...m,
        waiting: s?.waiting ?? null,
        active: s?.active ?? null,
        admitted_last_minute: s?.admitted_last_minute ?? null,
        requests: stats.requests,
        five_xx: stats.fiveHundreds(),
      });
      process.stderr.write(
        `soak: ${t} s | arrivals ${records.length} waiting ${states.waiting} admitted ${states.admitted} issued ${records.filter((r) => r.outcome === "issued").length} ` +
          `abandoned ${records.filter((r) => r.outcome === "abandoned").length} failed ${records.filter((r) => r.outcome === "failed").length} | ` +
          `worker RSS ${m.worker_rss_mib ?? "?"} MiB | 5xx ${stats.fiveHundreds()}\n`,
      );
      await sleep(10_000);
    }
  })();

  // The arrival loop: bounded by the clock, evenly spaced with jitter.
  const spacingMs = 60_000 / o.rate;
  let next = t0;
  for (let n = 0; Date.now() - t0 < arrivalMs && !abort.signal.aborted; n++) {
    const abandon =
      o.abandonEvery > 0 && n % o.abandonEvery === o.abandonEvery - 1
        ? Math.floor(n / o.abandonEvery) % 2 === 0
          ? "waiting"
          : "admitted"
        : null;
    const personId = /** @type {string} */ (lab.population[n % lab.population.length]);
    const configurationId = n % 2 ? lab.sdk.SD_JWT_CONFIGURATION : lab.sdk.MDOC_CONFIGURATION;
    /** @type {string | null} */
    let state = null;
    const onState = (/** @type {string | null} */ s) => {
      if (state !== null && state in states) states[state] = (states[state] ?? 0) - 1;
      state = s;
      if (s !== null && s in states) states[s] = (states[s] ?? 0) + 1;
    };
    journeys.push(
      runJourney(ctx, { personId, configurationId, abandon, signal: abort.signal, onState, onRecord: (r) => records.push(r) }).then(() =>
        onState(null),
      ),
    );
    next += spacingMs * (0.8 + 0.4 * random());
    await sleep(Math.max(0, next - Date.now()));
  }
  const arrivalsEndedAt = Date.now();
  if (records.length > lab.population.length)
    console.error(`soak: more arrivals than valid holders: ${records.length - lab.population.length} re-used (joins return their place)`);

  // Drain: everyone not abandoning finishes; bounded.
  const drain = setTimeout(() => abort.abort(new Error("drain deadline")), DRAIN_MS);
  await Promise.all(journeys);
  clearTimeout(drain);
  const memoryAtEnd = memory();
  const drainedAt = Date.now();

  // Abandoned devices: once every admission is older than the TTL, their tickets must read expired.
  const abandoned = records.filter((r) => r.outcome === "abandoned");
  const lastAdmission = Math.max(0, ...records.map((r) => r.admitted_at ?? 0));
  const waitMs = lastAdmission + o.ttl * 1000 + 3_000 - Date.now();
  if (abandoned.length > 0 && waitMs > 0 && !interrupted) {
    console.error(`soak: waiting ${Math.ceil(waitMs / 1000)} s for the abandoned admissions to lapse (TTL ${o.ttl} s)`);
    await sleep(waitMs);
  }
  const finalStatus = await Promise.all(abandoned.map((r) => statusOf(r)));
  sampling = false;
  await sampler;
  const end = await roomStats(o.base, room);

  const checks = runChecks({ records, rate: o.roomRate, stats: end, countInversions: lab.countInversions });
  const fiveXX = stats.fiveHundreds();
  checks.push({
    name: "zero 5xx",
    ok: fiveXX === 0,
    detail: { five_xx: fiveXX, by_status: stats.byStatus(), not_ours: stats.bare5xxSamples },
  });
  const notExpired = abandoned.filter((_, i) => finalStatus[i] !== "expired");
  checks.push({
    name: "every abandoning device's admission lapsed: its ticket reads expired",
    ok: notExpired.length === 0,
    detail: {
      abandoned: abandoned.length,
      expired: abandoned.length - notExpired.length,
      other: notExpired.slice(0, 5).map((r, i) => ({ person: r.person, status: finalStatus[i] })),
    },
  });
  checks.push({
    name: "no device failed or left unfinished",
    ok: records.every((r) => r.outcome === "issued" || r.outcome === "abandoned"),
    detail: null,
  });

  /** @type {Record<string, ReturnType<typeof latencySummary> & { statuses: Record<string, number> }>} */
  const endpoints = {};
  for (const [e, s] of [...stats.endpoints.entries()].sort((a, b) => b[1].latencies.length - a[1].latencies.length))
    endpoints[e] = { ...latencySummary(s.latencies), statuses: s.statuses };
  const all = [...stats.endpoints.values()].flatMap((s) => s.latencies);
  const issued = records.filter((r) => r.outcome === "issued");
  const growth = (/** @type {ReturnType<typeof memory> | null} */ a, /** @type {ReturnType<typeof memory>} */ b) =>
    a?.worker_rss_mib && b?.worker_rss_mib ? round(b.worker_rss_mib - a.worker_rss_mib) : null;
  const report = {
    tool: "antichambre soak",
    base: o.base,
    room,
    room_config: { new_users_per_minute: o.roomRate, admission_ttl_seconds: o.ttl, shards: 8 },
    started_at: new Date(t0).toISOString(),
    arrival_phase_s: round((arrivalsEndedAt - t0) / 1000),
    drain_s: round((drainedAt - arrivalsEndedAt) / 1000),
    total_s: round((Date.now() - t0) / 1000),
    interrupted,
    arrival_rate_per_minute: o.rate,
    arrivals: records.length,
    outcomes: {
      issued: issued.length,
      abandoned_while_waiting: abandoned.filter((r) => r.abandon === "waiting").length,
      abandoned_once_admitted: abandoned.filter((r) => r.abandon === "admitted").length,
      abandoned_read_expired: abandoned.length - notExpired.length,
      denied: records.filter((r) => r.outcome === "denied").length,
      failed: records.filter((r) => r.outcome === "failed").length,
      unfinished: records.filter((r) => r.outcome === "unfinished").length,
    },
    credentials_issued: issued.reduce((n, r) => n + (r.credentials ?? 0), 0),
    notifications_sent: records.filter((r) => r.notified).length,
    requests: {
      total: stats.requests,
      per_second: round(stats.requests / ((drainedAt - t0) / 1000)),
      network_errors: stats.networkErrors,
      responses_by_status: stats.byStatus(),
    },
    five_xx: fiveXX,
    memory: {
      note: "VmRSS of the workerd process running the Worker and its Durable Objects (and of wrangler's proxy workerd)",
      start: memoryAtStart,
      after_first_minute: memoryAfterWarmUp,
      end: memoryAtEnd,
      worker_growth_mib: growth(memoryAtStart, memoryAtEnd),
      worker_growth_after_first_minute_mib: growth(memoryAfterWarmUp, memoryAtEnd),
      worker_max_mib: Math.max(...timeline.map((x) => x.worker_rss_mib ?? 0)),
      // Growth that flattens, or a saw-tooth (V8 collecting), shows as quarters whose ranges stop rising.
      by_quarter_of_arrivals: quarters(timeline, o.minutes * 60),
    },
    latency: {
      all_requests: latencySummary(all),
      by_endpoint: endpoints,
      wait_join_to_admitted_ms: latencySummary(issued.flatMap((r) => (r.wait_ms === undefined ? [] : [r.wait_ms]))),
      token_to_credential_ms: latencySummary(issued.flatMap((r) => (r.credential_ms === undefined ? [] : [r.credential_ms]))),
    },
    client_retries: Object.fromEntries(stats.retries),
    errors: Object.fromEntries(stats.failures),
    timeline,
    checks,
  };
  mkdirSync(join(o.out, ".."), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  printSummary(report, o.out);
  if (server && workDir) {
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  return checks.every((c) => c.ok) && !interrupted ? 0 : 1;
}

/**
 * The RSS range (min–max, MiB) of the Worker's and the proxy's workerd in each quarter of the arrival phase.
 * @param {Array<{ t_s: number, worker_rss_mib: number | null, proxy_rss_mib: number | null }>} timeline
 * @param {number} arrivalSeconds
 */
function quarters(timeline, arrivalSeconds) {
  const range = (/** @type {number[]} */ xs) => (xs.length ? [Math.min(...xs), Math.max(...xs)] : null);
  return [0, 1, 2, 3].map((q) => {
    const inQ = timeline.filter((x) => x.t_s >= (q * arrivalSeconds) / 4 && x.t_s < ((q + 1) * arrivalSeconds) / 4);
    return {
      from_s: Math.round((q * arrivalSeconds) / 4),
      worker_rss_mib: range(inQ.flatMap((x) => (x.worker_rss_mib === null ? [] : [x.worker_rss_mib]))),
      proxy_rss_mib: range(inQ.flatMap((x) => (x.proxy_rss_mib === null ? [] : [x.proxy_rss_mib]))),
    };
  });
}

/**
 * @typedef {{ worker_rss_mib: number | null, proxy_rss_mib: number | null }} MemoryReading
 * @typedef {{ count: number, p50_ms: number | null, p99_ms: number | null }} Latency
 * @param {{
 *   arrivals: number, arrival_rate_per_minute: number, arrival_phase_s: number | null, drain_s: number | null, room: string, five_xx: number,
 *   outcomes: Record<"issued" | "abandoned_while_waiting" | "abandoned_once_admitted" | "abandoned_read_expired" | "denied" | "failed" | "unfinished", number>,
 *   requests: { total: number, per_second: number | null, network_errors: number },
 *   memory: { start: MemoryReading, after_first_minute: MemoryReading | null, end: MemoryReading, worker_max_mib: number, by_quarter_of_arrivals: ReturnType<typeof quarters> },
 *   latency: { all_requests: Latency, by_endpoint: Record<string, Latency>, wait_join_to_admitted_ms: Latency, token_to_credential_ms: Latency },
 *   checks: import("./lab/checks.mjs").Check[],
 * }} r
 * @param {string} out
 */
function printSummary(r, out) {
  const m = r.memory;
  const lines = [""];
  lines.push(
    `soak: ${r.arrivals} arrivals at ${r.arrival_rate_per_minute}/min over ${r.arrival_phase_s} s (+${r.drain_s} s drain), room ${r.room}`,
  );
  lines.push(
    `  outcomes: issued ${r.outcomes.issued}, abandoned ${r.outcomes.abandoned_while_waiting} while waiting + ${r.outcomes.abandoned_once_admitted} once admitted (${r.outcomes.abandoned_read_expired} read expired), denied ${r.outcomes.denied}, failed ${r.outcomes.failed}, unfinished ${r.outcomes.unfinished}`,
  );
  lines.push(`  requests ${r.requests.total} (${r.requests.per_second}/s), 5xx ${r.five_xx}, network errors ${r.requests.network_errors}`);
  lines.push(
    `  workerd (Worker) RSS: start ${m.start.worker_rss_mib} MiB, after 1 min ${m.after_first_minute?.worker_rss_mib ?? "-"} MiB, end ${m.end.worker_rss_mib} MiB, max ${m.worker_max_mib} MiB; proxy ${m.start.proxy_rss_mib} → ${m.end.proxy_rss_mib} MiB`,
  );
  const band = (/** @type {number[] | null} */ b) => (b ? `${b[0]}–${b[1]}` : "-");
  lines.push(
    `  RSS by quarter of the arrivals (MiB): Worker ${m.by_quarter_of_arrivals.map((q) => band(q.worker_rss_mib)).join(" | ")}; proxy ${m.by_quarter_of_arrivals.map((q) => band(q.proxy_rss_mib)).join(" | ")}`,
  );
  lines.push(`  latency, all requests: p50 ${r.latency.all_requests.p50_ms} ms, p99 ${r.latency.all_requests.p99_ms} ms`);
  for (const [e, s] of Object.entries(r.latency.by_endpoint))
    lines.push(
      `    ${e.padEnd(44)} ${String(s.count).padStart(7)}  p50 ${String(s.p50_ms).padStart(7)}  p99 ${String(s.p99_ms).padStart(7)}`,
    );
  lines.push(
    `  wait join→admitted p50 ${r.latency.wait_join_to_admitted_ms.p50_ms} ms, p99 ${r.latency.wait_join_to_admitted_ms.p99_ms} ms; token→credential p50 ${r.latency.token_to_credential_ms.p50_ms} ms, p99 ${r.latency.token_to_credential_ms.p99_ms} ms`,
  );
  for (const c of r.checks) lines.push(`  ${c.ok ? "ok  " : "FAIL"} ${c.name}${c.ok ? "" : ` ${JSON.stringify(c.detail)}`}`);
  lines.push(`  report: ${out}`);
  console.log(lines.join("\n"));
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`soak: ${e?.stack ?? e}`);
    process.exit(1);
  },
);
