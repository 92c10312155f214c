import { Hono } from "hono";
import { estimateWaitSeconds } from "../admission/estimate";
import { roomState, waitingCount, type RoomSnapshot, type RoomState } from "../admission/snapshot";
import { roomSnapshot } from "../edge/snapshot-cache";
import type { AppEnv } from "../http/app-env";
import { noRoom, roomParam } from "../http/request";
import { ApiError } from "../http/problem";
import { eventPhase, type EventPhase } from "../admission/event";
import { clock } from "../lib/clock";

/** Public room state, answered from the edge snapshot and cacheable for a second. */
export const rooms = new Hono<AppEnv>();

rooms.get("/:room", async (c) => {
  const room = roomParam(c);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  c.header("cache-control", "public, max-age=1");
  return c.json(publicRoomView(room, snapshot));
});

/**
 * Every lottery the room ever scheduled, oldest first: each one's commitment from the moment its event
 * was scheduled, its seed and entrants once revealed after its event_start (README "Verifying a
 * lottery" tells how to recompute every rank). Records are kept for good, so a later event never hides
 * an earlier draw. The top-level members are the configured event's record (else the latest), as this
 * endpoint answered before it listed them all (kept for existing readers; `lotteries` is the list).
 */
rooms.get("/:room/lottery", async (c) => {
  const room = roomParam(c);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  const lotteries = snapshot.lotteries ?? [];
  const current = snapshot.lottery?.public ?? lotteries[lotteries.length - 1];
  if (!current) throw new ApiError("not_found", `room "${room}" never scheduled an event, so it has no lottery`);
  c.header("cache-control", "public, max-age=1");
  return c.json({ room, algorithm: LOTTERY_ALGORITHM, ...current, lotteries });
});

export const LOTTERY_ALGORITHM =
  "draw = first 6 bytes (big-endian) of HMAC-SHA256(key = seed bytes, message = ASCII ticket id 'shard.seq') / 2^48; " +
  "stamp = prequeue_start_ms + floor(draw * (event_start_ms - prequeue_start_ms)); order = ascending (stamp, shard * 2^32 + seq); " +
  "commitment = SHA-256(seed bytes); entrants = every seq in [first, last] of each shard except excluded";

export interface PublicRoomView {
  room: string;
  state: RoomState;
  waiting: number;
  admitted_per_minute: number;
  estimated_wait_seconds: number | null;
  /** A scheduled event, when there is one. */
  event?: {
    phase: EventPhase;
    prequeue_start: string;
    event_start: string;
    event_end: string | null;
    lottery_commitment: string | null;
  };
}

/** The room as anyone may see it (also what the waiting page shows someone who holds no ticket). */
export function publicRoomView(room: string, snapshot: RoomSnapshot, now = clock.now()): PublicRoomView {
  const waiting = waitingCount(snapshot);
  const e = snapshot.config.event;
  return {
    room,
    state: roomState(snapshot, now),
    waiting,
    admitted_per_minute: snapshot.admittedLastMinute,
    // What a newcomer joining now would be told.
    estimated_wait_seconds: snapshot.config.paused ? null : estimateWaitSeconds(waiting + 1, snapshot.ratePerSecond),
    ...(e
      ? {
          event: {
            phase: eventPhase(snapshot.config, now),
            prequeue_start: e.prequeue_start,
            event_start: e.event_start,
            event_end: e.event_end ?? null,
            lottery_commitment: snapshot.lottery?.public.commitment ?? null,
          },
        }
      : {}),
  };
}
