import { admittedSince, type TickRecord } from "./admission-log";

/**
 * Active users = admissions still inside their TTL that have not started issuance, plus sessions that
 * started and have neither ended (notification) nor run past `session_duration_seconds`.
 *
 * A session is recorded when the token endpoint redeems a pre-authorized code (single use: one row per
 * ticket), and closed by the notification endpoint. Everything else is arithmetic over the tick log:
 * an admission nobody redeems stops counting when its TTL runs out, with no sweep.
 */
export interface SessionRecord {
  readonly ticketId: string;
  /** Tick time of the admission this session redeemed. */
  readonly admittedAt: number;
  readonly startedAt: number;
  readonly endsAt: number;
  readonly endedAt: number | null;
}

export function activeCount(log: readonly TickRecord[], sessions: Iterable<SessionRecord>, now: number, ttlMs: number): number {
  let redeemedWithinTtl = 0;
  let open = 0;
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
