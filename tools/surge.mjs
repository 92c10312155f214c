#!/usr/bin/env node
// @ts-check
// `npm run surge`: a launch-day surge against a running `npm start`, over real HTTP, driven by the client
// SDK (client/) exactly as the mobile app would use it.
//
//   npm run surge -- --users 200 --concurrency 64            # waiting room in front (fifo)
//   npm run surge -- --users 200 --concurrency 64 --bypass   # no waiting room: straight to issuance
//
// Each of N virtual devices (person ids FR-000001, FR-000002, …) makes a non-extractable device key,
// gets an identity assertion from the development identity service, joins, polls until admitted (as
// the service says: poll_after_seconds), redeems the offer (token → nonce → credential: mso_mdoc for even
// devices, dc+sd-jwt for odd ones) and notifies credential_accepted. About 16 % of the synthetic
// register's licences have expired: those people are refused with credential_request_denied and counted
// as "denied", not as errors.
//
// The room is fresh (surge-<mode>-<time>, or --room R), created through the admin API:
//   fifo (default) new_users_per_minute = --rate (default N, within 60…6,000: N people in about a
//                  minute), far below the register's capacity (REGISTER_MAX_CONCURRENCY 8 reads at
//                  REGISTER_LATENCY_MS 40 ms ≈ 200 reads/s per isolate), so the register never refuses.
//   --bypass       queueing_method passthrough with limits at their maximum: everybody is admitted at the
//                  next tick; then every device gets its token, waits at a barrier, and ALL credential
//                  requests (nonce + credential) fire at once, outside the concurrency limit, to show
//                  what the register does without a waiting room: its capacity gate refuses, and the
//                  credential endpoint defers those requests (202 + interval, OpenID4VCI 1.0 §9); the
//                  SDK follows each deferral (and retries any 503 with backoff, at most --attempts
//                  tries), so each refusal is counted and most people still get through.
//
// --adaptive   the room's outflow is adaptive (floor 30/min, ceiling 2 × --rate, latency target 150 ms):
//              the admission rate follows the register's health as the edge measures it.
// --drill S:MS[,S:MS…]  at S seconds into the run, set the development register's simulated latency to
//              MS (PUT /v1/admin/register; "S:off" restores REGISTER_LATENCY_MS). With --adaptive this
//              shows the rate backing off while the register is slow and recovering after, e.g.
//              npm run surge -- --users 1500 --rate 600 --adaptive --drill 40:400,100:off
//              The room's rate, backend latency and admissions are sampled every 2 s into the report.
// --deferral-drill  a register slowdown (the --drill 5:1500,35:off, unless --drill is given): reads take
//              1.5 s, so the register's gate (8 slots, 250 ms queue) refuses most of them, and the
//              credential endpoint defers those requests (202, OpenID4VCI 1.0 §9) instead of answering
//              503; the SDK follows each deferral at its interval. The report counts the deferrals, the
//              deferred endpoint's answers and every 5xx (the drill's point: none).
//
// --flow authorization_code  standard wallets instead of the app: each person's wallet (the unmodified
//              @openid4vc library) and browser without JavaScript go through PAR → waiting page →
//              identity provider → token → credential (lab/authorization-surge.mjs); the report sets the
//              identity provider's requests and the register's reads against admissions. --idp
//              oidc-provider (default) starts a real OpenID Connect provider and its own npm start
//              configured to use it; --idp dev uses the running server's embedded development provider.
// --concurrency C bounds the HTTP requests in flight at once (the devices' shared "connection pool");
// the bypass burst is the one deliberate exception. Loopback only; every loop is bounded by --timeout
// (default: 1.5 × the planned admission time + 2 min; 3 × with --adaptive). Progress on stderr (a bar on a TTY, a line every
// 5 s otherwise); summary table on stdout; full report in reports/surge.json.
//
// The SDK is bundled with esbuild at start (TypeScript source, no separate build step): this tool holds
// no protocol logic of its own. The device journey, the measured fetch and the SDK loader are shared
// with the soak and the fault harness (tools/lab/).
import { setMaxListeners } from "node:events";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminCall } from "./lab/admin.mjs";
import { failTool, toolOptions } from "./lab/cli.mjs";
import { printAuthorizationSummary, runAuthorizationSurge } from "./lab/authorization-surge.mjs";
import { runJourney } from "./lab/journey.mjs";
import { percentile } from "./lab/numbers.mjs";
import { createRecorder, Semaphore } from "./lab/requests.mjs";
import { loadLab } from "./lab/sdk.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const REQUEST_TIMEOUT_MS = 30_000;

