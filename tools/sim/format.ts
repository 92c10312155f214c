import type { ErrorStats, SimulationReport } from "./report";

/** The report as a plain-text table for the terminal: sections of label / value rows, then targets. */
export function formatReport(r: SimulationReport): string {
  const room = r.config.room as { new_users_per_minute: number; total_active_users: number; shards: number; admission_ttl_seconds: number };
  const sections: [string, [string, string][]][] = [
    [
      "run",
      [
        ["arrivals", `${n(r.people.joined)} over ${r.config.hours} h, ${room.shards} shards, seed ${r.config.seed}`],
        ["room", `${n(room.new_users_per_minute)}/min, ${n(room.total_active_users)} active max, TTL ${room.admission_ttl_seconds} s`],
        [
          "simulated",
          `${r.run.simulatedHours} h, ${n(r.run.ticks)} ticks, ${r.run.drained ? "queue drained" : "stopped with people waiting"}`,
        ],
        [
          "sizing (modeled)",
          `${r.sizing.activeSecondsPerAdmissionModeled} s active per admission → ${n(r.sizing.expectedActiveAtFullRate)} active at full rate`,
        ],
      ],
    ],
    [
      "people",
      [
        ["admitted", n(r.people.admitted)],
        ["  served (redeemed)", n(r.people.served)],
        ["  expired: gave up while waiting", n(r.people.expiredAfterGivingUpWhileWaiting)],
        ["  expired: never redeemed", n(r.people.expiredNeverRedeemed)],
        ["still waiting / admission in flight", `${n(r.people.stillWaiting)} / ${n(r.people.inFlight)}`],
        ["lost", `${n(r.people.lost)}${r.people.lost ? ` ${JSON.stringify(r.people.lostBreakdown)}` : ""}`],
        ["books balance", r.people.consistent ? "yes (served + expired + waiting + in flight + lost = joined)" : "NO"],
      ],
    ],
    [
      "queue",
      [
        ["peak waiting", `${n(r.queue.peakWaiting)} at ${r.queue.peakAtHour} h`],
        [
          "wait (join → admission)",
          `median ${r.queue.waitMedianMinutes} min, p90 ${r.queue.waitP90Minutes} min, max ${r.queue.waitMaxMinutes} min`,
        ],
      ],
    ],
    [
      "admission rate",
      [
        ["limit", `${n(r.admissions.limitPerMinute)}/min`],
        ["worst calendar minute", `${n(r.admissions.worstMinute)} (${r.admissions.worstOvershootPct} % over)`],
        ["worst sliding 60 s", n(r.admissions.worstSlidingWindow)],
        ["minutes saturated", n(r.admissions.saturatedMinutes)],
        [
          "  of which below the limit",
          `${n(r.admissions.saturatedMinutesBelowLimit)} (${n(r.admissions.ofWhichActiveBound)} capped by active users), worst ${r.admissions.worstShortfallPct} % short, mean ${n(r.admissions.meanAdmittedPerSaturatedMinute)}/min`,
        ],
      ],
    ],
    [
      "fairness",
      [
        [
          "pairs out of arrival order",
          `${n(r.fairness.inversions)} of ${n(r.fairness.pairs)} (${(r.fairness.outOfOrderFraction * 100).toFixed(5)} %)`,
        ],
        ["people overtaken", `${n(r.fairness.overtaken)}, by at most ${r.fairness.worstDisplacementSeconds} s of arrival time`],
        ["admitted out of key order", n(r.fairness.keyOrderViolations)],
      ],
    ],
    [
      `wait estimates (${n(r.estimates.tracked)} tracked people)`,
      [
        ["first (at join)", errors(r.estimates.first)],
        ["later (polls)", errors(r.estimates.later)],
        ["later, over a minute away", errors(r.estimates.laterOverAMinute)],
        ["answers with a position above the previous one", n(r.checks.positionIncreases)],
      ],
    ],
    [
      "Durable Object load (peak per second)",
      [
        [
          "coordinator",
          `${r.durableObjects.peakCoordinatorRequestsPerSecond} (snapshot reads from locations ${r.durableObjects.peakCoordinatorSnapshotReadsPerSecond}, of which racing refreshes ${r.durableObjects.peakCoordinatorRacingReadsPerSecond}; the tick; no session call)`,
        ],
        ["busiest queue shard", `${r.durableObjects.peakQueueShardRequestsPerSecond} (joins, position queries, 1 sync)`],
        [
          "busiest session shard",
          `${r.durableObjects.peakSessionShardRequestsPerSecond} (redemptions, claims, credential spends, notifications, 1 count call)`,
        ],
        ["busiest ReplayGuard", `${r.durableObjects.peakReplayGuardRequestsPerSecond} (join DPoP jti, credential c_nonce)`],
        [
          "edge requests / polls",
          `${n(r.durableObjects.peakEdgeRequestsPerSecond)} / ${n(r.durableObjects.peakPollsPerSecond)} (polls: 0 DO requests); Cache API ${n(r.durableObjects.peakCacheOperationsPerSecond)} operations/s`,
        ],
        [
          "edge (modelled)",
          `${n(r.edge.isolates)} isolates in ${n(r.edge.locations)} locations; the biggest takes ${(r.edge.biggestLocationShare * 100).toFixed(1)} % of requests with ${n(r.edge.isolatesInBiggest)} isolates; ${r.edge.locationsFor90Pct} locations take 90 %`,
        ],
      ],
    ],
    [
      `identity provider and register (${(r.flows.authorizationCodeShare * 100).toFixed(0)} % authorization code flow)`,
      [
        ["admissions, worst minute", n(r.flows.peakAdmissionsPerMinute)],
        [
          "IdP requests, worst minute",
          `${n(r.flows.peakIdpRequestsPerMinute)} in all; after admission ${n(r.flows.peakIdpRequestsAfterAdmissionPerMinute)} (authorization code flow; the app's assertion comes before joining)`,
        ],
        ["register reads, worst minute", `${n(r.flows.peakRegisterReadsPerMinute)} (only after admission)`],
        [
          "in the whole launch",
          `${n(r.flows.idpRequests)} IdP requests (${n(r.flows.idpRequestsAfterAdmission)} after admission), ${n(r.flows.registerReads)} register reads`,
        ],
      ],
    ],
    [
      `cost on Workers Paid (prices of ${r.cost.pricesTakenOn}; marginal, allowances used)`,
      [
        ...r.cost.lines.map((l): [string, string] => [l.item, `${n(l.quantity)} ${l.unit} → ${usd(l.usd)}`]),
        ["total", `${usd(r.cost.totalUsd)}, ${usd(r.cost.perMillionAdmittedUsd)} per million people admitted`],
      ],
    ],
    [
      "backend",
      [
        ["peak open sessions / active", `${n(r.backend.peakOpenSessions)} / ${n(r.backend.peakActive)} of ${n(r.backend.capacity)}`],
        ["coordinator active vs ground truth", `max difference ${r.backend.activeMismatch}`],
      ],
    ],
    [
      `state per person (${r.state.label})`,
      [
        [
          "queue shard row + 2 index entries",
          `${r.state.bytesPerTicket} bytes with page fill (row ${r.state.rowBytes}, person index ${r.state.personIndexBytes}, order index ${r.state.orderIndexBytes}, before it)`,
        ],
        ["per shard at the peak / all tickets", `${mb(r.state.peakWaitingBytesPerShard)} / ${mb(r.state.allTicketsBytesPerShard)}`],
      ],
    ],
  ];
  const width = Math.max(...sections.flatMap(([, rows]) => rows.map(([k]) => k.length))) + 2;
  const lines: string[] = [];
  for (const [title, rows] of sections) {
    lines.push("", title.toUpperCase());
    for (const [k, v] of rows) lines.push(`  ${k.padEnd(width)}${v}`);
  }
  lines.push("", "TARGETS");
  for (const t of r.targets) lines.push(`  ${t.met ? "met   " : "MISSED"}  ${t.name}: ${t.display} (target ${t.target})`);
  return lines.join("\n") + "\n";
}

function errors(e: ErrorStats): string {
  return `median ${pct(e.median)}, p90 ${pct(e.p90)}, median signed ${pct(e.medianSigned)} (n ${n(e.n)})`;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)} %`;
}

function n(x: number): string {
  return x.toLocaleString("en-US");
}

function usd(x: number): string {
  return `$${x.toFixed(2)}`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
