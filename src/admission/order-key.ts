/**
 * Where a ticket stands in line: a pair compared lexicographically.
 *
 * `a` is a millisecond-scale stamp (the arrival time in FIFO rooms; a lottery-spread point of the arrival
 * window in random rooms) and `b` breaks ties: `shard * 2^32 + seq`, unique across the room. Because the
 * key is fixed when the ticket is issued and carried inside the signed ticket, "am I admitted?" is one
 * comparison against the room's admission frontier, with no per-ticket state read.
 */
export interface OrderKey {
  readonly a: number;
  readonly b: number;
}

const SHARD_STRIDE = 2 ** 32;

/** The frontier of a room where nobody has been admitted yet: every real key is after it. */
export const ORIGIN: OrderKey = { a: 0, b: 0 };

export function compareKeys(x: OrderKey, y: OrderKey): number {
  if (x.a !== y.a) return x.a < y.a ? -1 : 1;
  if (x.b !== y.b) return x.b < y.b ? -1 : 1;
  return 0;
}

export function tieBreaker(shard: number, seq: number): number {
  return shard * SHARD_STRIDE + seq;
}

export function shardOf(key: OrderKey): number {
  return Math.floor(key.b / SHARD_STRIDE);
}

export function seqOf(key: OrderKey): number {
  return key.b % SHARD_STRIDE;
}

/** The whole second (epoch seconds) a key's stamp falls in: the bucket of the waiting histogram. */
export function secondOf(key: OrderKey): number {
  return Math.floor(key.a / 1000);
}
