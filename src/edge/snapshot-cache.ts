import type { RoomSnapshot } from "../admission/snapshot";
import { coordinatorOf } from "./objects";
import type { Result } from "../lib/result";
import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { logger } from "../log/logger";

/**
 * Room snapshots at the edge: the reason a poll touches no Durable Object, and the reason the
 * coordinator's snapshot reads grow with Cloudflare locations, not with isolates.
 *
 * Three layers, each asked only when the one before has no fresh copy (docs/scaling-past-one-coordinator.md):
 * 1. this isolate's memory: a copy younger than SNAPSHOT_TTL_MS is served with no I/O;
 * 2. the location's cache (the Cache API, shared by every isolate of one Cloudflare location): a copy
 *    younger than SNAPSHOT_TTL_MS is taken into memory, with no coordinator call;
 * 3. the coordinator, by one request per location per TTL: the request that finds the location's copy
 *    stale and nobody refreshing it puts a short "refreshing" marker, calls, and publishes the new copy.
 *    Isolates that find the copy stale but the marker live keep serving the stale copy meanwhile. The
 *    Cache API has no compare-and-set, so two isolates missing in the same instant may both call: the
 *    bound is about one call per location per TTL, not exactly one.
 *
 * Why no request ever awaits another request's refresh: in workerd a promise fed by one request's I/O
 * (the coordinator RPC) cannot wake a different request. The waiting request has no I/O of its own
 * pending, so the runtime cancels it as hung ("your Worker's code had hung and would never generate a
 * response", a 500). An earlier version shared one pending refresh this way: under 20 concurrent room
 * reads, `npm start` answered 326 of 40,000 with that 500. So within an isolate the refreshing request
 * marks itself before its first await and the others serve the memory copy; across isolates the others
 * serve the location copy. A request with no usable snapshot at all (cold isolate in a cold location, or
 * everything older than STALE_LIMIT_MS) makes its own call. If the coordinator cannot be reached, a
 * snapshot up to STALE_LIMIT_MS old is served rather than failing every poll; past that, a retryable 503.
 *
 * A served snapshot never goes back in time: per isolate, a copy older (by the coordinator's
 * `generatedAt`) than the one held is never taken, whichever layer it comes from.
 *
 * The location layer is a *named* cache, not caches.default: a snapshot carries the pre-queue lottery's
 * seed, secret until revealed, and no request URL on the zone can be answered from a named cache.
 * Freshness is judged by the fetch time the copy carries (header), read with `clock.now()`, not by the
 * cache's own expiry: the copy must outlive its freshness so that it can be served while refreshing.
 */
const STALE_LIMIT_MS = 30_000;
/** A refresh not settled after this long is presumed lost (its request cancelled); the next one retries. */
const REFRESH_LOST_MS = 5_000;
/** Bounded, so that requests naming random rooms cannot grow an isolate's memory. */
const MAX_ROOMS = 256;
/** The named cache every isolate of a location shares (SnapshotCache, tests). */
export const LOCATION_CACHE = "antichambre-snapshots";
/** Only a key inside the named cache: never fetched, never routed. */
const KEY_BASE = "https://snapshots.antichambre.internal/rooms/";
const FETCHED_AT = "x-fetched-at";

interface Entry {
  /** When `snapshot` was read from the coordinator, by whichever isolate read it (−∞: never). */
  fetchedAt: number;
  snapshot: RoomSnapshot | null;
  /** When this isolate's refresh in flight started (null: none). */
  refreshingSince: number | null;
  /** This isolate has read the coordinator itself since its memory was last cleared. */
  selfFetched: boolean;
}

/** A copy of a room's snapshot as the location's cache holds it. */
export interface LocationCopy {
  readonly fetchedAt: number;
  readonly snapshot: RoomSnapshot | null;
}

/** How an isolate reaches its location's cache: null where there is none (the copy layer is then skipped). */
export type LocationCacheOpener = () => Promise<Cache | null>;

const openLocationCache: LocationCacheOpener = () => (typeof caches === "undefined" ? Promise.resolve(null) : caches.open(LOCATION_CACHE));

/**
 * One isolate's snapshot cache (its memory), in front of its location's cache. The Worker has one
 * (module scope, below); tests build several over one location cache to stand for many isolates.
 */
