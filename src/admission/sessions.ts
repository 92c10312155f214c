import { admittedSince, type TickRecord } from "./admission-log";

/**
 * Active users = admissions still inside their TTL that have not started issuance, plus sessions that
 * started and have neither ended (notification) nor run past `session_duration_seconds`.
 *
 * A session is recorded when the token endpoint redeems a pre-authorized code (one per admission), in
 * the IssuanceSessions object of its admission, and closed there by the notification endpoint. The
 * coordinator pulls each object's counts for the room every tick (`SessionCounts`, computed with the
 * tick's own time and the room's TTL); everything else is arithmetic over the tick log: an admission
 * nobody redeems stops counting when its TTL runs out, with no sweep.
 *
 * Why counts pulled at the start of a tick keep the cap exact for the rest of it: a session start turns
 * one admission inside its TTL into one open session (the total does not move), and every other change
 * (a session ending or running out, an admission's TTL running out) only lowers the true count. So the
 * count the budget is decided on is never below the truth. (docs/scaling-past-one-coordinator.md)
 */

/** A room's sessions, as IssuanceSessions objects count them at a tick (summed over the objects). */
export interface SessionCounts {
  /** Sessions whose admission is still inside its TTL (admittedAt > now − TTL). */
  readonly redeemed: number;
  /** Sessions neither ended nor past their end. */
  readonly open: number;
}

export const NO_SESSIONS: SessionCounts = { redeemed: 0, open: 0 };

export function addCounts(a: SessionCounts, b: SessionCounts): SessionCounts {
  return { redeemed: a.redeemed + b.redeemed, open: a.open + b.open };
}
export interface SessionRecord {
  readonly ticketId: string;
  /** Tick time of the admission this session redeemed. */
  readonly admittedAt: number;
  readonly startedAt: number;
  readonly endsAt: number;
  readonly endedAt: number | null;
}

/**
 * `sessions`: session records held by the caller itself (the simulator's; a coordinator's rows from
 * before sessions moved to the IssuanceSessions objects); `counted`: the objects' counts at `now`.
 */
export function activeCount(
  log: readonly TickRecord[],
  sessions: Iterable<SessionRecord>,
  now: number,
  ttlMs: number,
  counted: SessionCounts = NO_SESSIONS,
): number {
  let redeemedWithinTtl = counted.redeemed;
  let open = counted.open;
  for (const s of sessions) {
    if (s.admittedAt > now - ttlMs) redeemedWithinTtl++;
    if (s.endedAt === null && s.endsAt > now) open++;
  }
  return Math.max(0, admittedSince(log, now - ttlMs) - redeemedWithinTtl) + open;
}

/** A session row matters while it is open or its admission is inside the TTL; after that, drop it. */
export function sessionExpired(s: SessionRecord, now: number, ttlMs: number): boolean {
  return s.admittedAt + ttlMs <= now && (s.endedAt !== null || s.endsAt <= now);
}
