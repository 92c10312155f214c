import type { TickPorts } from "../admission/coordinator-tick";

/**
 * The fault points the production code carries (src/faults/faults.ts explains what they are for), and
 * the hook they call. This module is all of fault injection a deployment contains: the plan, the
 * seeded draws and the HTTP switch live in src/faults/faults.ts and src/faults/routes.ts, which only the
 * development entry (src/dev/index.ts) and the tests import, so a production bundle has no code that
 * could arm a fault.
 *
 * Where the points sit: only at edges. Calls across a boundary (src/edge/durable-guard.ts around every
 * Durable Object binding, src/register/register.ts around D1) are written `if (faultsOn) await
 * injectFault("…")`. The admission tick and its store call no fault code at all: the coordinator's
 * points are wrappers (`wrapTickPorts`, `wrapTickEntry`) that RoomCoordinator's constructor puts
 * around the tick's collaborators and the tick itself.
 *
 * Cost in production: nothing in a production bundle ever sets `faultsOn`, so every point is one
 * boolean read per call, nothing allocated per call (the wrappers are built once per object).
 */
export const FAULT_POINTS = [
  /** QueueShard.join / lookup / requeue: a join cannot reach its shard. */
  "shard.join",
  /** The coordinator's QueueShard.sync call: a shard fails (or is slow) to answer the tick (wrapTickPorts). */
  "shard.sync",
  /** RoomCoordinator.snapshot: the edge cannot refresh its room snapshot. */
  "coordinator.snapshot",
  /** RoomCoordinator's tick, before any work: the alarm throws (wrapTickEntry). */
  "coordinator.tick",
  /** RoomCoordinator tick, inside its storage transaction after part of the rows were written (wrapTickPorts). */
  "coordinator.persist",
  /** RoomCoordinator.startSession / endSession: the token or notification endpoint cannot reach it. */
  "coordinator.session",
  /** ReplayGuard.claim: c_nonce (and handoff) checks cannot be made. */
  "replay.claim",
  /** IssuanceSessions, every method: a session cannot be opened, checked, spent or ended. */
  "sessions.call",
  /** IssuanceLedger.record: a credential request's status entries and ledger rows cannot be written. */
  "ledger.write",
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
function injectFaultSync(point: FaultPoint): void {
  injector?.injectSync(point);
}

/**
 * The tick's ports with the coordinator's fault points around them. The wrappers read `faultsOn` on
 * every call rather than once here: an object is built before a test or the development switch arms a
 * plan, and lives on after it is disarmed.
 * - "shard.sync": before the shard's RPC, inside the tick's deadline (the tick applies the deadline to
 *   what `syncShard` returns), so a "delay" rule is a shard that answers too late.
 * - "coordinator.persist": before the second write step, inside the tick's transaction, after the first
 *   step wrote the waiting seconds and the tick's log record: a failure half-way through the writes,
 *   which the transaction must roll back.
 */
export function wrapTickPorts(ports: TickPorts): TickPorts {
  return {
    async syncShard(room, req) {
      if (faultsOn) await injectFault("shard.sync");
      return ports.syncShard(room, req);
    },
    writeTickLog: (room, touched, record) => ports.writeTickLog(room, touched, record),
    writeTickBooks(room, finished) {
      if (faultsOn) injectFaultSync("coordinator.persist");
      ports.writeTickBooks(room, finished);
    },
  };
}

/** The tick's entry with "coordinator.tick" before it: the alarm throws before the tick does any work. */
export function wrapTickEntry<A extends unknown[]>(tick: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    if (faultsOn) await injectFault("coordinator.tick");
    return tick(...args);
  };
}