// ---- options ---------------------------------------------------------------------------------------

const USAGE = `usage: npm run surge -- [--users N] [--concurrency C] [--base URL] [--bypass] [--room R]
                        [--rate PER_MINUTE] [--first N] [--attempts K] [--timeout SECONDS] [--out FILE]
                        [--adaptive] [--drill S:MS[,S:MS…]] [--deferral-drill]
                        [--flow pre-authorized_code | authorization_code [--idp oidc-provider | dev]]`;

const fail = (/** @type {string} */ message) => failTool("surge", message);

function options() {
  const {
    values: parsed,
    int,
    loopback,
  } = toolOptions(
    "surge",
    {
      users: { type: "string", default: "200" },
      concurrency: { type: "string", default: "64" },
      base: { type: "string", default: "http://127.0.0.1:8787" },
      bypass: { type: "boolean", default: false },
      room: { type: "string" },
      rate: { type: "string" },
      first: { type: "string", default: "1" },
      attempts: { type: "string", default: "8" },
      timeout: { type: "string" },
      out: { type: "string", default: join(ROOT, "reports", "surge.json") },
      adaptive: { type: "boolean", default: false },
      drill: { type: "string" },
      "deferral-drill": { type: "boolean", default: false },
      flow: { type: "string", default: "pre-authorized_code" },
      idp: { type: "string", default: "oidc-provider" },
    },
    USAGE,
  );
  if (parsed.flow !== "pre-authorized_code" && parsed.flow !== "authorization_code")
    fail(`--flow is pre-authorized_code or authorization_code, not "${parsed.flow}"`);
  if (parsed.idp !== "oidc-provider" && parsed.idp !== "dev") fail(`--idp is oidc-provider or dev, not "${parsed.idp}"`);
  if (parsed.flow === "authorization_code" && (parsed.bypass || parsed.adaptive || parsed.drill || parsed["deferral-drill"]))
    fail("--flow authorization_code runs a fifo room: no --bypass, --adaptive, --drill or --deferral-drill");
  const users = int("users", 1, 100_000);
  // --base has a default, so loopback() always answers a URL here.
  const base = /** @type {string} */ (loopback());
  const drill = (parsed.drill ?? (parsed["deferral-drill"] ? "5:1500,35:off" : ""))
    .split(",")
    .filter(Boolean)
    .map((step) => {
      const m = /^(\d+):(\d+|off)$/.exec(step.trim());
      if (!m) return fail(`--drill steps are SECONDS:MS or SECONDS:off, not "${step}"`);
      return { at_s: Number(m[1]), latency_ms: m[2] === "off" ? null : Number(m[2]) };
    })
    .sort((a, b) => a.at_s - b.at_s);
  if (parsed.bypass && parsed.adaptive) fail("--adaptive needs the waiting room: it cannot be combined with --bypass");
  const rate = parsed.rate === undefined ? Math.min(6_000, Math.max(60, users)) : int("rate", 1, 1_000_000);
  const plannedSeconds = parsed.bypass ? 10 : (users / rate) * 60;
  return {
    users,
    concurrency: int("concurrency", 1, 10_000),
    base,
    bypass: parsed.bypass,
    // The authorization code flow queues in the service's AUTHORIZATION_ROOM: a fresh one when the tool
    // starts the service (--idp oidc-provider), else the development default.
    room:
      parsed.room ??
      (parsed.flow === "authorization_code"
        ? parsed.idp === "dev"
          ? "permis"
          : `surge-authz-${Date.now().toString(36)}`
        : `surge-${parsed.bypass ? "bypass" : "fifo"}-${Date.now().toString(36)}`),
    roomGiven: parsed.room !== undefined,
    rate,
    first: int("first", 1, 1_000_000),
    attempts: int("attempts", 1, 50),
    // An adaptive room may slow far below --rate on purpose: give it three times the plan.
    timeoutMs:
      (parsed.timeout === undefined ? Math.ceil(plannedSeconds * (parsed.adaptive ? 3 : 1.5)) + 120 : int("timeout", 5, 86_400)) * 1000,
    out: parsed.out,
    adaptive: parsed.adaptive,
    drill,
    flow: /** @type {"pre-authorized_code" | "authorization_code"} */ (parsed.flow),
    idp: /** @type {"oidc-provider" | "dev"} */ (parsed.idp),
  };
}

