import { activeSecondsPerAdmission } from "./config";
import { launchCost, type LaunchCost } from "./cost";
import type { LaunchTotals } from "./load";
import { fairness } from "./fairness";
import { NEVER_REDEEM } from "./population";
import { errorStats, waitBins, type ErrorStats, type WaitBins } from "./estimates";
import { ADMITTED, DONE, EXPIRED, IN_SESSION, REFUSED, WAITING, type RunOutput } from "./run";
import { stateSizeModel, type StateSizeModel } from "./state-size";
import { quantile, round, sorted } from "./stats";

/**
 * The launch-day report: every number computed from one run. Targets are judged here, plainly; the
 * tool prints and saves what this returns.
 */
export interface Target {
  readonly name: string;
  readonly target: string;
  readonly value: number;
  readonly display: string;
  readonly met: boolean;
}

export type { ErrorStats };

export interface SimulationReport {
  readonly config: Record<string, unknown>;
  readonly sizing: { activeSecondsPerAdmissionModeled: number; expectedActiveAtFullRate: number; totalActiveUsers: number };
  readonly run: { ticks: number; simulatedHours: number; drained: boolean };
  readonly people: {
    joined: number;
    admitted: number;
    served: number;
    expiredAbandoned: number;
    expiredAfterGivingUpWhileWaiting: number;
    expiredNeverRedeemed: number;
    stillWaiting: number;
    inFlight: number;
    lost: number;
    lostBreakdown: Record<string, number>;
    /** Redemptions the coordinator refused, by reason (each is also counted as lost). */
    refusals: Record<string, number>;
    /** served + expiredAbandoned + stillWaiting + inFlight + lost === joined */
    consistent: boolean;
  };
  readonly queue: { peakWaiting: number; peakAtHour: number; waitMedianMinutes: number; waitP90Minutes: number; waitMaxMinutes: number };
  readonly admissions: {
    limitPerMinute: number;
    worstMinute: number;
    worstOvershootPct: number;
    worstSlidingWindow: number;
    saturatedMinutes: number;
    saturatedMinutesBelowLimit: number;
    ofWhichActiveBound: number;
    worstShortfallPct: number;
    meanAdmittedPerSaturatedMinute: number;
  };
  readonly fairness: {
    inversions: number;
    pairs: number;
    outOfOrderFraction: number;
    overtaken: number;
    worstDisplacementSeconds: number;
    keyOrderViolations: number;
  };
  readonly estimates: { tracked: number; first: ErrorStats; later: ErrorStats; laterOverAMinute: ErrorStats };
  readonly durableObjects: {
    label: string;
    peakCoordinatorRequestsPerSecond: number;
    /** Of which snapshot reads from locations, of those racing refreshes (Cache API, no compare-and-set). */
    peakCoordinatorSnapshotReadsPerSecond: number;
    peakCoordinatorRacingReadsPerSecond: number;
    peakQueueShardRequestsPerSecond: number;
    peakSessionShardRequestsPerSecond: number;
    peakReplayGuardRequestsPerSecond: number;
    /** The busiest of the queue and session shards (the "busiest shard"). */
    peakBusiestShardRequestsPerSecond: number;
    peakEdgeRequestsPerSecond: number;
    peakPollsPerSecond: number;
    peakCacheOperationsPerSecond: number;
    softLimitPerObject: number;
    targetPerObject: number;
  };
  readonly edge: {
    locations: number;
    isolates: number;
    biggestLocationShare: number;
    isolatesInBiggest: number;
    locationsFor90Pct: number;
  };
  /** Calls made only after admission (bounded by the admission rate) against those made before it. */
  readonly flows: {
    authorizationCodeShare: number;
    peakAdmissionsPerMinute: number;
    peakIdpRequestsPerMinute: number;
    peakIdpRequestsAfterAdmissionPerMinute: number;
    peakRegisterReadsPerMinute: number;
    idpRequests: number;
    idpRequestsAfterAdmission: number;
    registerReads: number;
  };
  readonly totals: LaunchTotals;
  readonly cost: LaunchCost;
  readonly backend: { capacity: number; peakOpenSessions: number; peakActive: number; activeMismatch: number };
  readonly state: StateSizeModel & { peakWaitingBytesPerShard: number; allTicketsBytesPerShard: number };
  readonly checks: RunOutput["checks"];
  readonly targets: Target[];
  readonly series: {
    minute: number[];
    joins: number[];
    admitted: number[];
    waiting: number[];
    waitingGone: number[];
    active: number[];
    openSessions: number[];
    quotedRatePerMinute: number[];
  };
  readonly waits: WaitBins;
}

