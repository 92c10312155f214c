import { sha256 } from "@noble/hashes/sha2.js";

/**
 * Status list indices: the n-th credential of a list gets `permute(n)`, a keyed permutation of the
 * 2^20 positions of the list. Because it is a permutation, a counter alone guarantees that no index is
 * ever handed out twice (no lookup per draw, no retries as the list fills); because it is keyed by a
 * secret random seed, an index says nothing about when, or in which order, its credential was issued
 * (draft-ietf-oauth-status-list §12 "unlinkability", issue 16: "drawn at random without repetition").
 *
 * The construction: a balanced Feistel network over two 10-bit halves, 12 rounds, each round function a
 * table of 1,024 pseudo-random 10-bit values derived from the seed with SHA-256 in counter mode. The
 * domain is exactly 2^20, so no cycle walking is needed. Tables instead of a keyed hash per evaluation:
 * one list's tables cost 768 SHA-256 blocks once, then each index is 12 table lookups (a batch of
 * credentials never waits on crypto). 12 rounds rather than the 4 of Luby–Rackoff: on 10-bit halves
 * the generic bounds are weak, and more rounds of table lookups cost nothing.
 *
 * The seed lives only in the list's own storage (src/status/ledger-store.ts), made at random when the
 * list is created and never rotated: rotating it mid-list would map later counters onto indices already
 * given out. It is not a deployment secret, so there is nothing to configure or leak with one.
 */
export const LIST_INDEX_BITS = 20;
/** Entries per list: 2^20, so a verifier learns nothing from a list's size (issue 16). */
export const LIST_SIZE = 1 << LIST_INDEX_BITS;

const HALF_BITS = LIST_INDEX_BITS / 2;
const HALF_MASK = (1 << HALF_BITS) - 1;
const ROUNDS = 12;
/** Bytes of seed a list gets (256 bits). */
export const PERMUTATION_SEED_BYTES = 32;

export type IndexPermutation = (position: number) => number;

/** The permutation of `seed` (at least 16 bytes): position in [0, LIST_SIZE) → index in [0, LIST_SIZE). */
export function indexPermutation(seed: Uint8Array): IndexPermutation {
  if (seed.length < 16) throw new RangeError("index permutation: the seed must be at least 16 bytes");
  const tables = roundTables(seed);
  return (position) => {
    if (!Number.isInteger(position) || position < 0 || position >= LIST_SIZE) {
      throw new RangeError(`index permutation: position ${position} is outside [0, ${LIST_SIZE})`);
    }
    let left = position >>> HALF_BITS;
    let right = position & HALF_MASK;
    for (const table of tables) {
      const next = left ^ table[right]!;
      left = right;
      right = next;
    }
    return (left << HALF_BITS) | right;
  };
}

/** One table per round: entry j is 10 bits of SHA-256(seed ‖ round ‖ block), 16 entries per block. */
function roundTables(seed: Uint8Array): Uint16Array[] {
  const tables: Uint16Array[] = [];
  const input = new Uint8Array(seed.length + 3);
  input.set(seed);
  for (let round = 0; round < ROUNDS; round++) {
    const table = new Uint16Array(1 << HALF_BITS);
    input[seed.length] = round;
    for (let block = 0; block < table.length / 16; block++) {
      input[seed.length + 1] = block >>> 8;
      input[seed.length + 2] = block & 0xff;
      const digest = sha256(input);
      for (let k = 0; k < 16; k++) table[block * 16 + k] = ((digest[2 * k]! << 8) | digest[2 * k + 1]!) & HALF_MASK;
    }
    tables.push(table);
  }
  return tables;
}
