import { admittedAt } from "./admission-log";
import { compareKeys, type OrderKey } from "./order-key";
import type { SessionStartRefusal } from "./protocol";
import type { RoomSnapshot } from "./snapshot";
import { ok, refuse, type Result } from "../lib/result";

/**
 * Whether an admission may open its issuance session now, decided from a room snapshot alone: the
 * ticket's order key is behind the frontier (admitted) and the admission's TTL has not run out. The
 * token endpoint decides this at the edge instead of asking the coordinator
 * (docs/scaling-past-one-coordinator.md); it is the poll path's own decision (ticket-status.ts), with
 * the same tick time as the coordinator's log, so the session's `admittedAt` matches the admission the
 * coordinator counts.
 *
 * A snapshot only moves forward, so an older one can say `not_admitted` for an admission a newer one
 * shows (the caller then reads a fresh one), never the reverse.
 */
export interface LiveAdmission {
  /** Tick time of the admission. */
  readonly admittedAt: number;
  /** When its TTL runs out. */
  readonly expiresAt: number;
}

export function liveAdmission(snapshot: RoomSnapshot, key: OrderKey, now: number): Result<LiveAdmission, SessionStartRefusal> {
  if (compareKeys(key, snapshot.frontier) > 0) return refuse("not_admitted");
  const at = admittedAt(snapshot.baseline, snapshot.steps, key);
  const expiresAt = at === null ? null : at + snapshot.config.admission_ttl_seconds * 1000;
  if (at === null || expiresAt === null || expiresAt <= now) return refuse("expired");
  return ok({ admittedAt: at, expiresAt });
}
