import { compareKeys, type OrderKey } from "./order-key";

/**
 * Move the admission frontier across exactly `allowance` people, in global order.
 *
 * Each shard reports the first few keys waiting after the current frontier, already sorted. A k-way
 * merge of those lists yields the room-wide next-in-line, so FIFO holds across shards exactly (not just
 * per shard), and the new frontier is the last key admitted. Keys at or after `eligibleBefore` are not
 * admitted yet: their shard may still be issuing keys just before them (see `eligibleBefore` in tick.ts).
 */
export interface FrontierMove {
  readonly admitted: OrderKey[];
  readonly frontier: OrderKey;
  /** True if someone eligible was left waiting because the allowance ran out. */
  readonly saturated: boolean;
}

/**
 * The front of the line, exactly: the merged heads left after admission, up to `max` keys, and the
 * key up to which that list is complete (a shard that returned a full page may hold more keys after
 * its last one, so completeness ends at the earliest such last key, and never past `eligibleBefore`).
 * Positions near the front, where people watch them most closely, are then counted, not estimated.
 */
export interface ExactFront {
  readonly keys: OrderKey[];
  readonly completeUntil: OrderKey;
}

export function exactFront(
  frontier: OrderKey,
  heads: readonly (readonly OrderKey[])[],
  pageSize: number,
  eligibleBefore: number,
  max: number,
): ExactFront {
  let completeUntil: OrderKey = { a: eligibleBefore, b: -1 };
  for (const page of heads) {
    const last = page[page.length - 1];
    if (page.length >= pageSize && last && compareKeys(last, completeUntil) < 0) completeUntil = last;
  }
  // A k-way merge of the sorted pages that stops after max + 1 keys: at 100,000 admissions a minute over
  // 32 shards the pages hold ~50,000 keys a tick, and flattening and sorting them all to keep 256 was
  // most of a tick's work. Each page is skipped past the frontier first (already admitted keys).
  const cursors = heads.map((page) => firstAfter(page, frontier));
  const keys: OrderKey[] = [];
  while (keys.length <= max) {
    let best = -1;
    let bestKey: OrderKey | undefined;
    for (let s = 0; s < heads.length; s++) {
      const key = heads[s]![cursors[s]!];
      if (key !== undefined && (bestKey === undefined || compareKeys(key, bestKey) < 0)) {
        best = s;
        bestKey = key;
      }
    }
    if (bestKey === undefined || compareKeys(bestKey, completeUntil) > 0) break;
    keys.push(bestKey);
    cursors[best]!++;
  }
  if (keys.length > max) {
    keys.length = max;
    completeUntil = keys[max - 1]!;
  }
  return { keys, completeUntil };
}

/** Index of the first key of a sorted page that is after `key`. */
function firstAfter(page: readonly OrderKey[], key: OrderKey): number {
  let lo = 0;
  let hi = page.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(page[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function advanceFrontier(
  frontier: OrderKey,
  heads: readonly (readonly OrderKey[])[],
  allowance: number,
  eligibleBefore: number,
): FrontierMove {
  // Heads at or behind the frontier (already admitted) must not block the rest of their shard: each page
  // starts past them. After that every pick is the smallest head, so no other head is ever behind it.
  const cursors = heads.map((page) => firstAfter(page, frontier));
  const admitted: OrderKey[] = [];
  let next = frontier;
  for (;;) {
    let best = -1;
    let bestKey: OrderKey | undefined;
    for (let s = 0; s < heads.length; s++) {
      const key = heads[s]![cursors[s]!];
      if (key === undefined || key.a >= eligibleBefore) continue;
      if (bestKey === undefined || compareKeys(key, bestKey) < 0) {
        best = s;
        bestKey = key;
      }
    }
    if (bestKey === undefined) return { admitted, frontier: next, saturated: false };
    if (admitted.length >= allowance) return { admitted, frontier: next, saturated: true };
    next = bestKey;
    cursors[best]!++;
    admitted.push(next);
  }
}
