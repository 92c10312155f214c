#!/usr/bin/env node
// A crash mid-surge: the real `npm start` is killed with SIGKILL (the whole process group: node,
// wrangler, both workerd; no shutdown of any kind) while the client SDK drives devices through the
// whole flow, then started again on the same persisted state. Every device must carry on by itself
// (the SDK retries through the outage) and end admitted and issued, with nothing anyone was given lost:
//
//   - tickets and places: every ticket still verifies and reads the same place; a re-join answers 200
//     with the same order key; positions told to each device never went up;
//   - admissions: everyone seen admitted before the crash still is, with the same admitted_at;
//   - issued credentials: every pre-authorized code redeemed before the crash is still refused as used;
//   - the books: admitted_total counts each person once, nobody left waiting, sessions all closed;
//   - FIFO across the crash, and the per-minute cap never exceeded.
//
//   node test/e2e/restart-surge.mjs [--devices 40] [--rate 120] [--kill-after 12]
//
// Results on stdout and in reports/restart-surge.json (server output: reports/restart-surge-server.log);
// exit code 1 on any failed check. About 1.5-2 minutes, most of it two server starts.
import { setMaxListeners } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { putRoom, roomStats } from "../../tools/lab/admin.mjs";
import { runChecks } from "../../tools/lab/checks.mjs";
import { identityAssertion, runJourney, statusOf } from "../../tools/lab/journey.mjs";
import { loadLab } from "../../tools/lab/sdk.mjs";
import { createRecorder, Semaphore } from "../../tools/lab/requests.mjs";
import { DevServer } from "../../tools/lab/server.mjs";
import { freePort, snapshotTree } from "../../tools/lib/processes.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const REPORTS = join(REPO, "reports");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "40" },
    rate: { type: "string", default: "120" },
    "kill-after": { type: "string", default: "12" },
  },
});
const DEVICES = Number(args.devices);
const RATE = Number(args.rate);
const KILL_AFTER_MS = Number(args["kill-after"]) * 1000;
/** Arrivals are spread over this long, so the crash finds devices joining, waiting, admitted and done. */
const ARRIVALS_OVER_MS = 20_000;
const DEADLINE_MS = 240_000;

