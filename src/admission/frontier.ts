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
      const key = heads[s]![cursors[s]!];
      if (key === undefined || key.a >= eligibleBefore || compareKeys(key, next) <= 0) continue;
      if (best < 0 || compareKeys(key, heads[best]![cursors[best]!]!) < 0) best = s;
    }
    if (best < 0) return { admitted, frontier: next, saturated: false };
    if (admitted.length >= allowance) return { admitted, frontier: next, saturated: true };
    next = heads[best]![cursors[best]!]!;
    cursors[best]!++;
    admitted.push(next);
  }
}