export class SnapshotCache {
  readonly #entries = new Map<string, Entry>();
  readonly #open: LocationCacheOpener;
  #location: Promise<Cache | null> | null = null;
  #fetches = 0;
  /** Location copies fetched at or before this moment are ignored until this isolate reads the room itself. */
  #clearedAt = Number.NEGATIVE_INFINITY;

  constructor(open: LocationCacheOpener = openLocationCache) {
    this.#open = open;
  }

  /** Coordinator round trips this isolate has made for snapshots (for metrics and tests). */
  get fetchCount(): number {
    return this.#fetches;
  }

  /**
   * Forget every copy in memory, and distrust the location's copies as old as now: the next read of a
   * room goes to its coordinator and republishes for the location (an operator's change is seen at once
   * by the isolate that made it).
   */
  clear(): void {
    this.#entries.clear();
    this.#clearedAt = clock.now();
  }

  async read(env: Env, room: string): Promise<RoomSnapshot | null> {
    const now = clock.now();
    const ttl = settingsOf(env).snapshotTtlMs;
    let entry = this.#entries.get(room);
    if (entry && now - entry.fetchedAt < ttl) return entry.snapshot;
    const refreshing = entry?.refreshingSince != null && now - entry.refreshingSince < REFRESH_LOST_MS;
    if (entry && refreshing && now - entry.fetchedAt < STALE_LIMIT_MS) return entry.snapshot;
    if (!entry) {
      if (this.#entries.size >= MAX_ROOMS) this.#entries.delete(this.#entries.keys().next().value!);
      entry = { fetchedAt: Number.NEGATIVE_INFINITY, snapshot: null, refreshingSince: null, selfFetched: false };
      this.#entries.set(room, entry);
    }
    const e = entry;
    // Marked before the first await, so that this isolate's other requests serve memory meanwhile. Only
    // if no refresh is in flight, so that one lost refresh does not hide the next.
    const marks = !refreshing;
    if (marks) e.refreshingSince = now;
    try {
      const location = await this.#locationCache();
      if (location) {
        const copy = await readLocationCopy(location, room);
        const trusted = copy !== null && (e.selfFetched || copy.fetchedAt > this.#clearedAt);
        if (trusted) take(e, copy);
        if (trusted && now - copy.fetchedAt < ttl) return e.snapshot;
        // Stale or absent. Another isolate of this location refreshing it (a marker newer than the copy,
        // not yet presumed lost) lets this request serve what it has, as this isolate's own requests do.
        const live = (m: Marker | null): boolean =>
          m !== null && m.at > (copy?.fetchedAt ?? Number.NEGATIVE_INFINITY) && now - m.at < REFRESH_LOST_MS;
        const canServe = now - e.fetchedAt < STALE_LIMIT_MS;
        if (canServe && live(await readMarker(location, room))) return e.snapshot;
        const claim: Marker = { at: now, id: crypto.randomUUID() };
        await putQuietly(location, markerKey(room), new Response(JSON.stringify(claim), { headers: { "cache-control": "max-age=5" } }));
        // No compare-and-set: isolates that all saw no marker all wrote one, and the last write stands.
        // Reading it back lets every other claimant see it lost and serve what it has; only claims that
        // overlap this read-back still both call. A claim written REFRESH_LOST_MS or more after this one
        // was made by someone who already presumed this refresh lost: this request goes on with its own.
        if (canServe) {
          const standing = await readMarker(location, room);
          const overlapping = standing !== null && standing.id !== claim.id && standing.at - claim.at < REFRESH_LOST_MS;
          if (overlapping && live(standing)) return e.snapshot;
        }
      }
      return await this.#fetch(env, room, e, location);
    } finally {
      if (marks && e.refreshingSince === now) e.refreshingSince = null;
    }
  }

  /**
   * Read the coordinator now, whatever the layers hold (the token endpoint, when the code names an
   * admission this isolate's copy does not show yet). Publishes the copy for the location too.
   */
  async refresh(env: Env, room: string): Promise<RoomSnapshot | null> {
    let e = this.#entries.get(room);
    if (!e) {
      e = { fetchedAt: Number.NEGATIVE_INFINITY, snapshot: null, refreshingSince: null, selfFetched: false };
      this.#entries.set(room, e);
    }
    return this.#fetch(env, room, e, await this.#locationCache());
  }

  async #fetch(env: Env, room: string, e: Entry, location: Cache | null): Promise<RoomSnapshot | null> {
    this.#fetches++;
    try {
      const answer = (await coordinatorOf(env, room).snapshot()) as Result<RoomSnapshot, "no_room">;
      const fetched: LocationCopy = { fetchedAt: clock.now(), snapshot: answer.ok ? answer.value : null };
      // Two calls can cross: the newer snapshot is kept (by the coordinator's clock).
      take(e, fetched);
      e.selfFetched = true;
      if (location) await publishLocationCopy(location, room, fetched);
      return fetched.snapshot;
    } catch (error) {
      if (clock.now() - e.fetchedAt < STALE_LIMIT_MS) return e.snapshot;
      logger.error("snapshot_failed", { room, error: String(error) });
      throw new ApiError("temporarily_unavailable", "the room's state cannot be read right now; retry shortly", {
        headers: { "retry-after": "2" },
      });
    }
  }

  #locationCache(): Promise<Cache | null> {
    // A cache that cannot be opened is not retried on every request: the isolate serves from memory
    // and the coordinator, as it did before the location layer existed.
    this.#location ??= this.#open().catch((error: unknown) => {
      logger.error("snapshot_location_cache_unavailable", { error: String(error) });
      return null;
    });
    return this.#location;
  }
}

