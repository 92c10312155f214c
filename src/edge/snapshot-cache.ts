import type { RoomSnapshot } from "../admission/snapshot";
import { intVar, type Env } from "../config/env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { logger } from "../log/logger";

/**
 * Room snapshots cached in isolate memory: the reason a poll touches no Durable Object.
 *
 * Each isolate asks a room's coordinator at most once per SNAPSHOT_TTL_MS (concurrent misses share one
 * request), so coordinator load grows with the number of isolates, not with the number of people
 * polling. A snapshot is at most TTL + one tick old. If the coordinator cannot be reached, a snapshot up
 * to STALE_LIMIT_MS old is served rather than failing every poll; past that, a retryable 503.
 */
const STALE_LIMIT_MS = 30_000;
/** Bounded, so that requests naming random rooms cannot grow an isolate's memory. */
const MAX_ROOMS = 256;

interface Entry {
  fetchedAt: number;
  snapshot: RoomSnapshot | null;
  pending: Promise<RoomSnapshot | null> | null;
}

const entries = new Map<string, Entry>();
let fetches = 0;

/** Coordinator round trips this isolate has made for snapshots (for metrics and tests). */
export function snapshotFetchCount(): number {
  return fetches;
}

/** Forget every cached snapshot (tests that restart Durable Objects call this too). */
export function clearSnapshotCache(): void {
  entries.clear();
}

export async function roomSnapshot(env: Env, room: string): Promise<RoomSnapshot | null> {
  const now = clock.now();
  const ttl = intVar(env.SNAPSHOT_TTL_MS, 1_000);
  let entry = entries.get(room);
  if (entry && now - entry.fetchedAt < ttl) return entry.snapshot;
  if (entry?.pending) return entry.pending;
  if (!entry) {
    if (entries.size >= MAX_ROOMS) entries.delete(entries.keys().next().value!);
    entry = { fetchedAt: Number.NEGATIVE_INFINITY, snapshot: null, pending: null };
    entries.set(room, entry);
  }
  const e = entry;
  const stub = env.ROOM_COORDINATOR.get(env.ROOM_COORDINATOR.idFromName(room));
  fetches++;
  e.pending = stub.snapshot(room).then(
    (snapshot) => {
      e.fetchedAt = clock.now();
      e.snapshot = snapshot as RoomSnapshot | null;
      e.pending = null;
      return e.snapshot;
    },
    (error: unknown) => {
      e.pending = null;
      if (clock.now() - e.fetchedAt < STALE_LIMIT_MS) return e.snapshot;
      logger.error("snapshot_failed", { room, error: String(error) });
      throw new ApiError("temporarily_unavailable", "the room's state cannot be read right now; retry shortly", {
        headers: { "retry-after": "2" },
      });
    },
  );
  return e.pending;
}
