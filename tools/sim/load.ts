import type { EdgeModel } from "./config";

/**
 * Durable Object requests per second, counted from what the simulation does, not from every request
 * of 3 M people:
 * - a join is one request to its shard, plus one to every other shard in a quiet room (the exact
 *   position, tools/sim/edge.ts); each tick is one sync per shard;
 * - a poll is answered at the edge (0 DO requests), but it is edge traffic: the tracked sample's polls,
 *   scaled by population / sample, give the edge's poll rate;
 * - each isolate fetches the coordinator's snapshot once a second (modeled: isolates from edge traffic,
 *   EdgeModel), plus one coordinator call per redemption (token endpoint) and per notification.
 * Rates are per tick interval; the sampled poll rate is smoothed over the last SMOOTH ticks.
 */
const SMOOTH = 10;

export interface TickTraffic {
  /** Length of the interval ending at this tick (ms). */
  readonly intervalMs: number;
  readonly joins: number;
  /** Joins and position queries each shard received in the interval. */
  readonly shardRequests: Int32Array;
  readonly trackedPolls: number;
  readonly redemptions: number;
  readonly notifications: number;
}

export interface PeakLoad {
  /** Worst shard, one interval: joins, position queries and 1 sync. */
  shardRequestsPerSecond: number;
  coordinatorRequestsPerSecond: number;
  /** Of which snapshot fetches (isolates × 1/s). */
  coordinatorSnapshotFetchesPerSecond: number;
  edgeRequestsPerSecond: number;
  isolates: number;
  pollsPerSecond: number;
}

export class LoadModel {
  readonly peak: PeakLoad = {
    shardRequestsPerSecond: 0,
    coordinatorRequestsPerSecond: 0,
    coordinatorSnapshotFetchesPerSecond: 0,
    edgeRequestsPerSecond: 0,
    isolates: 0,
    pollsPerSecond: 0,
  };
  private readonly recentPolls: number[] = [];
  private readonly recentMs: number[] = [];

  constructor(
    private readonly edge: EdgeModel,
    /** population / tracked sample */
    private readonly pollScale: number,
  ) {}

  onTick(t: TickTraffic): void {
    const seconds = t.intervalMs / 1000;
    for (let s = 0; s < t.shardRequests.length; s++) {
      this.peak.shardRequestsPerSecond = Math.max(this.peak.shardRequestsPerSecond, (t.shardRequests[s]! + 1) / seconds);
    }
    this.recentPolls.push(t.trackedPolls);
    this.recentMs.push(t.intervalMs);
    if (this.recentPolls.length > SMOOTH) {
      this.recentPolls.shift();
      this.recentMs.shift();
    }
    const polls = (sum(this.recentPolls) * this.pollScale * 1000) / sum(this.recentMs);
    // Issuance per redemption at the edge: token, nonce, credential; the notification is separate.
    const edge = t.joins / seconds + polls + (3 * t.redemptions + t.notifications) / seconds;
    const isolates = Math.min(
      this.edge.maxIsolates,
      Math.max(this.edge.minIsolates, Math.ceil(edge / this.edge.requestsPerIsolatePerSecond)),
    );
    const coordinator = isolates + (t.redemptions + t.notifications) / seconds + 1 / seconds;
    const p = this.peak;
    p.pollsPerSecond = Math.max(p.pollsPerSecond, polls);
    p.edgeRequestsPerSecond = Math.max(p.edgeRequestsPerSecond, edge);
    p.isolates = Math.max(p.isolates, isolates);
    p.coordinatorSnapshotFetchesPerSecond = Math.max(p.coordinatorSnapshotFetchesPerSecond, isolates);
    p.coordinatorRequestsPerSecond = Math.max(p.coordinatorRequestsPerSecond, coordinator);
  }
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
