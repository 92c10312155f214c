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
 * The event's lottery: its commitment from the moment the event is scheduled, its seed and entrants
 * once revealed after event_start (README "Verifying a lottery" tells how to recompute every rank).
 */
rooms.get("/:room/lottery", async (c) => {
  const room = roomParam(c);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  if (!snapshot.lottery) throw new ApiError("not_found", `room "${room}" has no scheduled event, so no lottery`);
  c.header("cache-control", "public, max-age=1");
  return c.json({ room, algorithm: LOTTERY_ALGORITHM, ...snapshot.lottery.public });
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
