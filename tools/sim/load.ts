import type { EdgeModel } from "./config";
import { Locations } from "./locations";
import { CPU_MS, DURABLE_OBJECT_GB, REGISTER_ROWS_READ, STEPS, type Step, type WorkerKind } from "./request-plan";

/**
 * Requests per second on every object, and the launch's totals for its cost, counted from what the
 * simulation does (tools/sim/request-plan.ts says what each step costs):
 * - queue shards: joins and quiet-room position queries as they happen, plus one sync per tick;
 * - IssuanceSessions shards: redemptions, credential requests and notifications on the shard of each
 *   session, the per-person claim on the shard of the pseudonym, plus one count call per tick;
 * - ReplayGuards: the join's DPoP jti and each credential's c_nonce;
 * - the coordinator: its tick alarm, the snapshot reads of the locations (tools/sim/locations.ts) and the
 *   token path's rare direct refresh; no session call;
 * - polls are answered at the edge (no object). The tracked sample's polls, scaled by population /
 *   sample, give the edge's poll rate, smoothed over the last SMOOTH ticks.
 */
const SMOOTH = 10;

export interface TickTraffic {
  /** Length of the interval ending at this tick (ms). */
  readonly intervalMs: number;
  /** ms since the start of the run, at this tick. */
  readonly at: number;
  /** Steps taken in the interval (polls: the tracked sample's only). */
  readonly steps: Record<Step, number>;
  readonly queueShardRequests: Int32Array;
  readonly sessionShardRequests: Int32Array;
  readonly replayGuardRequests: Int32Array;
  /** Token requests whose isolate's snapshot did not show the admission yet: one coordinator read each. */
  readonly directSnapshotReads: number;
  /** Rows the queue shards' syncs scanned, and the coordinator's rows written for the tick. */
  readonly syncRowsRead: number;
  readonly tickRowsWritten: number;
  /** Rows the session shards' count calls scanned. */
  readonly countRowsRead: number;
  readonly admitted: number;
}

export interface PeakLoad {
  /** Busiest queue shard, one interval: joins, position queries and 1 sync. */
  queueShardRequestsPerSecond: number;
  /** Busiest IssuanceSessions shard: redemptions, claims, credential spends, notifications and 1 count call. */
  sessionShardRequestsPerSecond: number;
  replayGuardRequestsPerSecond: number;
  coordinatorRequestsPerSecond: number;
  /** Of which snapshot reads from locations, and of those the racing refreshes. */
  coordinatorSnapshotReadsPerSecond: number;
  coordinatorRacingReadsPerSecond: number;
  edgeRequestsPerSecond: number;
  pollsPerSecond: number;
  cacheOperationsPerSecond: number;
  /** Per calendar minute: identity provider requests, register reads, admissions. */
  idpRequestsPerMinute: number;
  idpRequestsAfterAdmissionPerMinute: number;
  registerReadsPerMinute: number;
  admissionsPerMinute: number;
}

export interface LaunchTotals {
  workerRequests: Record<WorkerKind, number>;
  workerCpuMs: number;
  durableObjectRequests: { coordinator: number; queueShards: number; sessionShards: number; replayGuards: number };
  durableObjectGbSeconds: number;
  sqliteRowsRead: number;
  sqliteRowsWritten: number;
  d1RowsRead: number;
  registerReads: number;
  idpRequests: number;
  idpRequestsAfterAdmission: number;
  cacheOperations: number;
}

export class LoadModel {
  readonly peak: PeakLoad = {
    queueShardRequestsPerSecond: 0,
    sessionShardRequestsPerSecond: 0,
    replayGuardRequestsPerSecond: 0,
    coordinatorRequestsPerSecond: 0,
    coordinatorSnapshotReadsPerSecond: 0,
    coordinatorRacingReadsPerSecond: 0,
    edgeRequestsPerSecond: 0,
    pollsPerSecond: 0,
    cacheOperationsPerSecond: 0,
    idpRequestsPerMinute: 0,
    idpRequestsAfterAdmissionPerMinute: 0,
    registerReadsPerMinute: 0,
    admissionsPerMinute: 0,
  };
  readonly totals: LaunchTotals = {
    workerRequests: { join: 0, poll: 0, token: 0, nonce: 0, credential: 0, notification: 0, par: 0, authorize: 0, callback: 0 },
    workerCpuMs: 0,
    durableObjectRequests: { coordinator: 0, queueShards: 0, sessionShards: 0, replayGuards: 0 },
    durableObjectGbSeconds: 0,
    sqliteRowsRead: 0,
    sqliteRowsWritten: 0,
    d1RowsRead: 0,
    registerReads: 0,
    idpRequests: 0,
    idpRequestsAfterAdmission: 0,
    cacheOperations: 0,
  };
  readonly locations: Locations;
  private readonly recentPolls: number[] = [];
  private readonly recentMs: number[] = [];
  private minute = -1;
  private readonly perMinute = { idp: 0, idpAfter: 0, register: 0, admitted: 0 };

  constructor(
    edge: EdgeModel,
    /** population / tracked sample */
    private readonly pollScale: number,
  ) {
    this.locations = new Locations(edge);
  }

