import { Hono } from "hono";
import { estimateWaitSeconds } from "../admission/estimate";
import { roomState, waitingCount, type RoomSnapshot, type RoomState } from "../admission/snapshot";
import { roomSnapshot } from "../edge/snapshot-cache";
import type { AppEnv } from "../http/app-env";
import { noRoom, roomParam } from "../http/request";

/** Public room state, answered from the edge snapshot and cacheable for a second. */
export const rooms = new Hono<AppEnv>();

rooms.get("/:room", async (c) => {
  const room = roomParam(c);
  const snapshot = await roomSnapshot(c.env, room);
  if (!snapshot) throw noRoom(room);
  c.header("cache-control", "public, max-age=1");
  return c.json(publicRoomView(room, snapshot));
});

export interface PublicRoomView {
  room: string;
  state: RoomState;
  waiting: number;
  admitted_per_minute: number;
  estimated_wait_seconds: number | null;
}

/** The room as anyone may see it (also what the waiting page shows someone who holds no ticket). */
export function publicRoomView(room: string, snapshot: RoomSnapshot): PublicRoomView {
  const waiting = waitingCount(snapshot);
  return {
    room,
    state: roomState(snapshot),
    waiting,
    admitted_per_minute: snapshot.admittedLastMinute,
    // What a newcomer joining now would be told.
    estimated_wait_seconds: snapshot.config.paused ? null : estimateWaitSeconds(waiting + 1, snapshot.ratePerSecond),
  };
}
