import { describe, expect, it } from "vitest";
import {
  activeAdmissions,
  admittedAt,
  admittedLastMinute,
  admittedSince,
  frontierSteps,
  observedRatePerSecond,
  pruneLog,
  type TickRecord,
} from "../../src/admission/admission-log";
import { compareKeys, ORIGIN, type OrderKey } from "../../src/admission/order-key";
import { key, rng, T0 } from "./fixtures";

function rec(at: number, admitted: number, frontierA: number, saturated: boolean, span = 1_000): TickRecord {
  return { at, span, admitted, frontier: key(frontierA), saturated };
}

// Frontier moves 100 -> 200 -> 200 -> 300 -> 400 over a bit more than a minute.
const LOG: TickRecord[] = [
  rec(T0, 5, 100, true),
  rec(T0 + 20_000, 3, 200, false),
  rec(T0 + 40_000, 0, 200, false),
  rec(T0 + 59_000, 7, 300, true),
  rec(T0 + 61_000, 2, 400, true, 2_000),
];

describe("admittedSince / admittedLastMinute / activeAdmissions", () => {
  it("counts ticks strictly after `since`", () => {
    expect(admittedSince(LOG, T0 - 1)).toBe(17);
    expect(admittedSince(LOG, T0)).toBe(12); // a tick exactly at `since` is out
    expect(admittedSince(LOG, T0 + 59_000)).toBe(2);
    expect(admittedSince(LOG, T0 + 61_000)).toBe(0);
    expect(admittedSince([], 0)).toBe(0);
  });

  it("the last minute is the 60 s ending now, the start excluded", () => {
    expect(admittedLastMinute(LOG, T0 + 59_999)).toBe(17);
    expect(admittedLastMinute(LOG, T0 + 60_000)).toBe(12);
    expect(admittedLastMinute(LOG, T0 + 80_000)).toBe(9);
    expect(admittedLastMinute(LOG, T0 + 120_999)).toBe(2);
    expect(admittedLastMinute(LOG, T0 + 121_000)).toBe(0);
  });

  it("admissions drop out of the active count exactly when their TTL runs out", () => {
    expect(activeAdmissions(LOG, T0 + 61_000, 300_000)).toBe(17);
    expect(activeAdmissions(LOG, T0 + 61_000, 30_000)).toBe(9);
    expect(activeAdmissions(LOG, T0 + 68_999, 10_000)).toBe(9);
    expect(activeAdmissions(LOG, T0 + 69_000, 10_001)).toBe(9);
    expect(activeAdmissions(LOG, T0 + 69_000, 10_000)).toBe(2); // the T0+59 s tick's TTL ends exactly now
  });
});

describe("observedRatePerSecond", () => {
  it("averages only the saturated ticks of the last minute, weighted by span", () => {
    // In window (T0+1 s, T0+61 s]: saturated ticks admitted 7 over 1 s and 2 over 2 s.
    expect(observedRatePerSecond(LOG, T0 + 61_000)).toBeCloseTo(3, 12);
    // In window (T0-1 ms, ...]: the T0 tick too (5 over 1 s), but not yet the T0+61 s one.
    expect(observedRatePerSecond(LOG.slice(0, 4), T0 + 59_999)).toBeCloseTo(6, 12);
  });

  it("ignores unsaturated ticks even if they admitted a lot", () => {
    const log = [rec(T0, 1_000, 1, false), rec(T0 + 1_000, 10, 2, true)];
    expect(observedRatePerSecond(log, T0 + 1_000)).toBe(10);
  });

  it("is null when no tick in the last minute was saturated", () => {
    expect(observedRatePerSecond([], T0)).toBeNull();
    expect(observedRatePerSecond([rec(T0, 5, 1, false), rec(T0 + 1_000, 5, 2, false)], T0 + 1_000)).toBeNull();
    // Saturated, but more than a minute ago.
    expect(observedRatePerSecond([rec(T0, 5, 1, true), rec(T0 + 70_000, 5, 2, false)], T0 + 70_000)).toBeNull();
  });
});

describe("frontierSteps", () => {
  it("keeps only ticks that moved the frontier, in order", () => {
    expect(frontierSteps(LOG)).toEqual([
      { at: T0, frontier: key(100) },
      { at: T0 + 20_000, frontier: key(200) },
      { at: T0 + 59_000, frontier: key(300) },
      { at: T0 + 61_000, frontier: key(400) },
    ]);
  });
});

