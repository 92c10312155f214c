import { estimationRatePerSecond, admittedLastMinute, frontierSteps, pruneLog, type FrontierStep, type TickRecord } from "./admission-log";
import { EMPTY_BUDGET, type BudgetState } from "./budget";
import type { ExactFront } from "./frontier";
import { ORIGIN, secondOf, shardOf, type OrderKey } from "./order-key";
import type { RoomSnapshot } from "./snapshot";
import type { TickOutcome } from "./tick";
import { addCount, toHistogram, type SecondCounts } from "./waiting-histogram";
import type { RoomConfig } from "../config/room-config";

/**
 * A room coordinator's books, and how one tick changes them: the part of RoomCoordinator that is pure.
 * The Durable Object (durable-objects/room-coordinator.ts) and the launch-day simulator (tools/sim/) both
 * keep a RoomBooks and call `applyTick` and `snapshotOf`, so what the simulator measures is what the
 * coordinator does. Persistence (the object's SQLite) and sessions (a table there, a column store in the
 * simulator) stay with each of them.
 */
export interface ShardBooks {
  /** Highest ticket seq synced. */
  readonly cursor: number;
  /** Tickets the shard holds. */
  readonly total: number;
  /** Of them, admitted (the frontier passed them). */
  readonly admitted: number;
}

export interface RoomBooks {
  frontier: OrderKey;
  /** Frontier before the oldest tick still in `log`. */
  baseline: OrderKey;
  budget: BudgetState;
  admittedTotal: number;
  log: TickRecord[];
  /** People waiting behind the frontier, by second of order stamp. */
  readonly counts: SecondCounts;
  /** Exact front of the line from the last tick (memory only in the coordinator). */
  front: ExactFront;
  /** [tick time, arrivals synced] over the last minute: how busy joining is. */
  arrivals: [number, number][];
  shards: ShardBooks[];
}

/** What a shard's sync contributes to the books (the heads go to the tick itself). */
export interface SyncedArrivals {
  readonly arrivals: readonly { readonly second: number; readonly count: number }[];
  readonly cursor: number;
  readonly total: number;
}

export function emptyBooks(shards: number): RoomBooks {
  return {
    frontier: ORIGIN,
    baseline: ORIGIN,
    budget: EMPTY_BUDGET,
    admittedTotal: 0,
    log: [],
    counts: new Map(),
    front: { keys: [], completeUntil: ORIGIN },
    arrivals: [],
    shards: Array.from({ length: shards }, () => ({ cursor: 0, total: 0, admitted: 0 })),
  };
}

/**
 * Fold one tick into the books: the shards' new arrivals into the waiting histogram, the admitted out of
 * it, the frontier, budget and tick log forward. Returns the histogram seconds it changed (what the
 * coordinator must write back).
 */
export function applyTick(books: RoomBooks, reports: readonly SyncedArrivals[], outcome: TickOutcome, ttlMs: number): Set<number> {
  const now = outcome.record.at;
  const touched = new Set<number>();
  let arrived = 0;
  reports.forEach((r, shard) => {
    for (const { second, count } of r.arrivals) {
      arrived += count;
      addCount(books.counts, second, count);
      touched.add(second);
    }
    books.shards[shard] = { cursor: r.cursor, total: r.total, admitted: books.shards[shard]!.admitted };
  });
  for (const key of outcome.admitted) {
    const second = secondOf(key);
    addCount(books.counts, second, -1);
    touched.add(second);
    const shard = books.shards[shardOf(key)]!;
    books.shards[shardOf(key)] = { ...shard, admitted: shard.admitted + 1 };
  }
  books.frontier = outcome.record.frontier;
  books.front = outcome.front;
  books.arrivals = books.arrivals.filter(([at]) => at > now - 60_000);
  books.arrivals.push([now, arrived]);
  books.budget = outcome.budget;
  books.admittedTotal += outcome.admitted.length;
  const pruned = pruneLog([...books.log, outcome.record], books.baseline, now, ttlMs);
  books.log = pruned.log;
  books.baseline = pruned.baseline;
  return touched;
}

/**
 * The snapshot the edge caches. `active` comes from the caller (it needs the sessions); `steps` may be
 * passed when the caller already holds frontierSteps(books.log); `configuredPerMinute` is the rate in
 * force (an event's or the adaptive one) when it is not the config's own.
 */
export function snapshotOf(
  name: string,
  config: RoomConfig,
  books: RoomBooks,
  now: number,
  active: number,
  options: { steps?: FrontierStep[]; configuredPerMinute?: number } = {},
): RoomSnapshot {
  const steps = options.steps ?? frontierSteps(books.log);
  const configured = options.configuredPerMinute ?? config.new_users_per_minute;
  return {
    room: name,
    generatedAt: now,
    config,
    frontier: books.frontier,
    baseline: books.baseline,
    steps,
    histogram: toHistogram(books.counts),
    front: books.front,
    ratePerSecond: estimationRatePerSecond(books.log, now, configured / 60),
    admittedLastMinute: admittedLastMinute(books.log, now),
    admittedTotal: books.admittedTotal,
    active,
    syncedSeqs: books.shards.map((s) => s.cursor),
    arrivalsPerSecond: books.arrivals.reduce((n, [, count]) => n + count, 0) / 60,
    everJoined: books.shards.some((s) => s.total > 0),
  };
}