// ---- measurement ---------------------------------------------------------------------------------------

/** Every device request, timed and counted by endpoint and status (tools/lab/requests.mjs). */
const stats = createRecorder({ timeoutMs: REQUEST_TIMEOUT_MS });

/** tools/sim/fairness.ts countInversions, set once the lab is loaded. @type {(values: number[]) => number} */
let countInversions = () => {
  throw new Error("the lab is not loaded yet");
};

// ---- progress ----------------------------------------------------------------------------------------------

/**
 * @typedef {{ joined: number, waiting: number, admitted: number, issued: number, denied: number, failed: number }} Counters
 * @param {ReturnType<typeof options>} o
 * @param {Counters} counters
 */
function progressReporter(o, counters) {
  const tty = Boolean(process.stderr.isTTY);
  const width = 28;
  let last = "";
  const line = () => {
    const c = counters;
    const done = c.issued + c.denied + c.failed;
    const elapsed = (performance.now() - stats.started) / 1000;
    const rps = elapsed > 0 ? stats.requests / elapsed : 0;
    const filled = Math.round((done / o.users) * width);
    const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
    return `[${bar}] ${done}/${o.users} | joined ${c.joined} waiting ${c.waiting} admitted ${c.admitted} issued ${c.issued} denied ${c.denied} failed ${c.failed} | ${rps.toFixed(0)} req/s | ${elapsed.toFixed(0)} s`;
  };
  const timer = setInterval(
    () => {
      const l = line();
      if (tty) process.stderr.write(`\r\x1b[2K${l}`);
      else if (l !== last) process.stderr.write(`${l}\n`);
      last = l;
    },
    tty ? 250 : 5_000,
  );
  return () => {
    clearInterval(timer);
    const l = line();
    process.stderr.write(tty ? `\r\x1b[2K${l}\n` : `${l}\n`);
  };
}

// ---- the run -------------------------------------------------------------------------------------------------

