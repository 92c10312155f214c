import type { RoomSnapshot } from "../admission/snapshot";
import { coordinatorOf } from "./objects";
import type { Result } from "../lib/result";
import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { logger } from "../log/logger";

/**
 * Room snapshots cached in isolate memory: the reason a poll touches no Durable Object.
 *
 * Each isolate asks a room's coordinator about once per SNAPSHOT_TTL_MS, so coordinator load grows with
 * the number of isolates, not with the number of people polling. The first request to find the snapshot
 * expired refreshes it; requests arriving while that refresh is in flight are served the snapshot it
 * replaces (TTL plus one round trip old) instead of waiting for it. If the coordinator cannot be reached,
 * a snapshot up to STALE_LIMIT_MS old is served rather than failing every poll; past that, a retryable 503.
 *
 * Why no request ever awaits another request's refresh: in workerd a promise fed by one request's I/O
 * (the coordinator RPC) cannot wake a different request. The waiting request has no I/O of its own
 * pending, so the runtime cancels it as hung ("your Worker's code had hung and would never generate a
 * response", a 500). An earlier version shared one pending refresh this way: under 20 concurrent room
 * reads, `npm start` answered 326 of 40,000 with that 500. A request with no usable snapshot at all
 * (cold isolate, or older than STALE_LIMIT_MS) makes its own call.
 */
const STALE_LIMIT_MS = 30_000;
/** A refresh not settled after this long is presumed lost (its request cancelled); the next one retries. */
const REFRESH_LOST_MS = 5_000;
/** Bounded, so that requests naming random rooms cannot grow an isolate's memory. */
const MAX_ROOMS = 256;

interface Entry {
  /** When `snapshot` was read from the coordinator (−∞: never). */
  fetchedAt: number;
  snapshot: RoomSnapshot | null;
  /** When the refresh in flight started (null: none). */
  refreshingSince: number | null;
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
  const ttl = settingsOf(env).snapshotTtlMs;
  let entry = entries.get(room);
  if (entry && now - entry.fetchedAt < ttl) return entry.snapshot;
  const refreshing = entry?.refreshingSince != null && now - entry.refreshingSince < REFRESH_LOST_MS;
  if (entry && refreshing && now - entry.fetchedAt < STALE_LIMIT_MS) return entry.snapshot;
  if (!entry) {
    if (entries.size >= MAX_ROOMS) entries.delete(entries.keys().next().value!);
    entry = { fetchedAt: Number.NEGATIVE_INFINITY, snapshot: null, refreshingSince: null };
    entries.set(room, entry);
  }
  const e = entry;
  // This request's own call. It marks the refresh only if none is in flight, so that one lost refresh
  // does not hide the next.
  const marks = !refreshing;
  if (marks) e.refreshingSince = now;
  const stub = coordinatorOf(env, room);
  fetches++;
  try {
    const answer = (await stub.snapshot()) as Result<RoomSnapshot, "no_room">;
    const snapshot = answer.ok ? answer.value : null;
    // Two calls can cross: keep the newer snapshot (by the coordinator's clock), so that what later
    // requests are served never goes back in time.
    if (snapshot === null || e.snapshot === null || snapshot.generatedAt >= e.snapshot.generatedAt) e.snapshot = snapshot;
    e.fetchedAt = Math.max(e.fetchedAt, clock.now());
    return snapshot;
  } catch (error) {
    if (clock.now() - e.fetchedAt < STALE_LIMIT_MS) return e.snapshot;
    logger.error("snapshot_failed", { room, error: String(error) });
    throw new ApiError("temporarily_unavailable", "the room's state cannot be read right now; retry shortly", {
      headers: { "retry-after": "2" },
    });
  } finally {
    if (marks && e.refreshingSince === now) e.refreshingSince = null;
  }
}
