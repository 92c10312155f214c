import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { coordinatorOf } from "../edge/objects";
import { RoomNameSchema } from "../config/room-config";
import { logger } from "../log/logger";
import { ApiError } from "../http/problem";
import { registerMetrics } from "../register/register";
import { edgeFamilies } from "./edge-counters";
import { formatExposition } from "./prometheus";
import { registerFamilies } from "./register-families";
import { roomFamilies, type RoomReading } from "./room-families";
import { RoomStatsSchema } from "./room-stats";

/** A scrape fans out one RPC per room: keep it bounded. */
export const MAX_SCRAPED_ROOMS = 32;

/** The rooms a scrape covers: `?room=` (repeatable, validated) or every default room. */
export function scrapedRooms(env: Env, asked: readonly string[]): string[] {
  const rooms = asked.length > 0 ? asked : [...settingsOf(env).defaultRooms];
  const unique = [...new Set(rooms)];
  if (unique.length > MAX_SCRAPED_ROOMS) throw new ApiError("bad_request", `at most ${MAX_SCRAPED_ROOMS} rooms per scrape`);
  for (const room of unique) {
    if (!RoomNameSchema.safeParse(room).success) throw new ApiError("bad_request", "room names are 1-40 characters of a-z, 0-9 and '-'");
  }
  return unique;
}

/** One room's statistics, or null if it does not exist or its coordinator failed (logged). */
async function readRoom(env: Env, room: string): Promise<RoomReading> {
  try {
    const answer = await coordinatorOf(env, room).stats();
    if (!answer.ok) return { room, stats: null };
    const raw = answer.value;
    const parsed = RoomStatsSchema.safeParse(raw);
    if (!parsed.success) {
      logger.error("metrics_stats_unreadable", { room, error: parsed.error.issues.map((i) => i.path.join(".")).join(", ") });
      return { room, stats: null };
    }
    return { room, stats: parsed.data };
  } catch (err) {
    logger.error("metrics_stats_failed", { room, error: err instanceof Error ? err.message : String(err) });
    return { room, stats: null };
  }
}

/** The whole exposition: rooms (global), then this isolate's register and edge metrics. */
export async function collectMetrics(env: Env, rooms: readonly string[]): Promise<string> {
  const readings = await Promise.all(rooms.map((room) => readRoom(env, room)));
  return formatExposition([...roomFamilies(readings), ...registerFamilies(registerMetrics()), ...edgeFamilies()]);
}
