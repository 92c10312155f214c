import { activeCount } from "../../src/admission/sessions";
import { describe, expect, it } from "vitest";
import type { TickRecord } from "../../src/admission/admission-log";
import { EMPTY_BUDGET } from "../../src/admission/budget";
import { ORIGIN } from "../../src/admission/order-key";
import { eligibleBefore, FRONT_PAGE, planTick, runTick, SETTLE_MS, type TickInput } from "../../src/admission/tick";
import { config, key, rng, T0 } from "./fixtures";

describe("eligibleBefore", () => {
  it("fifo (and every non-random method): everything stamped SETTLE_MS before the tick began", () => {
    for (const queueing_method of ["fifo", "reject", "passthrough"] as const) {
      expect(eligibleBefore(config({ queueing_method }), T0 + 12_345)).toBe(T0 + 12_345 - SETTLE_MS);
    }
    expect(SETTLE_MS).toBe(500);
  });

  it("random: the window still open is never eligible", () => {
    const cfg = config({ queueing_method: "random", random_window_seconds: 60 });
    // T0 is a whole minute. Mid-window: everything up to the start of the current window.
    expect(eligibleBefore(cfg, T0 + 30_000)).toBe(T0);
    expect(eligibleBefore(cfg, T0 + 59_999)).toBe(T0);
  });

  it("random: a window becomes eligible whole, once it has been closed for SETTLE_MS", () => {
    // A lottery key can be stamped anywhere in its window by an arrival at the window's very end, so
    // a window is settled only SETTLE_MS after it closes, and then all of it at once.
    const cfg = config({ queueing_method: "random", random_window_seconds: 60 });
    expect(eligibleBefore(cfg, T0 + 499)).toBe(T0 - 60_000);
    expect(eligibleBefore(cfg, T0 + 500)).toBe(T0);
    expect(eligibleBefore(cfg, T0 + 100)).toBe(T0 - 60_000);
  });

  it("random: always a window boundary at least SETTLE_MS in the past, and the latest such", () => {
    const r = rng(5);
    for (let i = 0; i < 2_000; i++) {
      const windowSeconds = 1 + Math.floor(r() * 120);
      const windowMs = windowSeconds * 1000;
      const tickStart = T0 + Math.floor(r() * 10_000_000);
      const e = eligibleBefore(config({ queueing_method: "random", random_window_seconds: windowSeconds }), tickStart);
      const where = `window ${windowSeconds} s, tick ${tickStart}`;
      expect(e % windowMs, where).toBe(0);
      expect(e, where).toBeLessThanOrEqual(tickStart - SETTLE_MS);
      expect(e + windowMs, where).toBeGreaterThan(tickStart - SETTLE_MS);
    }
  });
});

function rec(at: number, admitted: number): TickRecord {
  return { at, span: 1_000, admitted, frontier: key(at), saturated: true };
}

describe("planTick", () => {
  // Active users as the coordinator counts them: here nobody has redeemed, so it is the log's TTL window.
  const input = (patch: Partial<TickInput>): TickInput => {
    const base = {
      config: config({ new_users_per_minute: 600, total_active_users: 1_000, admission_ttl_seconds: 100 }),
      now: T0,
      frontier: ORIGIN,
      budget: EMPTY_BUDGET,
      log: [] as TickRecord[],
      ...patch,
    };
    return { ...base, active: patch.active ?? activeCount(base.log, [], base.now, base.config.admission_ttl_seconds * 1000) };
  };

  it("takes the minute cap from the log", () => {
    const log = [rec(T0 - 61_000, 300), rec(T0 - 30_000, 595)]; // 895 active, under the 1,000 cap
    expect(planTick(input({ log })).allowance).toBe(5);
  });

  it("takes the active count from the log, over the admission TTL", () => {
    const log = [rec(T0 - 99_000, 1_000)];
    expect(planTick(input({ log })).allowance).toBe(0); // still active: 99 s < 100 s TTL
    expect(planTick(input({ log, now: T0 + 1_000 })).allowance).toBe(10); // TTL over: slots free again
  });

  it("returns the topped-up bucket and the eligibility bound", () => {
    const plan = planTick(input({ budget: { tokens: 3, lastRefillAt: T0 - 200 } }));
    expect(plan.allowance).toBe(5);
    expect(plan.budget.tokens).toBeCloseTo(5, 9);
    expect(plan.budget.lastRefillAt).toBe(T0);
    expect(plan.eligibleBefore).toBe(T0 - SETTLE_MS);
  });

  it("asks shards for enough keys to admit, to tell saturation, and to know the front", () => {
    expect(planTick(input({})).pageSize).toBe(FRONT_PAGE); // allowance 10: the front page size wins
    const big = config({ new_users_per_minute: 60_000, total_active_users: 1_000_000 });
    const plan = planTick(input({ config: big }));
    expect(plan.allowance).toBe(1_000);
    expect(plan.pageSize).toBe(1_001); // one more than can be admitted: saturation is visible
  });
});

