import type { EntrantRange, PublicLottery } from "./lottery";
import type { OrderKey } from "./order-key";
import type { RoomConfig } from "../config/room-config";
import type { Result } from "../lib/result";

/**
 * The contracts between the Worker and the admission objects (RoomCoordinator, QueueShard), beside the
 * admission core they carry: what a join, a shard's ticket and a tick's sync look like, and every
 * reason an object call may refuse. Objects answer refusals as `Result<T, Reason>` (src/lib/result.ts)
 * and nothing else; src/http/refusals.ts turns a reason into the HTTP error, in one place.
 * The simulator (tools/sim) and the bench speak the same types, so a change here reaches all of them.
 */

export interface JoinRequest {
  readonly shard: number;
  /** The person's pseudonym (src/identity/pseudonym.ts): the line holds one place per person. */
  readonly person: string;
  /** The joining device's key thumbprint. */
  readonly jkt: string;
  /** This shard's highest seq the caller's snapshot already counts. */
  readonly syncedSeq: number;
  /**
   * How to stamp a newcomer (src/admission/event.ts StampPlan): FIFO (arrival time), a keyed draw
   * `rank` in [0, 1) placed inside [from, to) (random rooms), or a pre-queue entrant, whose point the
   * shard draws from the event's lottery seed and the new ticket's id (src/admission/lottery.ts).
   */
  readonly stamp:
    | { readonly kind: "fifo" }
    | { readonly kind: "lottery"; readonly from: number; readonly to: number; readonly rank: number }
    | { readonly kind: "prequeue"; readonly from: number; readonly to: number; readonly seed: string };
}

export interface ShardTicket {
  readonly seq: number;
  readonly key: OrderKey;
  readonly joinedAt: number;
  /** False when the device already held a ticket in this room: the same place is returned. */
  readonly created: boolean;
  /**
   * Tickets of this shard ahead of this one and after `syncedSeq`: people the caller's snapshot does
   * not count yet (the edge adds them, and estimates the other shards' likewise).
   */
  readonly unsyncedAhead: number;
}

export interface SyncRequest {
  readonly shard: number;
  /** The room's admission frontier: report keys after it. */
  readonly after: OrderKey;
  readonly limit: number;
  readonly eligibleBefore: number;
  /** Highest seq already reported; arrivals after it are counted. */
  readonly since: number;
}

export interface SyncReport {
  readonly heads: OrderKey[];
  /** Tickets with seq > since, counted per second of order stamp. */
  readonly arrivals: { second: number; count: number }[];
  /** Highest seq now stored. */
  readonly cursor: number;
  readonly total: number;
}

/** A shard's pre-queue entrants, published with the revealed seed. */
export type ShardEntrants = EntrantRange & { count: number };

/** The room does not exist (never created, and not one of DEFAULT_ROOMS). */
export type NoRoom = "no_room";

/** Why a configuration change is refused: a bad combination, or a change the room's state forbids. */
export type ConfigureRefusal = NoRoom | "outflow_floor_above_ceiling" | "shards_locked" | "prequeue_open" | "prequeue_not_in_future";

/** Why an operator's reveal is refused. */
export type RevealRefusal = NoRoom | "no_event" | "not_yet_drawn";

/**
 * Why an admission cannot open an issuance session (the token endpoint, from the room's snapshot:
 * src/admission/live-admission.ts). A session already opened is the session object's refusal.
 */
export type SessionStartRefusal = NoRoom | "not_admitted" | "expired";

/** Why the waiting page's approval of a handoff wallet is refused (ReplayGuard.handoffApprove). */
export type HandoffApproveRefusal = "no_match" | "ambiguous";

/** Every reason the coordinator may refuse a call with. */
export type CoordinatorRefusal = ConfigureRefusal | RevealRefusal | SessionStartRefusal;

export type Configured = Result<{ created: boolean; config: RoomConfig }, ConfigureRefusal>;
export type Revealed = Result<{ lottery: PublicLottery }, RevealRefusal>;
