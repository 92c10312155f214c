import { describe, expect, it } from "vitest";
import {
  backendHealth,
  DECIDE_EVERY_MS,
  initialOutflow,
  MIN_READS,
  stepOutflow,
  type HealthSample,
  type OutflowState,
} from "../../src/admission/outflow";
import type { Outflow } from "../../src/config/room-config";
import { T0 } from "./fixtures";

const OUTFLOW: Outflow = {
  mode: "adaptive",
  floor_per_minute: 60,
  ceiling_per_minute: 1_200,
  latency_target_ms: 200,
  max_error_rate: 0.05,
};
const healthy = { reads: 10, errorRate: 0, meanLatencyMs: 50 };
const slow = { reads: 10, errorRate: 0, meanLatencyMs: 800 };
const failing = { reads: 10, errorRate: 0.5, meanLatencyMs: 50 };

describe("adaptive outflow (AIMD)", () => {
  it("starts from the pinned rate, within floor and ceiling", () => {
    expect(initialOutflow(OUTFLOW, 600).rate).toBe(600);
    expect(initialOutflow(OUTFLOW, 10).rate).toBe(60);
    expect(initialOutflow(OUTFLOW, 99_999).rate).toBe(1_200);
  });

  it("cuts the rate by 30 % when latency or errors pass their targets, never below the floor", () => {
    const s: OutflowState = { rate: 1_000, decidedAt: null, last: "none" };
    expect(stepOutflow(s, OUTFLOW, slow, T0, true)).toEqual({ rate: 700, decidedAt: T0, last: "decrease" });
    expect(stepOutflow(s, OUTFLOW, failing, T0, true).rate).toBe(700);
    expect(stepOutflow({ ...s, rate: 70 }, OUTFLOW, slow, T0, true).rate).toBe(60);
  });

  it("raises by 5 % of the ceiling when healthy and people wait; holds when nobody waits or data is thin", () => {
    const s: OutflowState = { rate: 600, decidedAt: null, last: "none" };
    expect(stepOutflow(s, OUTFLOW, healthy, T0, true).rate).toBe(660);
    expect(stepOutflow(s, OUTFLOW, healthy, T0, false)).toMatchObject({ rate: 600, last: "hold" });
    expect(stepOutflow(s, OUTFLOW, { ...slow, reads: MIN_READS - 1 }, T0, true).rate).toBe(600);
    expect(stepOutflow({ ...s, rate: 1_190 }, OUTFLOW, healthy, T0, true).rate).toBe(1_200);
    // At the floor (60/min: 5 reads a window) two reads are not enough, five are; at 12/min one read is.
    const low = { ...OUTFLOW, floor_per_minute: 12 };
    expect(stepOutflow({ ...s, rate: 12 }, low, { ...healthy, reads: 1 }, T0, true).rate).toBe(72);
  });

  it("decides at most once per DECIDE_EVERY_MS", () => {
    const first = stepOutflow({ rate: 1_000, decidedAt: null, last: "none" }, OUTFLOW, slow, T0, true);
    expect(stepOutflow(first, OUTFLOW, slow, T0 + DECIDE_EVERY_MS - 1, true)).toBe(first);
    expect(stepOutflow(first, OUTFLOW, slow, T0 + DECIDE_EVERY_MS, true).rate).toBe(490);
  });

  it("sums only the last window of reports", () => {
    const samples: HealthSample[] = [
      { at: T0 - 6_000, reads: 100, errors: 100, latencySumMs: 1e6 },
      { at: T0 - 1_000, reads: 4, errors: 1, latencySumMs: 400 },
      { at: T0, reads: 6, errors: 0, latencySumMs: 200 },
    ];
    expect(backendHealth(samples, T0)).toEqual({ reads: 10, errorRate: 0.1, meanLatencyMs: 60 });
    expect(backendHealth([], T0)).toEqual({ reads: 0, errorRate: null, meanLatencyMs: null });
  });

  it("backs off when a backend slows under load and recovers after (closed-loop, 20 simulated minutes)", () => {
    // A backend that serves 600 reads/min at 50 ms and whose latency grows steeply past its capacity;
    // from minute 5 to minute 10 its capacity halves (an incident). One decision per 5 s.
    let state = initialOutflow(OUTFLOW, 1_000);
    const rates: number[] = [];
    for (let t = 0; t < 20 * 60_000; t += DECIDE_EVERY_MS) {
      const capacity = t >= 5 * 60_000 && t < 10 * 60_000 ? 300 : 600;
      const load = state.rate / capacity;
      const latency = 50 * (load <= 1 ? 1 : 1 + 20 * (load - 1));
      state = stepOutflow(state, OUTFLOW, { reads: Math.round(state.rate / 12), errorRate: 0, meanLatencyMs: latency }, T0 + t, true);
      rates.push(state.rate);
    }
    const at = (minute: number) => rates[(minute * 60_000) / DECIDE_EVERY_MS - 1]!;
    const mean = (from: number, to: number) => {
      const slice = rates.slice((from * 60_000) / DECIDE_EVERY_MS, (to * 60_000) / DECIDE_EVERY_MS);
      return slice.reduce((a, b) => a + b, 0) / slice.length;
    };
    // Before the incident it settles around the backend's capacity (saw-tooth between 0.7× and 1.1×).
    expect(mean(2, 5)).toBeGreaterThan(450);
    expect(mean(2, 5)).toBeLessThan(700);
    // Within 30 s of the incident it is below the halved capacity, and it stays around it.
    expect(Math.min(...rates.slice(60, 66))).toBeLessThanOrEqual(330);
    expect(mean(6, 10)).toBeLessThan(380);
    // After the incident it climbs back to the full capacity.
    expect(at(10)).toBeLessThan(400);
    expect(mean(13, 20)).toBeGreaterThan(450);
  });
});