const checks = [];
function check(name, ok, detail) {
  checks.push({ name, ok: Boolean(ok), detail });
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail !== undefined ? ` ${JSON.stringify(detail)}` : ""}`);
}

async function main() {
  mkdirSync(REPORTS, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), "antichambre-restart-"));
  const root = snapshotTree(REPO, workDir);
  const persistDir = join(workDir, "state");
  mkdirSync(persistDir);
  const logPath = join(REPORTS, "restart-surge-server.log");
  writeFileSync(logPath, "");
  const server = new DevServer({ root, port: await freePort(), persistDir, logPath });
  process.on("exit", () => server.killNow());
  const t0 = Date.now();
  // Set in `finally`, from the checks.
  let failed;
  const info = { devices: DEVICES, rate_per_minute: RATE, killed_after_s: KILL_AFTER_MS / 1000 };
  try {
    const [lab, startMs] = await Promise.all([loadLab(REPO), server.start()]);
    console.log(`  · server up in ${(startMs / 1000).toFixed(1)} s on ${server.base}; work dir ${workDir}`);
    const base = server.base;
    const room = `restart-${Date.now().toString(36)}`;
    await putRoom(base, room, { queueing_method: "fifo", new_users_per_minute: RATE, shards: 4, admission_ttl_seconds: 600 });

    const stats = createRecorder();
    // Attempts enough for the SDK's backoff (0.5 s doubling, capped at 30 s) to outlast a restart.
    const ctx = { sdk: lab.sdk, base, room, fetch: stats.fetch(new Semaphore(32)), metadataCache: new Map(), attempts: 12, stats };
    const abort = new AbortController();
    setMaxListeners(0, abort.signal);
    const deadline = setTimeout(() => abort.abort(new Error("deadline")), DEADLINE_MS);
    const records = [];
    const journeys = Array.from({ length: DEVICES }, async (_, i) => {
      await sleep((i * ARRIVALS_OVER_MS) / DEVICES);
      const configurationId = i % 2 ? lab.sdk.SD_JWT_CONFIGURATION : lab.sdk.MDOC_CONFIGURATION;
      await runJourney(ctx, { personId: lab.population[i], configurationId, signal: abort.signal, onRecord: (r) => (records[i] = r) });
    });

    await sleep(KILL_AFTER_MS);
    const before = await roomStats(base, room);
    const atCrash = records.filter(Boolean).map((r) => ({ rec: r, ticket: r.ticket, admitted_at: r.admitted_at, outcome: r.outcome }));
    await server.kill();
    console.log(
      `  · SIGKILL at ${((Date.now() - t0) / 1000).toFixed(1)} s: ${atCrash.filter((x) => x.ticket).length} devices held a ticket, ` +
        `${atCrash.filter((x) => x.admitted_at !== undefined).length} were admitted, ${atCrash.filter((x) => x.outcome === "issued").length} issued; ` +
        `admitted_total ${before?.admitted_total}, sessions_open ${before?.sessions_open}`,
    );
    const restartMs = await server.start();
    console.log(`  · restarted on the same state in ${(restartMs / 1000).toFixed(1)} s`);

    // Right after the restart, before the devices move on: what each had is still there.
    const reread = await Promise.all(
      atCrash
        .filter((x) => x.ticket)
        .map(async (x) => {
          try {
            const s = await x.rec.client.status();
            return {
              person: x.rec.person,
              had: x.admitted_at,
              status: s.status,
              admitted_at: s.status === "admitted" ? Date.parse(s.admission.admitted_at) : undefined,
            };
          } catch (e) {
            return { person: x.rec.person, had: x.admitted_at, status: `error ${e.status ?? ""} ${e.message}` };
          }
        }),
    );
    const lostTickets = reread.filter((x) => x.status !== "waiting" && x.status !== "admitted");
    check("after the crash every ticket issued before it still reads (waiting or admitted)", lostTickets.length === 0, {
      tickets: reread.length,
      lost: lostTickets.slice(0, 5),
    });
    const lostAdmissions = reread.filter((x) => x.had !== undefined && (x.status !== "admitted" || x.admitted_at !== x.had));
    check("after the crash everyone admitted before it still is, with the same admitted_at", lostAdmissions.length === 0, {
      admitted_before: reread.filter((x) => x.had !== undefined).length,
      lost: lostAdmissions.slice(0, 5),
    });

    await Promise.all(journeys);
    clearTimeout(deadline);
    const after = await roomStats(base, room);
    check(
      "room statistics survived the crash (admitted_total never went back)",
      before && after && after.admitted_total >= before.admitted_total,
      {
        before: before && { admitted_total: before.admitted_total, waiting: before.waiting, sessions_open: before.sessions_open },
        after: after && { admitted_total: after.admitted_total, waiting: after.waiting, sessions_open: after.sessions_open },
      },
    );
    for (const c of runChecks({ records, rate: RATE, stats: after, countInversions: lab.countInversions })) check(c.name, c.ok, c.detail);
    check(
      "every device ended admitted and issued",
      records.every((r) => r.outcome === "issued"),
      { issued: records.filter((r) => r.outcome === "issued").length, of: DEVICES },
    );

    // Places: each device's ticket still reads, and a re-join gives back the same place (200).
    const places = await Promise.all(
      records.map(async (r) => {
        const status = await statusOf(r);
        const assertion = await identityAssertion(ctx, r.person, undefined, r.client.device.thumbprint);
        const again = await r.client.join(assertion).catch((e) => ({ error: e.message }));
        return { person: r.person, status, created: again.created, same: JSON.stringify(r.client.place) === JSON.stringify(r.ord) };
      }),
    );
    const moved = places.filter((p) => p.status !== "admitted" || p.created !== false || !p.same);
    check("every ticket still reads admitted; a re-join answers the same place", moved.length === 0, {
      devices: places.length,
      moved: moved.slice(0, 5),
    });

    // Issued credentials: every code redeemed (before or after the crash) is spent, its session closed by
    // the notification: the redemption records survived.
    const reused = await Promise.all(
      records.map(async (r) => {
        const offer = {
          credential_issuer: base,
          credential_configuration_ids: [r.configuration],
          grants: { "urn:ietf:params:oauth:grant-type:pre-authorized_code": { "pre-authorized_code": r.code } },
        };
        try {
          await r.client.token(offer);
          return "accepted";
        } catch (e) {
          return e.kind ?? String(e.status);
        }
      }),
    );
    check(
      "every redeemed pre-authorized code is refused as used once its session ended",
      reused.every((k) => k === "invalid-grant"),
      { refusals: countBy(reused) },
    );

    check("no 5xx other than problem+json 503 with Retry-After", stats.bare5xx === 0 && stats.unhinted503 === 0, {
      by_status: stats.byStatus(),
      bare_5xx_samples: stats.bare5xxSamples,
      network_errors: stats.networkErrors,
      retries: Object.fromEntries(stats.retries),
    });
    info.restart_s = Math.round(restartMs / 100) / 10;
  } catch (e) {
    check("the run itself", false, `${e?.stack ?? e}`);
  } finally {
    failed = checks.length === 0 || checks.some((c) => !c.ok);
    const report = {
      test: "restart mid-surge (SIGKILL, same persisted state)",
      ...info,
      duration_s: Math.round((Date.now() - t0) / 100) / 10,
      passed: checks.filter((c) => c.ok).length,
      failed: checks.filter((c) => !c.ok).length,
      checks,
    };
    writeFileSync(join(REPORTS, "restart-surge.json"), `${JSON.stringify(report, null, 2)}\n`);
    console.log(`restart-surge: ${report.passed} passed, ${report.failed} failed (${report.duration_s} s)`);
    await server.stop();
    if (!failed) rmSync(workDir, { recursive: true, force: true });
    else console.log(`  · kept ${workDir} for diagnosis`);
  }
  return failed ? 1 : 0;
}

function countBy(values) {
  const out = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`restart-surge: ${e?.stack ?? e}`);
    process.exit(1);
  },
);
