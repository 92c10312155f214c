// @ts-check
// `npm run surge -- --flow authorization_code`: a population of standard wallets going through the HAIP
// authorization code flow at once (authorization-journey.mjs: the @openid4vc wallet library plus a
// browser without JavaScript per person), against a fifo room. What it is for: the identity provider and
// the licence register must each see load bounded by the admission rate, whatever the arrival burst,
// because the identity step happens after admission. So it reports, next to admissions, the identity
// provider's requests and sign-ins and the register's reads, totals and their peak over any minute
// (sampled every 2 s), and says whether each stayed within the admission rate.
//
//   --idp oidc-provider (default)  a real OpenID Connect provider in this process (test/support/
//                                  oidc-provider.mjs) and a fresh `npm start` configured to use it,
//                                  started by the tool (--base is not used): the provider counts every
//                                  request it serves, the service's back-channel token/JWKS calls included;
//   --idp dev                      the development identity provider embedded in the service at --base:
//                                  only the browsers' requests to it are counted, and the room is the
//                                  service's AUTHORIZATION_ROOM (default permis; --room must name it).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCOUNT_FIELD, startIdentityProviderFor } from "../../test/support/oidc-provider.mjs";
import { freePort, snapshotTree } from "../lib/processes.mjs";
import { adminCall, putRoom } from "./admin.mjs";
import { runAuthorizationJourney } from "./authorization-journey.mjs";
import { percentile } from "./numbers.mjs";
import { createRecorder, Semaphore } from "./requests.mjs";
import { DevServer } from "./server.mjs";
import { MDOC_CONFIGURATION, SD_JWT_CONFIGURATION } from "./wallet.mjs";

/** Paths of the embedded development identity provider, as the browsers see them (--idp dev). */
const DEV_IDENTITY_PATH = /^\/v1\/dev\/oidc\//;

/**
 * @typedef {{
 *   users: number, concurrency: number, base: string, room: string, rate: number, first: number,
 *   timeoutMs: number, out: string, idp: "oidc-provider" | "dev", root: string, population: string[],
 * }} AuthorizationSurgeOptions
 */

/**
 * The largest increase of `key` over any 60 s window of the timeline (samples every ~2 s).
 * @param {Array<Record<string, number>>} timeline
 * @param {string} key
 */
function peakPerMinute(timeline, key) {
  let peak = 0;
  for (let i = 0; i < timeline.length; i++) {
    const start = timeline[i];
    if (!start) continue;
    for (let j = i + 1; j < timeline.length; j++) {
      const end = timeline[j];
      if (!end || (end.t_ms ?? 0) - (start.t_ms ?? 0) > 60_000) break;
      peak = Math.max(peak, (end[key] ?? 0) - (start[key] ?? 0));
    }
  }
  return peak;
}

/**
 * Runs the population; returns the report (also written to `o.out`).
 * @param {AuthorizationSurgeOptions} o
 */
export async function runAuthorizationSurge(o) {
  /** @type {{ idp: Awaited<ReturnType<typeof startIdentityProviderFor>>["idp"], server: DevServer, workDir: string } | null} */
  let own = null;
  let base = o.base;
  if (o.idp === "oidc-provider") {
    const workDir = mkdtempSync(join(tmpdir(), "antichambre-surge-"));
    const port = await freePort();
    const started = await startIdentityProviderFor(`http://127.0.0.1:${port}`);
    const server = new DevServer({
      root: snapshotTree(o.root, workDir),
      port,
      persistDir: join(workDir, "state"),
      logPath: join(o.root, "reports", "surge-server.log"),
      // The flow's browsers wait in the service's AUTHORIZATION_ROOM: this run's room.
      args: ["--var", `PUBLIC_ORIGIN:http://127.0.0.1:${port}`, "--var", `AUTHORIZATION_ROOM:${o.room}`, ...started.args],
    });
    own = { idp: started.idp, server, workDir };
    mkdirSync(join(o.root, "reports"), { recursive: true });
    const ms = await server.start();
    base = server.base;
    console.error(`surge: npm start on ${base} in ${(ms / 1000).toFixed(1)} s, identity provider ${started.idp.issuer}`);
  }
  try {
    return await populationRun({ ...o, base }, own?.idp ?? null);
  } finally {
    if (own) {
      await own.server.stop();
      await own.idp.close();
      rmSync(own.workDir, { recursive: true, force: true });
    }
  }
}

/**
 * @param {AuthorizationSurgeOptions} o
 * @param {Awaited<ReturnType<typeof startIdentityProviderFor>>["idp"] | null} idp
 */