/** Keep the newer of the two snapshots; the entry counts as fetched at the later of the two times. */
function take(e: Entry, copy: LocationCopy): void {
  if (copy.snapshot === null || e.snapshot === null || copy.snapshot.generatedAt >= e.snapshot.generatedAt) e.snapshot = copy.snapshot;
  e.fetchedAt = Math.max(e.fetchedAt, copy.fetchedAt);
}

function copyKey(room: string): string {
  return KEY_BASE + encodeURIComponent(room);
}

function markerKey(room: string): string {
  return `${copyKey(room)}/refreshing`;
}

/**
 * Put a copy where every isolate of the location reads it. Kept in the cache past its freshness (up to
 * STALE_LIMIT_MS), so that it can be served while one isolate refreshes it.
 */
export async function publishLocationCopy(location: Cache, room: string, copy: LocationCopy): Promise<void> {
  const headers = { "cache-control": `max-age=${STALE_LIMIT_MS / 1000}`, [FETCHED_AT]: String(copy.fetchedAt) };
  await putQuietly(location, copyKey(room), new Response(JSON.stringify(copy.snapshot), { headers }));
}

/** The location's copy, or null (none, unreadable: the caller then reads the coordinator). */
export async function readLocationCopy(location: Cache, room: string): Promise<LocationCopy | null> {
  try {
    const res = await location.match(copyKey(room));
    if (!res) return null;
    const fetchedAt = Number(res.headers.get(FETCHED_AT));
    const snapshot = (await res.json()) as RoomSnapshot | null;
    return Number.isFinite(fetchedAt) ? { fetchedAt, snapshot } : null;
  } catch {
    return null;
  }
}

/** A location's "refreshing" marker: when the refresh started, and whose claim it is. */
interface Marker {
  readonly at: number;
  readonly id: string;
}

async function readMarker(location: Cache, room: string): Promise<Marker | null> {
  try {
    const res = await location.match(markerKey(room));
    if (!res) return null;
    const m = (await res.json()) as Partial<Marker>;
    return typeof m.at === "number" && typeof m.id === "string" ? { at: m.at, id: m.id } : null;
  } catch {
    return null;
  }
}

/** The location layer only saves calls: if it fails, the request goes on without it. */
async function putQuietly(location: Cache, key: string, res: Response): Promise<void> {
  try {
    await location.put(key, res);
  } catch (error) {
    logger.warn("snapshot_location_put_failed", { error: String(error) });
  }
}

/** This isolate's cache: what the Worker's routes read through. */
const isolateCache = new SnapshotCache();

/** Coordinator round trips this isolate has made for snapshots (for metrics and tests). */
export function snapshotFetchCount(): number {
  return isolateCache.fetchCount;
}

/** Forget every cached snapshot (admin writes, and tests that restart Durable Objects or tick). */
export function clearSnapshotCache(): void {
  isolateCache.clear();
}

export function roomSnapshot(env: Env, room: string): Promise<RoomSnapshot | null> {
  return isolateCache.read(env, room);
}

/** The room's snapshot read from its coordinator now (see SnapshotCache.refresh). */
export function refreshRoomSnapshot(env: Env, room: string): Promise<RoomSnapshot | null> {
  return isolateCache.refresh(env, room);
}
