/**
 * Fairness of an admission sequence against true arrival order. People are numbered in the order they
 * tapped "join", so a fair line admits them in increasing number; every pair admitted the other way
 * round is an inversion. The shard stamps on receipt, so network latency alone causes some: this
 * measures how much.
 */
export interface Fairness {
  readonly admitted: number;
  /** Pairs (i, j) with i tapped before j but admitted after j. */
  readonly inversions: number;
  /** All pairs of admitted people: the denominator of the out-of-order fraction. */
  readonly pairs: number;
  /** People admitted after someone who tapped later than they did. */
  readonly overtaken: number;
  /** Worst case: how much later than me (ms) the latest person admitted ahead of me tapped. */
  readonly worstDisplacementMs: number;
}

export function fairness(sequence: Int32Array, tap: Float64Array): Fairness {
  const n = sequence.length;
  let overtaken = 0;
  let worst = 0;
  let latestTap = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = tap[sequence[i]!]!;
    if (t < latestTap) {
      overtaken++;
      worst = Math.max(worst, latestTap - t);
    }
    latestTap = Math.max(latestTap, t);
  }
  return { admitted: n, inversions: countInversions(sequence), pairs: (n * (n - 1)) / 2, overtaken, worstDisplacementMs: worst };
}

/**
 * Inversions by bottom-up merge sort: O(n log n), two typed buffers, no recursion. Float64 so that epoch
 * milliseconds (the surge tool's admission times) count as exactly as person numbers.
 */
export function countInversions(values: ArrayLike<number>): number {
  let src = Float64Array.from(values);
  let dst = new Float64Array(values.length);
  let inversions = 0;
  for (let width = 1; width < src.length; width *= 2) {
    for (let lo = 0; lo < src.length; lo += 2 * width) {
      const mid = Math.min(lo + width, src.length);
      const hi = Math.min(lo + 2 * width, src.length);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if (src[i]! <= src[j]!) dst[k++] = src[i++]!;
        else {
          // Everything left in the left half is greater than src[j]: each is one inversion.
          inversions += mid - i;
          dst[k++] = src[j++]!;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  return inversions;
}