async function populationRun(o, idp) {
  await putRoom(o.base, o.room, { queueing_method: "fifo", new_users_per_minute: o.rate, admission_ttl_seconds: 600, paused: false });
  const registerBefore = (await adminCall(o.base, "GET", "/v1/admin/register")).json;
  const stats = createRecorder({ timeoutMs: 30_000 });
  const semaphore = new Semaphore(o.concurrency);
  const measured = stats.fetch(semaphore);
  // The embedded provider's requests are seen from the browsers: its sign-ins are the form posts.
  let browserIdentityRequests = 0;
  let browserSignIns = 0;
  /** @type {typeof fetch} */
  const deviceFetch = async (url, init) => {
    const u = new URL(String(url instanceof Request ? url.url : url));
    if ((idp && u.origin === idp.issuer) || (!idp && DEV_IDENTITY_PATH.test(u.pathname))) {
      browserIdentityRequests++;
      if (!idp && init?.method === "POST") browserSignIns++;
    }
    return measured(u.href, init);
  };
  const idpBefore = idp ? { total: idp.counts.total, sign_ins: idp.counts.sign_ins, by_endpoint: { ...idp.counts.by_endpoint } } : null;
  const identityRequestsNow = () => (idp && idpBefore ? idp.counts.total - idpBefore.total : browserIdentityRequests);
  const signInsNow = () => (idp && idpBefore ? idp.counts.sign_ins - idpBefore.sign_ins : browserSignIns);
  const counters = { waiting: 0, admitted: 0, issued: 0, denied: 0, failed: 0 };
  /** @type {Array<Record<string, number>>} */
  const timeline = [];
  const t0 = Date.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const room = (await adminCall(o.base, "GET", `/v1/admin/rooms/${encodeURIComponent(o.room)}`)).json;
      const register = (await adminCall(o.base, "GET", "/v1/admin/register")).json;
      timeline.push({
        t_ms: Date.now() - t0,
        admitted_total: room?.admitted_total ?? 0,
        waiting: room?.waiting ?? 0,
        register_reads: (register?.reads ?? 0) - (registerBefore?.reads ?? 0),
        idp_requests: identityRequestsNow(),
        idp_sign_ins: signInsNow(),
        issued: counters.issued,
      });
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();
  const ctx = {
    base: o.base,
    fetch: deviceFetch,
    // The same person id for the test provider's form and the embedded development one.
    fill: (/** @type {string} */ personId) => ({ [ACCOUNT_FIELD]: personId, person_id: personId }),
    deadlineMs: o.timeoutMs,
  };
  const records = await Promise.all(
    Array.from({ length: o.users }, (_, i) => {
      const personId = o.population[o.first - 1 + i] ?? `FR-${String(o.first + i).padStart(6, "0")}`;
      return runAuthorizationJourney(ctx, {
        personId,
        configurationId: i % 2 === 0 ? MDOC_CONFIGURATION : SD_JWT_CONFIGURATION,
        onState: (s) => {
          if (s in counters) counters[/** @type {keyof typeof counters} */ (s)]++;
        },
      });
    }),
  );
  sampling = false;
  await sampler;
  const durationS = (Date.now() - t0) / 1000;
  const roomAfter = (await adminCall(o.base, "GET", `/v1/admin/rooms/${encodeURIComponent(o.room)}`)).json;
  const registerAfter = (await adminCall(o.base, "GET", "/v1/admin/register")).json;
  const admissions = roomAfter?.admitted_total ?? 0;
  const registerReads = (registerAfter?.reads ?? 0) - (registerBefore?.reads ?? 0);
  const idpRequests = identityRequestsNow();
  const signIns = signInsNow();
  const peaks = {
    admissions_per_minute: peakPerMinute(timeline, "admitted_total"),
    identity_sign_ins_per_minute: peakPerMinute(timeline, "idp_sign_ins"),
    identity_requests_per_minute: peakPerMinute(timeline, "idp_requests"),
    register_reads_per_minute: peakPerMinute(timeline, "register_reads"),
  };
  const outcome = (/** @type {string} */ k) => records.filter((r) => r.outcome === k).length;
  const waits = records.flatMap((r) => (r.wait_ms === undefined ? [] : [r.wait_ms / 1000])).sort((a, b) => a - b);
  /** @type {Record<string, { requests: number, p50_ms: number | null, p99_ms: number | null, statuses: Record<string, number> }>} */
  const endpoints = {};
  for (const [endpoint, s] of stats.endpoints) {
    const sorted = [...s.latencies].sort((a, b) => a - b);
    endpoints[endpoint] = { requests: sorted.length, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), statuses: s.statuses };
  }
  const report = {
    tool: "antichambre surge",
    flow: "authorization_code",
    identity_provider: o.idp,
    base: o.base,
    room: o.room,
    users: o.users,
    concurrency: o.concurrency,
    admission_rate_per_minute: o.rate,
    started_at: new Date(t0).toISOString(),
    duration_s: Math.round(durationS * 10) / 10,
    outcomes: {
      issued: outcome("issued"),
      denied: outcome("denied"),
      failed: outcome("failed"),
      unfinished: outcome("unfinished"),
    },
    admissions,
    identity: {
      requests: idpRequests,
      sign_ins: signIns,
      by_endpoint: idp && idpBefore ? diff(idp.counts.by_endpoint, idpBefore.by_endpoint) : null,
      requests_per_admission: admissions ? round(idpRequests / admissions) : null,
      sign_ins_per_admission: admissions ? round(signIns / admissions) : null,
      note:
        o.idp === "oidc-provider"
          ? "every request the provider served: the browsers' and the service's back-channel (token, JWKS, discovery)"
          : "only the browsers' requests to the embedded provider (sign-ins: its form posts)",
    },
    register: {
      reads: registerReads,
      reads_per_admission: admissions ? round(registerReads / admissions) : null,
      note: "the answering isolate's counters (GET /v1/admin/register), before/after difference",
    },
    peaks_per_minute: peaks,
    // Bounded by admissions: every sign-in and every register read follows its own admission, so at
    // no sample may their running count pass the running count of admissions, and in total at most one
    // each per admission. A per-minute peak may exceed the room's rate a little (reported above): the
    // identity step takes each person a different time, so the reads of people admitted in the seconds
    // before a window can fall into it.
    within_admission_rate: {
      identity: signIns <= admissions && neverAhead(timeline, "idp_sign_ins"),
      register: registerReads <= admissions && neverAhead(timeline, "register_reads"),
    },
    wait_s: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: waits.at(-1) ?? null },
    requests: {
      total: stats.requests,
      network_errors: stats.networkErrors,
      responses_by_status: stats.byStatus(),
      bare_5xx: stats.bare5xx,
    },
    latency_by_endpoint: endpoints,
    errors: Object.fromEntries(stats.failures),
    failures_sample: records.filter((r) => r.outcome === "failed").slice(0, 10),
    timeline,
  };
  mkdirSync(join(o.out, ".."), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/** @param {number} x */
const round = (x) => Math.round(x * 100) / 100;

/**
 * Whether `key`'s running count stayed at or below the running count of admissions at every sample.
 * @param {Array<Record<string, number>>} timeline
 * @param {string} key
 */
const neverAhead = (timeline, key) => timeline.every((t) => (t[key] ?? 0) <= (t.admitted_total ?? 0));

/**
 * @param {Record<string, number>} after
 * @param {Record<string, number>} before
 */
function diff(after, before) {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

/**
 * The summary on stdout.
 * @param {Awaited<ReturnType<typeof runAuthorizationSurge>>} r
 */
export function printAuthorizationSummary(r) {
  const lines = [
    "",
    `surge: authorization code flow (wallet library + browsers without JavaScript), identity provider ${r.identity_provider}, room ${r.room}, ${r.users} users, rate ${r.admission_rate_per_minute}/min`,
    `  duration ${r.duration_s} s; issued ${r.outcomes.issued}, denied ${r.outcomes.denied}, failed ${r.outcomes.failed}, unfinished ${r.outcomes.unfinished}; admissions ${r.admissions}`,
    `  identity provider: ${r.identity.requests} requests (${r.identity.requests_per_admission ?? "-"} per admission), sign-ins ${r.identity.sign_ins} (${r.identity.sign_ins_per_admission ?? "-"} per admission)`,
    `  register: ${r.register.reads} reads (${r.register.reads_per_admission ?? "-"} per admission)`,
    `  peak per minute: admissions ${r.peaks_per_minute.admissions_per_minute}, sign-ins ${r.peaks_per_minute.identity_sign_ins_per_minute}, identity requests ${r.peaks_per_minute.identity_requests_per_minute}, register reads ${r.peaks_per_minute.register_reads_per_minute}`,
    `  bounded by admissions (never ahead of them, at most one per admission): identity ${r.within_admission_rate.identity}, register ${r.within_admission_rate.register}`,
    `  wait p50 ${r.wait_s.p50?.toFixed(1) ?? "-"} s, p99 ${r.wait_s.p99?.toFixed(1) ?? "-"} s; ${r.requests.total} requests, ${r.requests.bare_5xx} bare 5xx`,
  ];
  for (const f of r.failures_sample) lines.push(`  failed: ${f.person}: ${f.error}`);
  console.log(lines.join("\n"));
}
