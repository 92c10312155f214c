import type { RoomConfig } from "../config/room-config";
import type { PublicLottery } from "./lottery";
import { effectiveConfig } from "./event";
import type { FrontierStep } from "./admission-log";
import type { ExactFront } from "./frontier";
import type { OrderKey } from "./order-key";
import { totalWaiting, type WaitingHistogram } from "./waiting-histogram";

/**
 * Everything the edge needs to answer a poll, a join or a public room query without asking a Durable
 * Object: the coordinator builds one after every tick and isolates cache it for about a second.
 * It is internal (it carries the whole config); the public room view is derived from it.
 */
export interface RoomSnapshot {
  readonly room: string;
  readonly generatedAt: number;
  readonly config: RoomConfig;
  readonly frontier: OrderKey;
  readonly baseline: OrderKey;
  readonly steps: FrontierStep[];
  readonly histogram: WaitingHistogram;
  /** The next people in line, exactly, as of the last tick. */
  readonly front: ExactFront;
  /** Admissions per second used for estimates (achieved while saturated, else the configured rate). */
  readonly ratePerSecond: number;
  readonly admittedLastMinute: number;
  readonly admittedTotal: number;
  readonly active: number;
  /** Per shard, the highest ticket seq this snapshot counts (the coordinator's sync cursors). */
  readonly syncedSeqs: number[];
  /**
   * Arrivals per second over the last minute of syncs (memory only: 0 after a coordinator restart).
   * Absent where nobody measures it (the simulator): treated as a quiet room.
   */
  readonly arrivalsPerSecond?: number;
  /** Whether anyone has ever joined: the shard count cannot change after that. */
  readonly everJoined: boolean;
  /** The adaptive admission rate per minute, when the room's outflow is adaptive. */
  readonly outflowRate?: number | null;
  /**
   * The scheduled event's lottery. `seed` is SECRET until revealed (the edge passes it to the shard that
   * stamps a pre-queue entrant); only `public` may be shown to anyone.
   */
  readonly lottery?: { readonly from: number; readonly to: number; readonly seed: string; readonly public: PublicLottery } | null;
  /** Every event's lottery the room ever scheduled, public view, in scheduling order (kept for good). */
  readonly lotteries?: readonly PublicLottery[];
}

/** The settings in force at `now` for this snapshot (event, adaptive rate). */
export function snapshotConfig(s: RoomSnapshot, now: number): RoomConfig {
  return effectiveConfig(s.config, now, s.outflowRate ?? null);
}

export type RoomState = "open" | "queueing" | "paused" | "closed";

export function waitingCount(s: RoomSnapshot): number {
  return totalWaiting(s.histogram);
}

/** A newcomer would have to wait: people are in line, or the active cap is full. */
export function wouldQueue(s: RoomSnapshot, now?: number): boolean {
  const config = now === undefined ? s.config : snapshotConfig(s, now);
  return waitingCount(s) > 0 || s.active >= config.total_active_users;
}

/** The room's state at `now` (omit it to read the config as stored, without an event's settings). */
export function roomState(s: RoomSnapshot, now?: number): RoomState {
  const config = now === undefined ? s.config : snapshotConfig(s, now);
  if (config.paused) return "paused";
  if (config.queueing_method === "passthrough") return "open";
  if (config.queueing_method === "reject" && wouldQueue(s)) return "closed";
  return waitingCount(s) > 0 ? "queueing" : "open";
}