export function buildReport(out: RunOutput): SimulationReport {
  const cfg = out.config;
  const room = cfg.room;
  const pop = out.population;
  const limit = room.new_users_per_minute;

  // Outcomes: every person lands in exactly one bucket, judged from where they ended up.
  let served = 0;
  let gaveUp = 0;
  let neverRedeemed = 0;
  let stillWaiting = 0;
  let inFlight = 0;
  const lost: Record<string, number> = {};
  const lose = (why: string) => (lost[why] = (lost[why] ?? 0) + 1);
  for (let p = 0; p < pop.size; p++) {
    const s = out.state[p];
    if (s === WAITING) stillWaiting++;
    else if (s === IN_SESSION || s === DONE) served++;
    else if (s === ADMITTED) inFlight++;
    else if (s === EXPIRED) {
      if (out.gone[p]) gaveUp++;
      else if (pop.traits[p]! & NEVER_REDEEM) neverRedeemed++;
      else lose("admission expired before the person could use it");
    } else if (s === REFUSED) lose("redemption refused");
    else lose("never joined");
  }
  if (out.checks.skipped > 0) lost["passed over by the frontier"] = out.checks.skipped;
  const lostTotal = Object.values(lost).reduce((a, b) => a + b, 0);
  const expiredAbandoned = gaveUp + neverRedeemed;
  const joined = pop.size;
  const admitted = out.admissionOrder.length;

  // Waits actually experienced: join (receipt at the shard) to the admitting tick.
  const waitsMs = new Float64Array(admitted);
  for (let i = 0; i < admitted; i++) {
    const p = out.admissionOrder[i]!;
    waitsMs[i] = out.admittedAt[p]! - pop.receipt[p]!;
  }
  const waits = sorted(waitsMs);

  const minutes = out.minutes;
  let worstMinute = 0;
  let saturatedMinutes = 0;
  let below = 0;
  let activeBound = 0;
  let worstShortfall = 0;
  let saturatedAdmitted = 0;
  for (const m of minutes) {
    worstMinute = Math.max(worstMinute, m.admitted);
    if (m.ticks === 0 || m.saturatedTicks < m.ticks) continue;
    saturatedMinutes++;
    saturatedAdmitted += m.admitted;
    if (m.admitted < limit) {
      below++;
      if (m.activeBoundTicks > 0) activeBound++;
      worstShortfall = Math.max(worstShortfall, (limit - m.admitted) / limit);
    }
  }
  const worstOvershoot = Math.max(0, (worstMinute - limit) / limit);

  const fair = fairness(out.admissionOrder, pop.tap);
  const outOfOrder = fair.pairs > 0 ? fair.inversions / fair.pairs : 0;

  const first = errorStats(out.firstEstimates, out.admittedAt, 0);
  const later = errorStats(out.laterEstimates, out.admittedAt, 0);
  const laterFar = errorStats(out.laterEstimates, out.admittedAt, 60);

  const model = stateSizeModel();
  const shards = room.shards;
  const gaveUpShare = joined > 0 ? gaveUp / joined : 0;
  const activeSeconds = activeSecondsPerAdmission(room, cfg.behaviour, gaveUpShare);

  const load = out.load;
  const busiestShard = Math.max(load.queueShardRequestsPerSecond, load.sessionShardRequestsPerSecond);
  const targets: Target[] = [
    target(
      "admissions per calendar minute over the limit",
      "≤ 5 % in every minute",
      worstOvershoot,
      pct(worstOvershoot),
      worstOvershoot <= 0.05,
    ),
    target("pairs admitted out of arrival order", "≤ 0.1 %", outOfOrder, pct(outOfOrder, 5), outOfOrder <= 0.001),
    target("median error of the first wait estimate", "≤ 15 %", first.median, pct(first.median), first.median <= 0.15),
    target("people lost", "0", lostTotal, String(lostTotal), lostTotal === 0),
    target(
      "open sessions over backend capacity",
      "never",
      out.peaks.openSessions,
      `peak ${out.peaks.openSessions} of ${cfg.backendCapacity}`,
      out.peaks.openSessions <= cfg.backendCapacity,
    ),
    target(
      "coordinator requests per second at the peak",
      `≤ ${OBJECT_TARGET}/s`,
      load.coordinatorRequestsPerSecond,
      `${round(load.coordinatorRequestsPerSecond, 1)}/s`,
      load.coordinatorRequestsPerSecond <= OBJECT_TARGET,
    ),
    target(
      "busiest shard's requests per second at the peak (queue or session shard)",
      `≤ ${OBJECT_TARGET}/s`,
      busiestShard,
      `${round(busiestShard, 1)}/s`,
      busiestShard <= OBJECT_TARGET,
    ),
  ];
  const shares = Array.from(out.locations.shares);
  let covered = 0;
  let for90 = 0;
  while (covered < 0.9 && for90 < shares.length) covered += shares[for90++]!;

  return {
    config: {
      seed: cfg.seed,
      arrivals: cfg.arrivals,
      hours: cfg.hours,
      maxHours: cfg.maxHours,
      room,
      backendCapacity: cfg.backendCapacity,
      trackedUsers: cfg.trackedUsers,
      tickLagMs: cfg.tickLagMs,
      curve: cfg.curve,
      behaviour: cfg.behaviour,
      edge: cfg.edge,
      objects: cfg.objects,
      authorizationCodeShare: cfg.authorizationCodeShare,
    },
    sizing: {
      activeSecondsPerAdmissionModeled: round(activeSeconds, 1),
      expectedActiveAtFullRate: Math.round((limit / 60) * activeSeconds),
      totalActiveUsers: room.total_active_users,
    },
    run: { ticks: out.ticks, simulatedHours: round(out.endedAtMs / 3_600_000, 2), drained: out.drained },
    people: {
      joined,
      admitted,
      served,
      expiredAbandoned,
      expiredAfterGivingUpWhileWaiting: gaveUp,
      expiredNeverRedeemed: neverRedeemed,
      stillWaiting,
      inFlight,
      lost: lostTotal,
      lostBreakdown: lost,
      refusals: out.refusals,
      consistent:
        served + expiredAbandoned + stillWaiting + inFlight + lostTotal === joined && admitted === out.checks.coordinatorAdmittedTotal,
    },
    queue: {
      peakWaiting: out.peaks.waiting,
      peakAtHour: round(out.peaks.waitingAtMinute / 60, 2),
      waitMedianMinutes: round(quantile(waits, 0.5) / 60_000, 1),
      waitP90Minutes: round(quantile(waits, 0.9) / 60_000, 1),
      waitMaxMinutes: round(quantile(waits, 1) / 60_000, 1),
    },
    admissions: {
      limitPerMinute: limit,
      worstMinute,
      worstOvershootPct: round(worstOvershoot * 100, 2),
      worstSlidingWindow: out.worstSlidingWindow,
      saturatedMinutes,
      saturatedMinutesBelowLimit: below,
      ofWhichActiveBound: activeBound,
      worstShortfallPct: round(worstShortfall * 100, 2),
      meanAdmittedPerSaturatedMinute: saturatedMinutes > 0 ? round(saturatedAdmitted / saturatedMinutes, 1) : 0,
    },
    fairness: {
      inversions: fair.inversions,
      pairs: fair.pairs,
      outOfOrderFraction: outOfOrder,
      overtaken: fair.overtaken,
      worstDisplacementSeconds: round(fair.worstDisplacementMs / 1000, 3),
      keyOrderViolations: out.checks.keyOrderViolations,
    },
    estimates: { tracked: pop.trackedCount, first, later, laterOverAMinute: laterFar },
    durableObjects: {
      label: "counted from the simulation's own calls; snapshot reads from the modelled locations and isolates",
      peakCoordinatorRequestsPerSecond: round(load.coordinatorRequestsPerSecond, 1),
      peakCoordinatorSnapshotReadsPerSecond: round(load.coordinatorSnapshotReadsPerSecond, 1),
      peakCoordinatorRacingReadsPerSecond: round(load.coordinatorRacingReadsPerSecond, 1),
      peakQueueShardRequestsPerSecond: round(load.queueShardRequestsPerSecond, 1),
      peakSessionShardRequestsPerSecond: round(load.sessionShardRequestsPerSecond, 1),
      peakReplayGuardRequestsPerSecond: round(load.replayGuardRequestsPerSecond, 1),
      peakBusiestShardRequestsPerSecond: round(busiestShard, 1),
      peakEdgeRequestsPerSecond: Math.round(load.edgeRequestsPerSecond),
      peakPollsPerSecond: Math.round(load.pollsPerSecond),
      peakCacheOperationsPerSecond: Math.round(load.cacheOperationsPerSecond),
      softLimitPerObject: 1000,
      targetPerObject: OBJECT_TARGET,
    },
    edge: {
      locations: shares.length,
      isolates: cfg.edge.isolates,
      biggestLocationShare: round(shares[0] ?? 0, 3),
      isolatesInBiggest: out.locations.isolates[0] ?? 0,
      locationsFor90Pct: for90,
    },
    flows: {
      authorizationCodeShare: cfg.authorizationCodeShare,
      peakAdmissionsPerMinute: load.admissionsPerMinute,
      peakIdpRequestsPerMinute: Math.round(load.idpRequestsPerMinute),
      peakIdpRequestsAfterAdmissionPerMinute: Math.round(load.idpRequestsAfterAdmissionPerMinute),
      peakRegisterReadsPerMinute: Math.round(load.registerReadsPerMinute),
      idpRequests: Math.round(out.totals.idpRequests),
      idpRequestsAfterAdmission: Math.round(out.totals.idpRequestsAfterAdmission),
      registerReads: Math.round(out.totals.registerReads),
    },
    totals: out.totals,
    cost: launchCost(out.totals, admitted),
    backend: {
      capacity: cfg.backendCapacity,
      peakOpenSessions: out.peaks.openSessions,
      peakActive: out.peaks.active,
      activeMismatch: out.checks.activeMismatch,
    },
    state: {
      ...model,
      peakWaitingBytesPerShard: Math.round((out.peaks.waiting / shards) * model.bytesPerTicket),
      allTicketsBytesPerShard: Math.round((joined / shards) * model.bytesPerTicket),
    },
    checks: out.checks,
    targets,
    series: {
      minute: minutes.map((m) => m.minute),
      joins: minutes.map((m) => m.joins),
      admitted: minutes.map((m) => m.admitted),
      waiting: minutes.map((m) => m.waiting),
      waitingGone: minutes.map((m) => m.waitingGone),
      active: minutes.map((m) => m.activeMax),
      openSessions: minutes.map((m) => m.openSessionsMax),
      quotedRatePerMinute: minutes.map((m) => round(m.quotedRate * 60, 1)),
    },
    waits: waitBins(out),
  };
}

/** Half a Durable Object's soft limit of ≈ 1,000 requests/s (issue 17). */
const OBJECT_TARGET = 500;

function target(name: string, goal: string, value: number, display: string, met: boolean): Target {
  return { name, target: goal, value, display, met };
}

function pct(x: number, digits = 2): string {
  return `${(x * 100).toFixed(digits)} %`;
}