describe("admittedAt", () => {
  const steps = [
    { at: 1_000, frontier: key(100) },
    { at: 2_000, frontier: key(200) },
    { at: 3_000, frontier: key(300) },
  ];
  const baseline = key(50);

  it("is null at or behind the baseline (admitted before any step kept)", () => {
    expect(admittedAt(baseline, steps, key(50))).toBeNull();
    expect(admittedAt(baseline, steps, key(1))).toBeNull();
  });

  it("is the first step whose frontier reached the key", () => {
    expect(admittedAt(baseline, steps, key(51))).toBe(1_000);
    expect(admittedAt(baseline, steps, key(100))).toBe(1_000); // exactly on the frontier: admitted then
    expect(admittedAt(baseline, steps, key(101))).toBe(2_000);
    expect(admittedAt(baseline, steps, key(100, 1, 0))).toBe(2_000); // same stamp, later tie-breaker
    expect(admittedAt(baseline, steps, key(300))).toBe(3_000);
  });

  it("is null beyond the last step, or with no steps", () => {
    expect(admittedAt(baseline, steps, key(301))).toBeNull();
    expect(admittedAt(baseline, [], key(60))).toBeNull();
  });

  it("agrees with a linear scan on random histories", () => {
    const r = rng(7);
    for (let trial = 0; trial < 50; trial++) {
      const s: { at: number; frontier: OrderKey }[] = [];
      let a = 10;
      for (let i = 0; i < 1 + Math.floor(r() * 40); i++) s.push({ at: i * 1_000, frontier: key((a += 1 + Math.floor(r() * 20))) });
      const b = key(Math.floor(r() * 15));
      for (let q = 0; q <= a + 5; q++) {
        const k = key(q);
        const linear = compareKeys(k, b) <= 0 ? null : (s.find((x) => compareKeys(x.frontier, k) >= 0)?.at ?? null);
        expect(admittedAt(b, s, k)).toBe(linear);
      }
    }
  });
});

describe("pruneLog", () => {
  it("drops records at or before now - max(keepMs, 1 min), and the baseline becomes the last dropped frontier", () => {
    const pruned = pruneLog(LOG, ORIGIN, T0 + 80_000, 10_000);
    expect(pruned.log).toEqual(LOG.slice(2));
    expect(pruned.baseline).toEqual(key(200));
  });

  it("keeps everything (and the old baseline) when nothing is old enough", () => {
    const pruned = pruneLog(LOG, key(7), T0 + 61_000, 300_000);
    expect(pruned.log).toEqual(LOG);
    expect(pruned.log).not.toBe(LOG);
    expect(pruned.baseline).toEqual(key(7));
  });

  it("can drop everything, leaving the latest frontier as the baseline", () => {
    const pruned = pruneLog(LOG, ORIGIN, T0 + 10_000_000, 300_000);
    expect(pruned.log).toEqual([]);
    expect(pruned.baseline).toEqual(key(400));
  });

  it("changes no answer a caller within keepMs can ask", () => {
    // A random history with idle and saturated ticks; prune repeatedly as the coordinator does, and
    // compare every query against the unpruned log.
    const r = rng(42);
    const ttlMs = 30_000;
    const full: TickRecord[] = [];
    let kept: TickRecord[] = [];
    let baseline: OrderKey = ORIGIN;
    let frontierA = 0;
    for (let i = 0; i < 400; i++) {
      const now = T0 + i * 1_000;
      const admitted = r() < 0.3 ? 0 : Math.floor(r() * 10);
      frontierA += admitted;
      const record = rec(now, admitted, frontierA, r() < 0.5);
      full.push(record);
      ({ log: kept, baseline } = pruneLog([...kept, record], baseline, now, ttlMs));
      expect(admittedLastMinute(kept, now)).toBe(admittedLastMinute(full, now));
      expect(activeAdmissions(kept, now, ttlMs)).toBe(activeAdmissions(full, now, ttlMs));
      expect(observedRatePerSecond(kept, now)).toBe(observedRatePerSecond(full, now));
      // Every key is either still answerable the same way, or was admitted more than a TTL ago.
      const steps = frontierSteps(kept);
      const fullSteps = frontierSteps(full);
      for (let a = 1; a <= frontierA + 1; a += 3) {
        const k = key(a);
        const fromFull = admittedAt(ORIGIN, fullSteps, k);
        const fromKept = admittedAt(baseline, steps, k);
        if (fromKept === null && fromFull !== null) expect(fromFull + ttlMs).toBeLessThanOrEqual(now);
        else expect(fromKept).toBe(fromFull);
      }
    }
  });
});