async function main() {
  const o = options();
  if (o.flow === "authorization_code") return authorizationCodeMain(o);
  const lab = await loadLab(ROOT);
  const sdk = lab.sdk;
  countInversions = lab.countInversions;
  const { MDOC_CONFIGURATION, SD_JWT_CONFIGURATION } = sdk;

  // The server, the room, the register's counters before the run.
  try {
    await fetch(`${o.base}/.well-known/openid-credential-issuer`, { signal: AbortSignal.timeout(5_000) }).then((r) => r.arrayBuffer());
  } catch (e) {
    const err = /** @type {{ message?: string, cause?: { code?: string } }} */ (e);
    fail(`no server at ${o.base} (${err.cause?.code ?? err.message}); start one with npm start`);
  }
  const roomConfig = o.bypass
    ? {
        queueing_method: "passthrough",
        new_users_per_minute: 1_000_000,
        total_active_users: 10_000_000,
        admission_ttl_seconds: 3_600,
        paused: false,
      }
    : {
        queueing_method: "fifo",
        new_users_per_minute: o.rate,
        admission_ttl_seconds: 600,
        paused: false,
        outflow: o.adaptive
          ? {
              mode: "adaptive",
              floor_per_minute: 30,
              ceiling_per_minute: Math.max(60, 2 * o.rate),
              latency_target_ms: 150,
              max_error_rate: 0.1,
            }
          : { mode: "fixed" },
      };
  const put = await adminCall(o.base, "PUT", `/v1/admin/rooms/${encodeURIComponent(o.room)}`, roomConfig);
  if (put.status !== 201 && put.status !== 200) fail(`creating room ${o.room}: ${put.status} ${put.text.slice(0, 300)}`);
  if (put.status === 200) console.error(`surge: room ${o.room} already existed (updated); people already in it are ahead of this run`);
  const registerBefore = (await adminCall(o.base, "GET", "/v1/admin/register")).json;

  const semaphore = new Semaphore(o.concurrency);
  // Bypass: the credential burst (nonce + credential) is deliberately not limited.
  const burst = (/** @type {string} */ endpoint) => o.bypass && (endpoint === "POST /credential" || endpoint === "POST /nonce");
  const deviceFetch = stats.fetch(semaphore, burst);
  const metadataCache = new Map();
  const abort = new AbortController();
  // Every device's waits and requests listen on this one signal.
  setMaxListeners(0, abort.signal);
  const deadline = setTimeout(() => abort.abort(new Error(`deadline: --timeout ${o.timeoutMs / 1000} s passed`)), o.timeoutMs);
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    abort.abort(new Error("interrupted (SIGINT)"));
    process.once("SIGINT", () => process.exit(130));
  });

  /** @type {Counters} */
  const counters = { joined: 0, waiting: 0, admitted: 0, issued: 0, denied: 0, failed: 0 };
  /** Credentials issued by configuration id. @type {Record<string, number>} */
  const credentials = { [MDOC_CONFIGURATION]: 0, [SD_JWT_CONFIGURATION]: 0 };
  let notified = 0;

  // Bypass barrier: everyone holds a token before any credential request goes out.
  /** @type {() => void} */
  let barrierOpen = () => {};
  /** @type {Promise<void>} */
  const barrierOpened = new Promise((resolve) => (barrierOpen = resolve));
  let atBarrier = 0;
  const barrierCheck = () => {
    if (atBarrier >= o.users) barrierOpen();
  };
  abort.signal.addEventListener("abort", () => barrierOpen());

  /** Journey records by device index (`device` added). @type {Array<import("./lab/journey.mjs").JourneyRecord & { device?: number }>} */
  const records = [];
  stats.started = performance.now();
  const wallStart = Date.now();
  const stop = progressReporter(o, counters);

  const ctx = { sdk, base: o.base, room: o.room, fetch: deviceFetch, metadataCache, attempts: o.attempts, stats };

  /** @param {number} i */
  async function journey(i) {
    const personId = `FR-${String(o.first + i).padStart(6, "0")}`;
    const configurationId = i % 2 === 0 ? MDOC_CONFIGURATION : SD_JWT_CONFIGURATION;
    let passedBarrier = false;
    /** @type {"waiting" | "admitted" | null} */
    let state = null;
    const enter = (/** @type {"waiting" | "admitted" | null} */ next) => {
      if (state) counters[state]--;
      state = next;
      if (next) counters[next]++;
    };
    const onState = (/** @type {string} */ s) => {
      if (s === "waiting") counters.joined++;
      if (s === "waiting" || s === "admitted") return enter(s);
      enter(null);
      if (s === "issued" || s === "denied" || s === "failed") counters[s]++;
    };
    // Bypass: everyone holds a token before any credential request goes out.
    const afterToken = o.bypass
      ? async () => {
          passedBarrier = true;
          atBarrier++;
          barrierCheck();
          await barrierOpened;
        }
      : undefined;
    const onRecord = (/** @type {import("./lab/journey.mjs").JourneyRecord} */ r) => {
      records[i] = Object.assign(r, { device: i });
    };
    const rec = await runJourney(ctx, { personId, configurationId, signal: abort.signal, afterToken, onState, onRecord });
    if (rec.outcome === "issued") credentials[configurationId] = (credentials[configurationId] ?? 0) + (rec.credentials ?? 0);
    if (rec.notified) notified++;
    if (!passedBarrier) {
      atBarrier++;
      barrierCheck();
    }
  }

  const sampler = outflowSampler(o);
  await Promise.all(Array.from({ length: o.users }, (_, i) => journey(i)));
  clearTimeout(deadline);
  const timeline = await sampler.stop();
  stop();
  const durationS = (performance.now() - stats.started) / 1000;

  const registerAfter = (await adminCall(o.base, "GET", "/v1/admin/register")).json;
  const roomAfter = (await adminCall(o.base, "GET", `/v1/admin/rooms/${encodeURIComponent(o.room)}`)).json;
  const report = {
    ...buildReport({
      o,
      roomConfig,
      durationS,
      wallStart,
      records,
      counters,
      credentials,
      notified,
      registerBefore,
      registerAfter,
      roomAfter,
      interrupted,
      sdk,
    }),
    outflow_timeline: timeline,
  };
  mkdirSync(join(o.out, ".."), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  printSummary(report, o.out);
  return report;
}

