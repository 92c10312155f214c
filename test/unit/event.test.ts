import { describe, expect, it } from "vitest";
import { clampEligible, effectiveConfig, eventPhase, prequeueNotOpenUntil, stampPlan } from "../../src/admission/event";
import { eligibleBefore, SETTLE_MS } from "../../src/admission/tick";
import { config, T0 } from "./fixtures";

const iso = (ms: number) => new Date(ms).toISOString();
const PRE = T0 + 60_000;
const START = T0 + 600_000;
const END = T0 + 3_600_000;
const event = (extra: Record<string, unknown> = {}) =>
  config({
    event: {
      prequeue_start: iso(PRE),
      event_start: iso(START),
      event_end: iso(END),
      queueing_method: "fifo",
      new_users_per_minute: 6_000,
      ...extra,
    },
  });

describe("event phases", () => {
  it("moves before → prequeue → live → ended at the scheduled instants", () => {
    const c = event();
    expect(eventPhase(config(), PRE)).toBe("none");
    expect(eventPhase(c, PRE - 1)).toBe("before");
    expect(eventPhase(c, PRE)).toBe("prequeue");
    expect(eventPhase(c, START - 1)).toBe("prequeue");
    expect(eventPhase(c, START)).toBe("live");
    expect(eventPhase(c, END - 1)).toBe("live");
    expect(eventPhase(c, END)).toBe("ended");
    expect(eventPhase(event({ event_end: null }), END * 2)).toBe("live");
  });

  it("applies the event's method and limits only while it is live, and the adaptive rate over them", () => {
    const c = event({ queueing_method: "random", total_active_users: 77 });
    expect(effectiveConfig(c, START - 1).new_users_per_minute).toBe(600);
    expect(effectiveConfig(c, START)).toMatchObject({ new_users_per_minute: 6_000, queueing_method: "random", total_active_users: 77 });
    expect(effectiveConfig(c, END).queueing_method).toBe("fifo");
    // A fixed outflow ignores any adaptive rate; an adaptive one replaces the rate, event or not.
    expect(effectiveConfig(c, START, 120).new_users_per_minute).toBe(6_000);
    const adaptive = { ...c, outflow: { ...c.outflow, mode: "adaptive" as const } };
    expect(effectiveConfig(adaptive, START, 120).new_users_per_minute).toBe(120);
    expect(effectiveConfig(adaptive, PRE, 120).new_users_per_minute).toBe(120);
  });
});

describe("joins before the pre-queue", () => {
  it("are refused from scheduling until prequeue_start, and only then", () => {
    expect(prequeueNotOpenUntil(config(), PRE - 1)).toBeNull();
    expect(prequeueNotOpenUntil(event(), T0)).toBe(PRE);
    expect(prequeueNotOpenUntil(event(), PRE - 1)).toBe(PRE);
    for (const at of [PRE, START - 1, START, END]) expect(prequeueNotOpenUntil(event(), at)).toBeNull();
  });
});

describe("stamping newcomers", () => {
  it("stamps pre-queue entrants into [prequeue_start, event_start), everyone else FIFO", () => {
    const c = event();
    expect(stampPlan(c, PRE - 1)).toEqual({ kind: "fifo" });
    expect(stampPlan(c, PRE + 5)).toEqual({ kind: "prequeue", from: PRE, to: START });
    expect(stampPlan(c, START)).toEqual({ kind: "fifo" });
  });

  it("never lets a random room's window straddle the pre-queue's edges", () => {
    // Random before the event (room method) and during it (event method), 60 s windows not aligned with the event.
    const c = event({ queueing_method: "random" });
    const room = { ...c, queueing_method: "random" as const };
    const before = stampPlan(room, PRE - 10);
    expect(before).toMatchObject({ kind: "lottery" });
    if (before.kind === "lottery") expect(before.to).toBeLessThanOrEqual(PRE);
    const during = stampPlan(c, START + 10);
    expect(during).toMatchObject({ kind: "lottery" });
    if (during.kind === "lottery") {
      expect(during.from).toBeGreaterThanOrEqual(START);
      expect(during.to).toBeGreaterThan(START + 10);
    }
    const nearEnd = stampPlan(event({ queueing_method: "random", event_end: iso(START + 90_000) }), START + 85_000);
    if (nearEnd.kind === "lottery") expect(nearEnd.to).toBeLessThanOrEqual(START + 90_000);
  });

  it("keeps every entrant ineligible until event_start is SETTLE_MS old", () => {
    const c = event();
    expect(clampEligible(c, PRE - 10, PRE - 10)).toBe(PRE - 10);
    expect(eligibleBefore(c, PRE + 30_000)).toBe(PRE);
    expect(eligibleBefore(c, START)).toBe(PRE);
    expect(eligibleBefore(c, START + SETTLE_MS - 1)).toBe(PRE);
    expect(eligibleBefore(c, START + SETTLE_MS)).toBe(START);
    expect(eligibleBefore(config(), START)).toBe(START - SETTLE_MS);
  });
});