describe("runTick", () => {
  const cfg = config({ new_users_per_minute: 600 });
  const heads = [
    [key(T0 - 5_000, 0, 0), key(T0 - 3_000, 0, 1)],
    [key(T0 - 4_000, 1, 0), key(T0 - 100, 1, 1)], // the last one is too fresh to admit
  ];

  it("admits in global order and records the tick", () => {
    const input: TickInput = { config: cfg, now: T0, frontier: ORIGIN, budget: EMPTY_BUDGET, log: [rec(T0 - 2_000, 0)], active: 0 };
    const plan = planTick(input);
    const out = runTick(input, plan, heads);
    expect(out.admitted).toEqual([heads[0]![0], heads[1]![0], heads[0]![1]]);
    expect(out.record).toEqual({ at: T0, span: 2_000, admitted: 3, frontier: heads[0]![1], saturated: false });
    // The bucket is charged with what was admitted, not with the allowance.
    expect(out.budget.tokens).toBeCloseTo(plan.budget.tokens - 3, 9);
    expect(out.budget.lastRefillAt).toBe(T0);
  });

  it("marks the tick saturated when the allowance ran out with eligible people left", () => {
    const input: TickInput = { config: cfg, now: T0, frontier: ORIGIN, budget: EMPTY_BUDGET, log: [], active: 0 };
    const plan = { ...planTick(input), allowance: 2 };
    const out = runTick(input, plan, heads);
    expect(out.admitted).toHaveLength(2);
    expect(out.record.saturated).toBe(true);
    expect(out.record.frontier).toEqual(heads[1]![0]);
    // The one eligible person left is the whole exact front; the too-fresh key is not part of it.
    expect(out.front).toEqual({ keys: [heads[0]![1]], completeUntil: { a: T0 - SETTLE_MS, b: -1 } });
  });

  it("bounds the span used for rate estimates", () => {
    const at = (log: TickRecord[], now: number) => {
      const input: TickInput = { config: cfg, now, frontier: ORIGIN, budget: EMPTY_BUDGET, log, active: 0 };
      return runTick(input, planTick(input), []).record.span;
    };
    expect(at([], T0)).toBe(1_000); // first tick ever
    expect(at([rec(T0 - 1_500, 1)], T0)).toBe(1_500);
    expect(at([rec(T0 - 60_000, 1)], T0)).toBe(5_000); // after a stall: not a real second's throughput
    expect(at([rec(T0, 1)], T0)).toBe(1); // never zero (no division by zero downstream)
  });

  it("leaves the frontier alone when nobody is eligible", () => {
    const from = key(T0 - 10_000, 3, 3);
    const input: TickInput = { config: cfg, now: T0, frontier: from, budget: EMPTY_BUDGET, log: [], active: 0 };
    const out = runTick(input, planTick(input), [[key(T0 - 200, 0, 0)]]);
    expect(out.admitted).toEqual([]);
    expect(out.record).toMatchObject({ admitted: 0, frontier: from, saturated: false });
  });
});

describe("paused ticks", () => {
  it("are not counted as saturated: a pause says nothing about the rate the room can achieve", () => {
    const cfg = config({ new_users_per_minute: 600, paused: true });
    const input = { config: cfg, now: T0, frontier: ORIGIN, budget: EMPTY_BUDGET, log: [], active: 0 };
    const plan = planTick(input);
    const outcome = runTick(input, plan, [[key(T0 - 10_000, 0, 1)]]);
    expect(outcome.admitted).toHaveLength(0);
    expect(outcome.record.saturated).toBe(false);
    const running = { ...input, config: config({ new_users_per_minute: 600, total_active_users: 0 }) };
    expect(runTick(running, planTick(running), [[key(T0 - 10_000, 0, 1)]]).record.saturated).toBe(true);
  });
});
