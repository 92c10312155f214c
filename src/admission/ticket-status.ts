import { admittedAt } from "./admission-log";
import { estimateWaitSeconds, pollAfterSeconds } from "./estimate";
import { compareKeys, seqOf, shardOf, type OrderKey } from "./order-key";
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
      /**
       * Place in line: 1 is next. People ahead = position - 1. null for a pre-queue entrant before the
       * draw, and for a re-joined place the room has not synced yet (for at most a tick).
       */
      readonly position: number | null;
      /** A pre-queue entrant: when the lottery places them (ISO 8601). */
      readonly lottery_at?: string;
      /** null while the room is paused: no honest estimate exists then. */
      readonly estimated_wait_seconds: number | null;
      readonly poll_after_seconds: number;
    }
  | { readonly status: "admitted"; readonly admitted_at: number; readonly admission_expires_at: number }
  | { readonly status: "expired" };

/**
 * For a ticket the snapshot has not synced yet: what its join knew that the snapshot does not.
 *
 * `ahead`: people ahead who had joined after the join's snapshot last synced (counted at join).
 * `toldPosition` and `admittedTotal`: the position the join answered and the room's admitted total in
 * the snapshot it read. They bound the position from above: nobody who joins later gets ahead, so the
 * line ahead can only have shrunk by the admissions since. Without that bound, a poll reading a newer
 * snapshot than the join's (a tick synced others but not this ticket, then ticks kept failing; or the
 * join's edge held an older snapshot) counted the people that tick synced twice, once in the
 * histogram and once in `ahead`, and the position went up.
 */
export interface UnsyncedBasis {
  readonly ahead: number;
  readonly toldPosition?: number;
  readonly admittedTotal?: number;
  /**
   * The join did not count the other shards' unsynced arrivals (a re-join, which never asks every
   * shard): until the snapshot syncs the ticket, its position is unknown (null), never a guess that
   * could rise once counted.
   */
  readonly uncounted?: true;
}

const NOTHING_UNSYNCED: UnsyncedBasis = { ahead: 0 };

/**
 * What a poll adds for a ticket: its join's basis while `snapshot` has not synced the ticket (its seq is
 * past its shard's sync cursor), nothing after.
 */
export function unsyncedAtPoll(snapshot: RoomSnapshot, key: OrderKey, atJoin: UnsyncedBasis): UnsyncedBasis {
  return seqOf(key) > (snapshot.syncedSeqs[shardOf(key)] ?? 0) ? atJoin : NOTHING_UNSYNCED;
}

/**
 * `unsynced`: people ahead the snapshot does not count yet (see UnsyncedBasis); nothing once the
 * snapshot has synced the ticket, which it does within a tick.
 */
export function ticketStatus(
  snapshot: RoomSnapshot,
  key: OrderKey,
  now: number,
  random01: number,
  unsynced: UnsyncedBasis = NOTHING_UNSYNCED,
): TicketStatus {
  if (compareKeys(key, snapshot.frontier) <= 0) {
    const at = admittedAt(snapshot.baseline, snapshot.steps, key);
    const ttlMs = snapshot.config.admission_ttl_seconds * 1000;
    if (at === null || at + ttlMs <= now) return { status: "expired" };
    return { status: "admitted", admitted_at: at, admission_expires_at: at + ttlMs };
  }
  const lottery = snapshot.lottery;
  if (lottery && now < lottery.to && key.a >= lottery.from && key.a < lottery.to) {
    // Before the draw an entrant has no place yet: every entrant is equal until event_start.
    return {
      status: "waiting",
      position: null,
      estimated_wait_seconds: null,
      poll_after_seconds: pollAfterSeconds((lottery.to - now) / 1000, random01),
      lottery_at: new Date(lottery.to).toISOString(),
    };
  }
  if (unsynced.uncounted) {
    return { status: "waiting", position: null, estimated_wait_seconds: null, poll_after_seconds: pollAfterSeconds(0, random01) };
  }
  const counted = aheadOf(snapshot, key) + 1;
  let position = counted + unsynced.ahead;
  if (unsynced.toldPosition !== undefined && unsynced.admittedTotal !== undefined) {
    const bound = unsynced.toldPosition - Math.max(0, snapshot.admittedTotal - unsynced.admittedTotal);
    // Never below those the snapshot itself counts ahead: they are certainly there.
    position = Math.max(counted, Math.min(position, bound));
  }
  const wait = snapshot.config.paused ? null : estimateWaitSeconds(position, snapshot.ratePerSecond);
  return {
    status: "waiting",
    position,
    estimated_wait_seconds: wait,
    poll_after_seconds: pollAfterSeconds(wait ?? Number.POSITIVE_INFINITY, random01),
  };
}

/** People waiting ahead of `key`: counted exactly near the front, estimated from the histogram beyond. */
export function aheadOf(snapshot: RoomSnapshot, key: OrderKey): number {
  const { keys, completeUntil } = snapshot.front;
  // Past the exact front, everyone in it is ahead too: never report fewer (positions stay in order).
  if (keys.length === 0 || compareKeys(key, completeUntil) > 0) return Math.max(keys.length, peopleAhead(snapshot.histogram, key));
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
