/**
 * The fault points the production code carries (src/faults/faults.ts explains what they are for), and
 * the hook they call. This module is all of fault injection a deployment contains: the plan, the
 * seeded draws and the HTTP switch live in src/faults/faults.ts and src/faults/routes.ts, which only the
 * development entry (src/dev/index.ts) and the tests import, so a production bundle has no code that
 * could arm a fault.
 *
 * Cost in production: every point is written `if (faultsOn) await injectFault("…")`, and nothing in a
 * production bundle ever sets `faultsOn`: one boolean read per point, nothing allocated.
 */
export const FAULT_POINTS = [
  /** QueueShard.join / lookup / requeue: a join cannot reach its shard. */
  "shard.join",
  /** QueueShard.sync: a shard fails (or is slow) to answer the coordinator's tick. */
  "shard.sync",
  /** RoomCoordinator.snapshot: the edge cannot refresh its room snapshot. */
  "coordinator.snapshot",
  /** RoomCoordinator.tick, before any work: the alarm throws. */
  "coordinator.tick",
  /** RoomCoordinator tick, inside its storage transaction after part of the rows were written. */
  "coordinator.persist",
  /** RoomCoordinator.startSession / endSession: the token or notification endpoint cannot reach it. */
  "coordinator.session",
  /** ReplayGuard.claim: c_nonce (and handoff) checks cannot be made. */
  "replay.claim",
  /** IssuanceSessions, every method: a session cannot be opened, checked, spent or ended. */
  "sessions.call",
  /** The register's D1 query: "throw" is a D1 error, "delay" a read that hangs past its timeout. */
  "register.read",
  /** The register's capacity gate refuses as if every slot were taken. */
  "register.busy",
] as const;

export type FaultPoint = (typeof FAULT_POINTS)[number];

/** What an armed plan does at a point: the development module supplies it while a plan is armed. */
export interface FaultInjector {
  inject(point: FaultPoint): Promise<void>;
  injectSync(point: FaultPoint): void;
}

/** Read by every fault point before anything else; true only while an injector is installed. */
export let faultsOn = false;
let injector: FaultInjector | null = null;

/** Installs (or, with null, removes) the injector the points call. Only src/faults/faults.ts calls it. */
export function setFaultInjector(next: FaultInjector | null): void {
  injector = next;
  faultsOn = next !== null;
}

/** Fail or stall at `point` if a plan says so. Call only behind `if (faultsOn)`. */
export async function injectFault(point: FaultPoint): Promise<void> {
  if (injector) await injector.inject(point);
}

/** The synchronous form, for points inside a synchronous storage transaction (only "throw" rules apply). */
export function injectFaultSync(point: FaultPoint): void {
  injector?.injectSync(point);
}
