import { describe, expect, it } from "vitest";
import { estimateWaitSeconds, MAX_POLL_SECONDS, MIN_POLL_SECONDS, pollAfterSeconds } from "../../src/admission/estimate";

describe("estimateWaitSeconds", () => {
  it("is people ahead over the rate, rounded up to whole seconds", () => {
    expect(estimateWaitSeconds(100, 10)).toBe(10);
    expect(estimateWaitSeconds(101, 10)).toBe(11);
    expect(estimateWaitSeconds(1, 10)).toBe(1); // anyone still waiting waits at least a second
    expect(estimateWaitSeconds(50, 1 / 6)).toBe(300); // 10/min
  });

  it("is zero for nobody ahead", () => {
    expect(estimateWaitSeconds(0, 10)).toBe(0);
    expect(estimateWaitSeconds(-3, 10)).toBe(0);
  });

  it("stays finite (and huge) when nothing is being admitted", () => {
    const w = estimateWaitSeconds(5, 0);
    expect(Number.isFinite(w)).toBe(true);
    expect(w).toBeGreaterThan(1e6);
  });
});

describe("pollAfterSeconds", () => {
  const DRAWS = [0, 0.001, 0.25, 0.5, 0.75, 0.999, 0.999999];

  it("is always a whole number of seconds within [MIN, MAX], whatever the wait and the draw", () => {
    for (const wait of [0, 1, 5, 16, 17, 50, 100, 399, 400, 479, 480, 481, 1_000, 100_000, Number.POSITIVE_INFINITY]) {
      for (const r of DRAWS) {
        const p = pollAfterSeconds(wait, r);
        expect(Number.isInteger(p), `wait ${wait}, draw ${r}`).toBe(true);
        expect(p, `wait ${wait}, draw ${r}`).toBeGreaterThanOrEqual(MIN_POLL_SECONDS);
        expect(p, `wait ${wait}, draw ${r}`).toBeLessThanOrEqual(MAX_POLL_SECONDS);
      }
    }
  });

  it("polls about every eighth of the wait, jittered by at most ±20 %", () => {
    // Base 20 s for a 160 s wait: 16..24 before rounding.
    expect(pollAfterSeconds(160, 0)).toBe(16);
    expect(pollAfterSeconds(160, 0.5)).toBe(20);
    expect(pollAfterSeconds(160, 0.999999)).toBe(24);
    for (const wait of [40, 80, 160, 240, 320]) {
      for (const r of DRAWS) {
        const p = pollAfterSeconds(wait, r);
        expect(p).toBeGreaterThanOrEqual(Math.round((wait / 8) * 0.8));
        expect(p).toBeLessThanOrEqual(Math.round((wait / 8) * 1.2));
      }
    }
  });

  it("spreads pollers: different draws give different intervals for the same wait", () => {
    const seen = new Set(DRAWS.map((r) => pollAfterSeconds(200, r)));
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it("grows with the wait (for the same draw)", () => {
    for (const r of DRAWS) {
      let previous = 0;
      for (let wait = 0; wait <= 1_000; wait += 7) {
        const p = pollAfterSeconds(wait, r);
        expect(p).toBeGreaterThanOrEqual(previous);
        previous = p;
      }
    }
    expect(pollAfterSeconds(400, 0.5)).toBeGreaterThan(pollAfterSeconds(40, 0.5));
  });

  it("people about to be admitted poll at the minimum", () => {
    for (const r of DRAWS) expect(pollAfterSeconds(1, r)).toBe(MIN_POLL_SECONDS);
  });
});
