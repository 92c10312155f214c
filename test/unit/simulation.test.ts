import { beforeAll, describe, expect, it } from "vitest";
import { EXACT_JOIN_POSITION_BELOW } from "../../src/tickets/join";
import { simulate, type SimulationReport } from "../../tools/sim";
import { EXACT_JOIN_POSITION_BELOW as SIMULATED_THRESHOLD } from "../../tools/sim/edge";
import { Locations } from "../../tools/sim/locations";

/**
 * A small launch through the simulator (the real admission modules, a simulated clock and crowd):
 * 50,000 people over 30 minutes into a room admitting 1,200 a minute, so a queue of ~20,000 builds
 * and drains. The numbers checked are the report's own; no timing is asserted.
 */
describe("launch-day simulation, small", () => {
  let report: SimulationReport;
  beforeAll(() => {
    report = simulate({ arrivals: 50_000, hours: 0.5, rate: 1_200, active: 5_000, trackedUsers: 2_000, seed: 7 });
  });

  it("builds a real queue and drains it", () => {
    expect(report.queue.peakWaiting).toBeGreaterThan(10_000);
    expect(report.run.drained).toBe(true);
    expect(report.admissions.saturatedMinutes).toBeGreaterThan(20);
  });

  it("loses nobody", () => {
    expect(report.people.lost).toBe(0);
    expect(report.checks.skipped).toBe(0);
    expect(report.checks.doubleAdmissions).toBe(0);
  });

  it("never admits more than 5 % over the per-minute limit, in any calendar minute or sliding window", () => {
    const limit = report.admissions.limitPerMinute;
    expect(Math.max(...report.series.admitted)).toBeLessThanOrEqual(limit * 1.05);
    expect(report.admissions.worstSlidingWindow).toBeLessThanOrEqual(limit);
  });

  it("admits in order: exactly by order key, and within 0.1 % of pairs by arrival", () => {
    expect(report.fairness.keyOrderViolations).toBe(0);
    expect(report.fairness.outOfOrderFraction).toBeLessThanOrEqual(0.001);
    // Only network latency reorders people; it is at most 230 ms here.
    expect(report.fairness.worstDisplacementSeconds).toBeLessThan(0.25);
  });

  it("keeps consistent books", () => {
    const p = report.people;
    expect(p.served + p.expiredAbandoned + p.stillWaiting + p.inFlight + p.lost).toBe(p.joined);
    expect(p.admitted + p.stillWaiting).toBe(p.joined);
    expect(p.expiredAbandoned).toBe(p.expiredAfterGivingUpWhileWaiting + p.expiredNeverRedeemed);
    expect(p.consistent).toBe(true);
    expect(report.checks.coordinatorAdmittedTotal).toBe(p.admitted);
    expect(report.checks.coordinatorWaiting).toBe(p.stillWaiting);
    expect(report.series.admitted.reduce((a, b) => a + b, 0)).toBe(p.admitted);
    expect(report.series.joins.reduce((a, b) => a + b, 0)).toBe(p.joined);
    // The coordinator's active count (activeCount over its sessions and tick log) matched an
    // independent count of unused admissions and open sessions at every tick.
    expect(report.backend.activeMismatch).toBe(0);
    expect(report.backend.peakOpenSessions).toBeLessThanOrEqual(report.backend.capacity);
  });

  it("never tells a tracked person a position higher than the one before", () => {
    expect(report.checks.positionIncreases).toBe(0);
    expect(report.checks.expiredEarly).toBe(0);
  });

  it("mirrors the edge's quiet-room threshold", () => {
    expect(SIMULATED_THRESHOLD).toBe(EXACT_JOIN_POSITION_BELOW);
  });

  it("reports estimates for the tracked sample", () => {
    expect(report.estimates.tracked).toBe(2_000);
    expect(report.estimates.first.n).toBe(2_000);
    expect(report.estimates.first.median).toBeLessThanOrEqual(0.15);
    expect(report.estimates.later.n).toBeGreaterThan(report.estimates.first.n);
  });

  it("is deterministic for a seed", () => {
    const a = simulate({ arrivals: 3_000, hours: 0.1, rate: 600, trackedUsers: 300, seed: 3 });
    const b = simulate({ arrivals: 3_000, hours: 0.1, rate: 600, trackedUsers: 300, seed: 3 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});

/**
 * Issue 17's model at a small scale: sessions counted in the IssuanceSessions shards (the coordinator
 * derives the active count from their counts in its tick), snapshot reads per location rather than per
 * isolate, identity provider calls of the authorization code flow only after admission, and a cost
 * computed from the run's own counts.
 */
describe("launch-day simulation, sessions off the coordinator and the edge modelled", () => {
  // 20,000 people into a room admitting 3,000 a minute with room for 1,500 at once: the active cap, not
  // the rate, limits admissions, so the shards' counts decide who gets in.
  let capped: SimulationReport;
  beforeAll(() => {
    capped = simulate({ arrivals: 20_000, hours: 0.2, rate: 3_000, active: 1_500, trackedUsers: 500, seed: 11 });
  });

  it("holds the active cap from the session shards' counts, which match an independent count at every tick", () => {
    expect(capped.admissions.ofWhichActiveBound).toBeGreaterThan(0);
    expect(capped.backend.activeMismatch).toBe(0);
    expect(capped.backend.peakActive).toBeLessThanOrEqual(1_500);
    expect(capped.backend.peakOpenSessions).toBeLessThanOrEqual(capped.backend.capacity);
    expect(capped.people.lost).toBe(0);
    expect(capped.people.refusals).toEqual({});
  });

  it("gives the coordinator no call per admission: its load is the locations' snapshot reads and the tick", () => {
    const d = capped.durableObjects;
    expect(d.peakCoordinatorRequestsPerSecond).toBeLessThanOrEqual(d.peakCoordinatorSnapshotReadsPerSecond + 2);
    const busy = simulate({ arrivals: 20_000, hours: 0.2, rate: 12_000, trackedUsers: 500, seed: 11 });
    expect(busy.durableObjects.peakCoordinatorRequestsPerSecond).toBeLessThanOrEqual(
      busy.durableObjects.peakCoordinatorSnapshotReadsPerSecond + 2,
    );
    // Sessions land on the session shards instead.
    expect(busy.durableObjects.peakSessionShardRequestsPerSecond).toBeGreaterThan(1);
  });

  it("asks the identity provider and the register only after admission in the authorization code flow", () => {
    const f = capped.flows;
    // Two IdP calls (login, token exchange) per browser redemption; two register reads per served person.
    expect(f.registerReads).toBe(2 * capped.people.served);
    expect(f.idpRequestsAfterAdmission % 2).toBe(0);
    expect(f.idpRequestsAfterAdmission / 2).toBeLessThanOrEqual(capped.people.served);
    const browsersOnly = simulate({ arrivals: 5_000, hours: 0.1, rate: 1_200, trackedUsers: 200, seed: 5, authorizationCodeShare: 1 });
    expect(browsersOnly.flows.idpRequests).toBe(browsersOnly.flows.idpRequestsAfterAdmission);
    expect(browsersOnly.flows.idpRequestsAfterAdmission).toBe(2 * browsersOnly.people.served);
    const appOnly = simulate({ arrivals: 5_000, hours: 0.1, rate: 1_200, trackedUsers: 200, seed: 5, authorizationCodeShare: 0 });
    expect(appOnly.flows.idpRequestsAfterAdmission).toBe(0);
    expect(appOnly.flows.idpRequests).toBe(appOnly.people.joined);
  });

  it("prices the launch from its own counts", () => {
    const c = capped.cost;
    expect(c.pricesTakenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(c.totalUsd).toBeCloseTo(
      c.lines.reduce((a, l) => a + l.usd, 0),
      9,
    );
    expect(c.perMillionAdmittedUsd).toBeCloseTo((c.totalUsd / capped.people.admitted) * 1e6, 9);
    const workerRequests = Object.values(capped.totals.workerRequests).reduce((a, b) => a + b, 0);
    expect(c.lines.find((l) => l.item === "Worker requests")?.quantity).toBe(Math.round(workerRequests));
    expect(capped.totals.workerRequests.join).toBe(capped.people.joined);
    expect(capped.totals.workerRequests.notification).toBeLessThanOrEqual(capped.people.served);
  });
});

describe("locations: snapshot reads per location, not per isolate", () => {
  const edge = { locations: 300, locationSkew: 1.5, isolates: 3_000, snapshotTtlMs: 1_000, cacheRaceMs: 0, snapshotJitterMs: 0 };

  it("without racing refreshes, never more than one read per location per TTL, whatever the isolates", () => {
    for (const isolates of [300, 3_000, 30_000]) {
      const { reads, racing } = new Locations({ ...edge, isolates }).snapshotTraffic(100_000);
      expect(racing).toBe(0);
      expect(reads).toBeLessThanOrEqual(300);
      expect(reads).toBeGreaterThan(250);
    }
  });

  it("spreads every isolate, at least one per location, and puts most traffic on a few locations", () => {
    const l = new Locations(edge);
    expect(l.isolates.reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(Math.min(...l.isolates)).toBe(1);
    expect(l.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(l.shares[0]!).toBeGreaterThan(0.3);
  });

  it("counts the refreshes that race for the marker, growing with traffic, and quiet locations reading less", () => {
    const racing = new Locations({ ...edge, cacheRaceMs: 2 });
    const calm = racing.snapshotTraffic(1_000);
    const busy = racing.snapshotTraffic(100_000);
    expect(busy.racing).toBeGreaterThan(calm.racing);
    expect(busy.reads).toBeGreaterThan(busy.racing);
    // At 1,000 requests/s the long tail of locations sees a request less often than once a second.
    expect(calm.reads - calm.racing).toBeLessThan(300);
  });

  it("sizes the fix that is not built: isolates' expiries spread over 200 ms race far less", () => {
    const bunched = new Locations({ ...edge, cacheRaceMs: 5 }).snapshotTraffic(100_000);
    const spread = new Locations({ ...edge, cacheRaceMs: 5, snapshotJitterMs: 200 }).snapshotTraffic(100_000);
    expect(spread.racing).toBeLessThan(bunched.racing / 4);
    expect(spread.reads - spread.racing).toBeCloseTo(bunched.reads - bunched.racing, 9);
  });
});
