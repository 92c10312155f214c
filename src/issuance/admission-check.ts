import { liveAdmission, type LiveAdmission } from "../admission/live-admission";
import type { OrderKey } from "../admission/order-key";
import type { SessionStartRefusal } from "../admission/protocol";
import type { Env } from "../config/env";
import type { RoomConfig } from "../config/room-config";
import { refreshRoomSnapshot, roomSnapshot } from "../edge/snapshot-cache";
import { ok, refuse, type Result } from "../lib/result";

/**
 * The admission named, live, and the room's settings, from the room's snapshot. A code was sealed only
 * for an admission some snapshot showed; if this isolate's copy is older than that one (it does not show
 * the admission yet), the coordinator is read once, directly.
 */
export async function admissionOf(
  env: Env,
  room: string,
  key: OrderKey,
  now: number,
): Promise<Result<{ admission: LiveAdmission; config: RoomConfig }, SessionStartRefusal>> {
  let snapshot = await roomSnapshot(env, room);
  let live = snapshot ? liveAdmission(snapshot, key, now) : null;
  if (!live?.ok && live?.reason !== "expired") {
    snapshot = await refreshRoomSnapshot(env, room);
    live = snapshot ? liveAdmission(snapshot, key, now) : null;
  }
  if (!snapshot || !live) return refuse("no_room");
  return live.ok ? ok({ admission: live.value, config: snapshot.config }) : live;
}
