import { abortAllDurableObjects, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, expect } from "vitest";
import { clearSnapshotCache } from "../../src/edge/snapshot-cache";
import { coordinatorOf } from "../../src/edge/objects";
import { armFaults, disarmFaults, faultReport, resetFaultCounts, type FaultPlan } from "../../src/faults/faults";
import { adminGet, poll, testClock, type Joined } from "./api";

/**
 * Fault injection in tests: the switch in src/faults, armed directly (tests, the Worker and its Durable
 * Objects share one isolate). Every test file that imports this disarms after each test.
 */
afterEach(() => {
  disarmFaults();
  resetFaultCounts();
});

export function arm(plan: FaultPlan, seed = 1): void {
  armFaults(env, plan, seed);
}

export { disarmFaults, faultReport };

export function coordinator(room: string) {
  return coordinatorOf(env, room);
}

/** One alarm run (ticks even if the tick fails); `true` when an alarm was scheduled, i.e. re-armed. */
export async function alarm(room: string, advanceMs = 1_000): Promise<boolean> {
  testClock.advance(advanceMs);
  const ran = await runDurableObjectAlarm(coordinator(room));
  clearSnapshotCache();
  return ran;
}

/** Every object thrown away (memory gone, SQLite kept), and the edge cache emptied. */
export async function restart(): Promise<void> {
  await abortAllDurableObjects();
  clearSnapshotCache();
}

/** Each joined device's status: "A" admitted, "." waiting, "x" anything else. */
export async function statusLine(room: string, joined: readonly Joined[]): Promise<string> {
  let line = "";
  for (const j of joined) {
    const { status, body } = await poll(room, j.ticket);
    expect(status).toBe(200);
    line += body.status === "admitted" ? "A" : body.status === "waiting" ? "." : "x";
  }
  return line;
}

/** Admitted devices form a prefix of the join order: nobody overtook anybody. */
export function expectPrefix(line: string): number {
  const k = line.indexOf(".") === -1 ? line.length : line.indexOf(".");
  expect(line).toBe("A".repeat(k) + ".".repeat(line.length - k));
  return k;
}

/** The admin view's counters that a fault must never disturb. */
export async function books(room: string): Promise<Record<string, unknown>> {
  const s = await adminGet(room);
  return {
    waiting: s.waiting,
    admitted_total: s.admitted_total,
    admitted_last_minute: s.admitted_last_minute,
    frontier: s.frontier,
    shards: s.shards,
  };
}