/**
 * Every 2 s: the room's admission rate in force, the backend health the coordinator sees, admissions
 * in the last minute; and the --drill steps, applied on schedule. Stopping restores the register.
 * @param {ReturnType<typeof options>} o
 */
function outflowSampler(o) {
  const started = Date.now();
  /**
   * @type {Array<{ t_s: number, drill_latency_ms: number | null, rate_per_minute: number | null, decision: string | null, backend_latency_ms: number | null, backend_error_rate: number | null, admitted_last_minute: number, waiting: number }>}
   */
  const timeline = [];
  const pending = [...o.drill];
  /** @type {number | null} */
  let drillLatency = null;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = (Date.now() - started) / 1000;
      for (let step = pending[0]; step !== undefined && step.at_s <= t; step = pending[0]) {
        pending.shift();
        const res = await adminCall(o.base, "PUT", "/v1/admin/register", { simulated_latency_ms: step.latency_ms });
        if (res.status !== 200) console.error(`surge: drill step ${JSON.stringify(step)} refused: ${res.status} ${res.text.slice(0, 200)}`);
        drillLatency = step.latency_ms;
      }
      const stats = (await adminCall(o.base, "GET", `/v1/admin/rooms/${encodeURIComponent(o.room)}`)).json;
      if (stats) {
        timeline.push({
          t_s: Math.round(t),
          drill_latency_ms: drillLatency,
          rate_per_minute: stats.outflow?.rate_per_minute ?? stats.config?.new_users_per_minute ?? null,
          decision: stats.outflow?.last_decision ?? null,
          backend_latency_ms: stats.backend?.latency_ms ?? null,
          backend_error_rate: stats.backend?.error_rate ?? null,
          admitted_last_minute: stats.admitted_last_minute,
          waiting: stats.waiting,
        });
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      if (o.drill.length) await adminCall(o.base, "PUT", "/v1/admin/register", { simulated_latency_ms: null });
      return timeline;
    },
  };
}

/**
 * The run's report (reports/surge.json). Admin answers (`registerBefore`, `registerAfter`, `roomAfter`) are
 * the endpoints' JSON, read field by field with defaults.
 * @param {{
 *   o: ReturnType<typeof options>, roomConfig: Record<string, unknown> & { outflow?: { mode: string } }, durationS: number, wallStart: number,
 *   records: Array<import("./lab/journey.mjs").JourneyRecord | undefined>, counters: Counters, credentials: Record<string, number>, notified: number,
 *   registerBefore: any, registerAfter: any, roomAfter: any, interrupted: boolean, sdk: any,
 * }} run
 */
