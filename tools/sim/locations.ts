import type { EdgeModel } from "./config";

/**
 * Cloudflare locations and the isolates in them, for the snapshot's coordinator reads
 * (docs/scaling-past-one-coordinator.md, "Snapshot read"): every isolate keeps a copy in memory for
 * SNAPSHOT_TTL_MS; when it is that old, the isolate `match`es the location's cached copy; when that is
 * stale too, an isolate that finds no live refresh marker writes its claim, reads the marker back, and
 * asks the coordinator only if its own claim is still there.
 *
 * Traffic share by location follows Zipf's law (share of the k-th ∝ 1 / k^skew): a national crowd lands
 * mostly on a few big locations, with a long tail of small ones. Isolates are spread in proportion to
 * traffic, at least one in every location.
 *
 * Coordinator reads per location and second, for a location receiving `rate` requests/s over `isolates`
 * isolates, with TTL `t` (s) and race window `w` (s):
 * - The location copy is refreshed by the first request after it turns `t` old: one read per
 *   `t + 1/rate` seconds (a quiet location reads less than once per TTL).
 * - Every isolate took the same copy and judges its age by the copy's own fetch time, so they all turn
 *   stale together; each isolate's first request after that `match`es. The Cache API has no
 *   compare-and-set: an isolate that looks for the marker in the `w` before the first claim is visible
 *   can claim too, and both call when their claims and read-backs interleave. Counting every such
 *   isolate as a caller, with requests spread evenly over isolates, gives at most
 *   (isolates − 1) · (1 − e^(−(rate / isolates) · w)) extra reads per refresh: an upper bound, since
 *   the read-back turns many of them away (scale measured ≈ 5 calls for 40 simultaneous isolates in
 *   Miniflare).
 * - Not built, modelled to size a fix (`snapshotJitterMs`, 0 = the mechanism as built): if each isolate
 *   added a random 0–J ms to its copy's age limit, their checks would spread over J instead of
 *   bunching, and the racers become (isolates − 1) · (1 − e^(−w / (J + isolates / rate))).
 * Both are expectations, not draws: the run adds them per tick interval.
 */
export class Locations {
  readonly shares: Float64Array;
  readonly isolates: Int32Array;

  constructor(private readonly edge: EdgeModel) {
    const n = edge.locations;
    this.shares = new Float64Array(n);
    let total = 0;
    for (let k = 0; k < n; k++) total += this.shares[k] = 1 / Math.pow(k + 1, edge.locationSkew);
    for (let k = 0; k < n; k++) this.shares[k]! /= total;
    // At least one isolate each; the rest by share, largest remainders first, so they add up exactly.
    this.isolates = new Int32Array(n).fill(1);
    const spare = Math.max(0, edge.isolates - n);
    const exact = Array.from(this.shares, (s) => s * spare);
    let given = 0;
    for (let k = 0; k < n; k++) given += Math.floor(exact[k]!);
    for (let k = 0; k < n; k++) this.isolates[k]! += Math.floor(exact[k]!);
    const byRemainder = exact.map((x, k) => [x - Math.floor(x), k] as const).sort((a, b) => b[0] - a[0]);
    for (let i = 0; i < spare - given; i++) this.isolates[byRemainder[i]![1]]!++;
  }

  /**
   * Coordinator snapshot reads per second, of which racing refreshes, and Cache API operations per
   * second, for an edge handling `edgeRate` requests/s in total.
   */
  snapshotTraffic(edgeRate: number): { reads: number; racing: number; cacheOps: number } {
    const ttl = this.edge.snapshotTtlMs / 1000;
    const w = this.edge.cacheRaceMs / 1000;
    const jitter = this.edge.snapshotJitterMs / 1000;
    let reads = 0;
    let racing = 0;
    let cacheOps = 0;
    for (let k = 0; k < this.shares.length; k++) {
      const rate = edgeRate * this.shares[k]!;
      if (rate <= 0) continue;
      const refreshes = 1 / (ttl + 1 / rate);
      const iso = this.isolates[k]!;
      const extra = (iso - 1) * (1 - Math.exp(-w / (jitter + iso / rate)));
      reads += refreshes * (1 + extra);
      racing += refreshes * extra;
      // Per refresh cycle: each isolate that has requests matches the copy and the marker once; every
      // refresher puts its claim, reads it back and puts the copy.
      const busyIsolates = iso * (1 - Math.exp(-(rate / iso) * ttl));
      cacheOps += refreshes * (2 * busyIsolates + 3 * (1 + extra));
    }
    return { reads, racing, cacheOps };
  }
}