  onTick(t: TickTraffic): void {
    const seconds = t.intervalMs / 1000;
    const p = this.peak;
    const totals = this.totals;

    // Worker requests by kind; polls scaled from the tracked sample.
    let edgeWithoutPolls = 0;
    let idp = 0;
    let idpAfter = 0;
    let registerReads = 0;
    let rowsRead = t.syncRowsRead + t.countRowsRead;
    let rowsWritten = t.tickRowsWritten;
    for (const step of Object.keys(STEPS) as Step[]) {
      const count = step === "poll" ? t.steps.poll * this.pollScale : t.steps[step];
      if (count === 0) continue;
      const cost = STEPS[step];
      for (const [kind, n] of cost.worker) {
        totals.workerRequests[kind] += count * n;
        totals.workerCpuMs += count * n * CPU_MS[kind];
        if (step !== "poll") edgeWithoutPolls += count * n;
      }
      rowsRead += count * cost.rowsRead;
      rowsWritten += count * cost.rowsWritten;
      const idpHere = count * ("idpRequests" in cost ? cost.idpRequests : 0);
      idp += idpHere;
      if (step === "redeemBrowser") idpAfter += idpHere;
      registerReads += count * ("registerReads" in cost ? cost.registerReads : 0);
    }
    totals.sqliteRowsRead += rowsRead;
    totals.sqliteRowsWritten += rowsWritten;
    totals.registerReads += registerReads;
    totals.d1RowsRead += registerReads * REGISTER_ROWS_READ;
    totals.idpRequests += idp;
    totals.idpRequestsAfterAdmission += idpAfter;

    this.recentPolls.push(t.steps.poll);
    this.recentMs.push(t.intervalMs);
    if (this.recentPolls.length > SMOOTH) {
      this.recentPolls.shift();
      this.recentMs.shift();
    }
    const polls = (sum(this.recentPolls) * this.pollScale * 1000) / sum(this.recentMs);
    const edge = edgeWithoutPolls / seconds + polls;

    // Objects: every request, and the seconds each object is active (billed duration).
    const snapshot = this.locations.snapshotTraffic(edge);
    const coordinatorCalls = snapshot.reads * seconds + t.directSnapshotReads + 1;
    const queue = peakOf(t.queueShardRequests, 1);
    const session = peakOf(t.sessionShardRequests, 1);
    const replay = peakOf(t.replayGuardRequests, 0);
    const dor = totals.durableObjectRequests;
    dor.coordinator += coordinatorCalls;
    dor.queueShards += queue.total;
    dor.sessionShards += session.total;
    dor.replayGuards += replay.total;
    // The coordinator, every queue shard and every session shard are called every tick; a ReplayGuard
    // when it had a request.
    const activeObjects = 1 + queue.active + session.active + replay.active;
    totals.durableObjectGbSeconds += activeObjects * seconds * DURABLE_OBJECT_GB;
    totals.cacheOperations += snapshot.cacheOps * seconds;

    p.queueShardRequestsPerSecond = Math.max(p.queueShardRequestsPerSecond, queue.max / seconds);
    p.sessionShardRequestsPerSecond = Math.max(p.sessionShardRequestsPerSecond, session.max / seconds);
    p.replayGuardRequestsPerSecond = Math.max(p.replayGuardRequestsPerSecond, replay.max / seconds);
    p.coordinatorRequestsPerSecond = Math.max(p.coordinatorRequestsPerSecond, coordinatorCalls / seconds);
    p.coordinatorSnapshotReadsPerSecond = Math.max(p.coordinatorSnapshotReadsPerSecond, snapshot.reads);
    p.coordinatorRacingReadsPerSecond = Math.max(p.coordinatorRacingReadsPerSecond, snapshot.racing);
    p.edgeRequestsPerSecond = Math.max(p.edgeRequestsPerSecond, edge);
    p.pollsPerSecond = Math.max(p.pollsPerSecond, polls);
    p.cacheOperationsPerSecond = Math.max(p.cacheOperationsPerSecond, snapshot.cacheOps);

    // Per calendar minute of the run (the interval is counted in the minute its tick falls in).
    const minute = Math.floor(t.at / 60_000);
    if (minute !== this.minute) {
      this.closeMinute();
      this.minute = minute;
    }
    this.perMinute.idp += idp;
    this.perMinute.idpAfter += idpAfter;
    this.perMinute.register += registerReads;
    this.perMinute.admitted += t.admitted;
  }

  /** Call once after the last tick. */
  finish(): void {
    this.closeMinute();
  }

  private closeMinute(): void {
    const m = this.perMinute;
    const p = this.peak;
    p.idpRequestsPerMinute = Math.max(p.idpRequestsPerMinute, m.idp);
    p.idpRequestsAfterAdmissionPerMinute = Math.max(p.idpRequestsAfterAdmissionPerMinute, m.idpAfter);
    p.registerReadsPerMinute = Math.max(p.registerReadsPerMinute, m.register);
    p.admissionsPerMinute = Math.max(p.admissionsPerMinute, m.admitted);
    m.idp = m.idpAfter = m.register = m.admitted = 0;
  }
}

/** Busiest object, total and objects with any call, with `perTick` calls each object gets every tick. */
function peakOf(requests: Int32Array, perTick: number): { max: number; total: number; active: number } {
  let max = 0;
  let total = 0;
  let active = 0;
  for (let i = 0; i < requests.length; i++) {
    const n = requests[i]! + perTick;
    if (n > max) max = n;
    total += n;
    if (n > 0) active++;
  }
  return { max, total, active };
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
