import { secondOf, type OrderKey } from "./order-key";

/**
 * How many people are waiting, per second of order stamp, behind the frontier.
 *
 * The coordinator keeps it exact up to its last shard sync: new arrivals add to their second, people it
 * admits subtract from theirs. The edge receives it as sorted seconds with prefix sums, and answers
 * "how many are ahead of me?" with one binary search, interpolating inside the ticket's own second
 * (so a position is exact to within the arrivals of one second, the same grain as FIFO itself).
 */
export type SecondCounts = Map<number, number>;

export function addCount(counts: SecondCounts, second: number, delta: number): void {
  const n = (counts.get(second) ?? 0) + delta;
  if (n > 0) counts.set(second, n);
  else counts.delete(second);
}

export interface WaitingHistogram {
  /** Seconds with someone waiting, ascending. */
  readonly seconds: number[];
  /** cumulative[i]: people waiting in seconds[0..i] inclusive. */
  readonly cumulative: number[];
}

export function toHistogram(counts: SecondCounts): WaitingHistogram {
  const seconds = [...counts.keys()].sort((x, y) => x - y);
  const cumulative: number[] = new Array(seconds.length);
  let sum = 0;
  for (let i = 0; i < seconds.length; i++) {
    sum += counts.get(seconds[i]!)!;
    cumulative[i] = sum;
  }
  return { seconds, cumulative };
}

export function totalWaiting(h: WaitingHistogram): number {
  return h.cumulative.length ? h.cumulative[h.cumulative.length - 1]! : 0;
}

/** People waiting whose key comes before `key` (the ticket holder excluded, to within one second). */
export function peopleAhead(h: WaitingHistogram, key: OrderKey): number {
  const sec = secondOf(key);
  // First index with seconds[i] >= sec.
  let lo = 0;
  let hi = h.seconds.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h.seconds[mid]! < sec) lo = mid + 1;
    else hi = mid;
  }
  const before = lo > 0 ? h.cumulative[lo - 1]! : 0;
  if (h.seconds[lo] !== sec) return before;
  const inSecond = h.cumulative[lo]! - before;
  const fraction = (key.a - sec * 1000) / 1000;
  // The holder is one of `inSecond`; of the others, about `fraction` of them are ahead.
  return before + Math.floor(Math.max(0, inSecond - 1) * fraction);
}
