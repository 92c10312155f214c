import { beforeAll, describe, expect, it } from "vitest";
import { EXACT_JOIN_POSITION_BELOW } from "../../src/tickets/join";
import { simulate, type SimulationReport } from "../../tools/sim";
import { EXACT_JOIN_POSITION_BELOW as SIMULATED_THRESHOLD } from "../../tools/sim/edge";

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