function buildReport({
  o,
  roomConfig,
  durationS,
  wallStart,
  records,
  counters,
  credentials,
  notified,
  registerBefore,
  registerAfter,
  roomAfter,
  interrupted,
  sdk,
}) {
  const round = (/** @type {number | null | undefined} */ x, d = 1) =>
    x === null || x === undefined ? null : Math.round(x * 10 ** d) / 10 ** d;
  /** @type {Record<string, { requests: number, p50_ms: number | null, p99_ms: number | null, max_ms: number | null, statuses: Record<string, number> }>} */
  const endpoints = {};
  for (const [endpoint, s] of [...stats.endpoints.entries()].sort((a, b) => b[1].latencies.length - a[1].latencies.length)) {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    endpoints[endpoint] = {
      requests: sorted.length,
      p50_ms: round(percentile(sorted, 50)),
      p99_ms: round(percentile(sorted, 99)),
      max_ms: round(sorted.at(-1) ?? null),
      statuses: s.statuses,
    };
  }
  const denialKey = (/** @type {string} */ k) => k.includes("credential_request_denied");
  /** @type {Record<string, number>} */
  const responsesByStatus = {};
  for (const s of stats.endpoints.values())
    for (const [status, n] of Object.entries(s.statuses)) responsesByStatus[status] = (responsesByStatus[status] ?? 0) + n;
  const errors = Object.fromEntries([...stats.failures.entries()].filter(([k]) => !denialKey(k)).sort((a, b) => b[1] - a[1]));
  /** @type {Record<string, number>} */
  const errorsByStatus = {};
  for (const [k, n] of Object.entries(errors)) {
    const status = k.split(" ")[0] ?? k;
    errorsByStatus[status] = (errorsByStatus[status] ?? 0) + n;
  }

  // Fairness: order of joining = the ticket's order key (the service's record of arrival), compared with
  // the admission time the service stamped (tick granularity: same-tick admissions are ties) and with
  // the time each device first saw itself admitted (adds each device's polling delay).
  /** @type {(r: import("./lab/journey.mjs").JourneyRecord | undefined) => r is import("./lab/journey.mjs").JourneyRecord & { ord: [number, number], admitted_at: number, first_seen_admitted_at: number, wait_ms: number }} */
  const wasAdmitted = (r) => r !== undefined && r.ord !== undefined && r.admitted_at !== undefined;
  const admitted = records.filter(wasAdmitted);
  admitted.sort((x, y) => x.ord[0] - y.ord[0] || x.ord[1] - y.ord[1]);
  const pairs = (admitted.length * (admitted.length - 1)) / 2;
  const invServer = countInversions(admitted.map((r) => r.admitted_at));
  const invSeen = countInversions(admitted.map((r) => r.first_seen_admitted_at));
  const admissionTimes = admitted.map((r) => r.admitted_at).sort((a, b) => a - b);
  const first = admissionTimes[0];
  const last = admissionTimes.at(-1);
  const spanS = first !== undefined && last !== undefined ? (last - first) / 1000 : 0;
  const waits = admitted.map((r) => r.wait_ms / 1000).sort((a, b) => a - b);

  const credentialEndpoint = stats.endpoints.get("POST /credential");
  const credential503 = credentialEndpoint?.statuses?.[503] ?? 0;
  const deferredEndpoint = stats.endpoints.get("POST /deferred_credential");
  const delta = (/** @type {string} */ k) => (registerAfter && registerBefore ? (registerAfter[k] ?? 0) - (registerBefore[k] ?? 0) : null);
  const issuedTotal = Object.values(credentials).reduce((a, b) => a + b, 0);
  return {
    tool: "antichambre surge",
    mode: o.bypass ? "bypass (passthrough room, credential burst)" : "waiting room (fifo)",
    base: o.base,
    room: o.room,
    room_config: roomConfig,
    users: o.users,
    concurrency: o.concurrency,
    first_person: `FR-${String(o.first).padStart(6, "0")}`,
    started_at: new Date(wallStart).toISOString(),
    duration_s: round(durationS),
    interrupted,
    outcomes: {
      issued: counters.issued,
      denied: counters.denied,
      failed: counters.failed,
      unfinished: o.users - counters.issued - counters.denied - counters.failed,
    },
    credentials_issued: {
      total: issuedTotal,
      [sdk.MDOC_CONFIGURATION]: credentials[sdk.MDOC_CONFIGURATION],
      [sdk.SD_JWT_CONFIGURATION]: credentials[sdk.SD_JWT_CONFIGURATION],
    },
    notifications_sent: notified,
    requests: {
      total: stats.requests,
      per_second: round(stats.requests / durationS),
      network_errors: stats.networkErrors,
      responses_by_status: responsesByStatus,
    },
    latency_by_endpoint: endpoints,
    errors_by_status: errorsByStatus,
    errors,
    denials_by_endpoint: Object.fromEntries([...stats.failures.entries()].filter(([k]) => denialKey(k))),
    client_retries: Object.fromEntries(stats.retries),
    fairness: {
      admitted: admitted.length,
      pairs,
      out_of_order_pairs_by_admitted_at: invServer,
      fraction_by_admitted_at: pairs ? invServer / pairs : 0,
      out_of_order_pairs_by_first_seen: invSeen,
      fraction_by_first_seen: pairs ? invSeen / pairs : 0,
      in_join_order: invServer === 0,
      admission_span_s: round(spanS),
      admissions_per_minute_observed: spanS > 0 ? round(((admitted.length - 1) / spanS) * 60) : null,
      wait_s: { p50: round(percentile(waits, 50)), p99: round(percentile(waits, 99)), max: round(waits.at(-1) ?? null) },
    },
    backend: {
      credential_503: credential503,
      credential_deferred: credentialEndpoint?.statuses?.[202] ?? 0,
      deferred_credential_by_status: deferredEndpoint?.statuses ?? {},
      responses_5xx: stats.fiveHundreds(),
      register_busy_refusals: delta("busy"),
      register_errors: delta("errors"),
      register_reads: delta("reads"),
      register_max_in_flight: registerAfter?.max_in_flight ?? null,
      register_latency_ewma_ms: round(registerAfter?.latency_ms?.ewma ?? null),
      note: "register counters are the answering isolate's (GET /v1/admin/register), before/after difference",
    },
    room_after: roomAfter
      ? {
          admitted_total: roomAfter.admitted_total,
          active: roomAfter.active,
          waiting: roomAfter.waiting,
          admitted_last_minute: roomAfter.admitted_last_minute,
        }
      : null,
    failures_sample: records.flatMap((r) => (r?.outcome === "failed" ? [{ person: r.person, error: r.error }] : [])).slice(0, 10),
  };
}

