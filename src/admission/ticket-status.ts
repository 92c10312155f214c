import { admittedAt } from "./admission-log";
import { estimateWaitSeconds, pollAfterSeconds } from "./estimate";
import { compareKeys, type OrderKey } from "./order-key";
import type { RoomSnapshot } from "./snapshot";
import { peopleAhead } from "./waiting-histogram";

/**
 * A ticket's status from its order key and a room snapshot alone: the whole poll path's logic.
 * Behind the frontier means admitted (until the admission TTL runs out, then expired); ahead of it means
 * waiting, with a position counted from the waiting histogram.
 */
export type TicketStatus =
  | {
      readonly status: "waiting";
      /** Place in line: 1 is next. People ahead = position - 1. */
      readonly position: number;
      /** null while the room is paused: no honest estimate exists then. */
      readonly estimated_wait_seconds: number | null;
      readonly poll_after_seconds: number;
    }
  | { readonly status: "admitted"; readonly admitted_at: number; readonly admission_expires_at: number }
  | { readonly status: "expired" };

export function ticketStatus(snapshot: RoomSnapshot, key: OrderKey, now: number, random01: number): TicketStatus {
  if (compareKeys(key, snapshot.frontier) <= 0) {
    const at = admittedAt(snapshot.baseline, snapshot.steps, key);
    const ttlMs = snapshot.config.admission_ttl_seconds * 1000;
    if (at === null || at + ttlMs <= now) return { status: "expired" };
    return { status: "admitted", admitted_at: at, admission_expires_at: at + ttlMs };
  }
  const position = peopleAhead(snapshot.histogram, key) + 1;
  const wait = snapshot.config.paused ? null : estimateWaitSeconds(position, snapshot.ratePerSecond);
  return {
    status: "waiting",
    position,
    estimated_wait_seconds: wait,
    poll_after_seconds: pollAfterSeconds(wait ?? Number.POSITIVE_INFINITY, random01),
  };
}
