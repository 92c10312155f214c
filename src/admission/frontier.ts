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
  const keys = heads
    .flat()
    .filter((k) => compareKeys(k, frontier) > 0 && compareKeys(k, completeUntil) <= 0)
    .sort(compareKeys);
  if (keys.length > max) {
    keys.length = max;
    completeUntil = keys[max - 1]!;
  }
  return { keys, completeUntil };
}

export function advanceFrontier(
  frontier: OrderKey,
  heads: readonly (readonly OrderKey[])[],
  allowance: number,
  eligibleBefore: number,
): FrontierMove {
  const cursors = heads.map(() => 0);
  const admitted: OrderKey[] = [];
  let next = frontier;
  for (;;) {
    let best = -1;
    for (let s = 0; s < heads.length; s++) {
      // A head at or behind the frontier (already admitted) must not block the rest of its shard.
      while (heads[s]![cursors[s]!] !== undefined && compareKeys(heads[s]![cursors[s]!]!, next) <= 0) cursors[s]!++;
      const key = heads[s]![cursors[s]!];
      if (key === undefined || key.a >= eligibleBefore) continue;
      if (best < 0 || compareKeys(key, heads[best]![cursors[best]!]!) < 0) best = s;
    }
    if (best < 0) return { admitted, frontier: next, saturated: false };
    if (admitted.length >= allowance) return { admitted, frontier: next, saturated: true };
    next = heads[best]![cursors[best]!]!;
    cursors[best]!++;
    admitted.push(next);
  }
}