/**
 * @param {ReturnType<typeof buildReport> & { outflow_timeline: Awaited<ReturnType<ReturnType<typeof outflowSampler>["stop"]>> }} r
 * @param {string} out
 */
function printSummary(r, out) {
  const pad = (/** @type {unknown} */ s, /** @type {number} */ n) => String(s).padEnd(n);
  const padl = (/** @type {unknown} */ s, /** @type {number} */ n) => String(s ?? "-").padStart(n);
  const lines = [];
  lines.push("");
  lines.push(`surge: ${r.mode}, room ${r.room}, ${r.users} users, concurrency ${r.concurrency}${r.interrupted ? " (INTERRUPTED)" : ""}`);
  lines.push(
    `  duration ${r.duration_s} s, ${r.requests.total} requests, ${r.requests.per_second} req/s, network errors ${r.requests.network_errors}`,
  );
  lines.push(
    `  outcomes: issued ${r.outcomes.issued}, denied ${r.outcomes.denied} (no valid licence), failed ${r.outcomes.failed}, unfinished ${r.outcomes.unfinished}; credentials ${r.credentials_issued.total}, notifications ${r.notifications_sent}`,
  );
  lines.push("");
  lines.push(`  ${pad("endpoint", 46)}${padl("requests", 9)}${padl("p50 ms", 9)}${padl("p99 ms", 9)}${padl("max ms", 9)}  statuses`);
  for (const [e, s] of Object.entries(r.latency_by_endpoint)) {
    const statuses = Object.entries(s.statuses)
      .map(([k, v]) => `${k}×${v}`)
      .join(" ");
    lines.push(`  ${pad(e, 46)}${padl(s.requests, 9)}${padl(s.p50_ms, 9)}${padl(s.p99_ms, 9)}${padl(s.max_ms, 9)}  ${statuses}`);
  }
  lines.push("");
  const errs = Object.entries(r.errors);
  lines.push(`  errors: ${errs.length === 0 ? "none" : ""}`);
  for (const [k, n] of errs) lines.push(`    ${padl(n, 6)}  ${k}`);
  const retries = Object.entries(r.client_retries);
  if (retries.length) lines.push(`  client retries: ${retries.map(([k, n]) => `${k} ×${n}`).join(", ")}`);
  const f = r.fairness;
  lines.push(
    `  fairness: ${f.admitted} admitted over ${f.admission_span_s} s (${f.admissions_per_minute_observed ?? "-"}/min); out-of-order pairs by admitted_at ${f.out_of_order_pairs_by_admitted_at}/${f.pairs} (${(f.fraction_by_admitted_at * 100).toFixed(2)} %)` +
      `, by first seen ${f.out_of_order_pairs_by_first_seen}/${f.pairs} (${(f.fraction_by_first_seen * 100).toFixed(2)} %); wait p50 ${f.wait_s.p50} s p99 ${f.wait_s.p99} s`,
  );
  const b = r.backend;
  lines.push(
    `  deferrals: /credential 202 ${b.credential_deferred}; /deferred_credential ${JSON.stringify(b.deferred_credential_by_status)}; 5xx over all endpoints ${b.responses_5xx}`,
    `  backend: /credential 503s ${b.credential_503}; register busy refusals ${b.register_busy_refusals ?? "?"}, errors ${b.register_errors ?? "?"}, reads ${b.register_reads ?? "?"}, max in flight ${b.register_max_in_flight ?? "?"}`,
  );
  if (r.room_config.outflow?.mode === "adaptive" || (r.outflow_timeline ?? []).some((x) => x.drill_latency_ms !== null)) {
    lines.push("");
    lines.push(
      `  ${pad("t (s)", 8)}${padl("drill ms", 10)}${padl("rate/min", 10)}${padl("decision", 10)}${padl("backend ms", 12)}${padl("errors", 8)}${padl("admitted/min", 14)}${padl("waiting", 9)}`,
    );
    for (const x of r.outflow_timeline.filter((_, i) => i % 3 === 0)) {
      const errs = x.backend_error_rate === null ? "-" : `${Math.round(x.backend_error_rate * 100)}%`;
      lines.push(
        `  ${pad(x.t_s, 8)}${padl(x.drill_latency_ms ?? "-", 10)}${padl(x.rate_per_minute, 10)}${padl(x.decision, 10)}${padl(x.backend_latency_ms ?? "-", 12)}${padl(errs, 8)}${padl(x.admitted_last_minute, 14)}${padl(x.waiting, 9)}`,
      );
    }
  }
  lines.push(`  report: ${out}`);
  console.log(lines.join("\n"));
}

/**
 * --flow authorization_code: standard wallets and browsers without JavaScript (lab/authorization-surge.mjs).
 * Ends the process: status 0 only if everyone finished and the identity provider and the register stayed
 * within the admission rate.
 * @param {ReturnType<typeof options>} o
 * @returns {Promise<never>}
 */
async function authorizationCodeMain(o) {
  const { population } = await loadLab(ROOT);
  const report = await runAuthorizationSurge({ ...o, root: ROOT, population });
  printAuthorizationSummary(report);
  console.log(`  report: ${o.out}`);
  const bounded = report.within_admission_rate.register && report.within_admission_rate.identity;
  process.exit(report.outcomes.failed === 0 && report.outcomes.unfinished === 0 && bounded ? 0 : 1);
}

main().then(
  // Failures in bypass mode are what it demonstrates; with the waiting room in front there should be none.
  (report) =>
    process.exit(
      report.interrupted || report.outcomes.unfinished > 0 || (!report.mode.startsWith("bypass") && report.outcomes.failed > 0) ? 1 : 0,
    ),
  (e) => {
    console.error(`surge: ${e?.stack ?? e}`);
    process.exit(1);
  },
);
