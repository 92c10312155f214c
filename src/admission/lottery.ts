import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { tieBreaker } from "./order-key";

/**
 * The pre-queue lottery, provable.
 *
 * When an event is scheduled the coordinator draws a 32-byte seed and publishes only its commitment,
 * SHA-256(seed). Each pre-queue entrant's order stamp is derived from the seed and their ticket id:
 *
 *   draw(t)  = first 6 bytes of HMAC-SHA256(key = seed, message = ASCII(ticket id "shard.seq")) / 2^48
 *   stamp(t) = prequeue_start + floor(draw(t) × (event_start − prequeue_start))        (ms)
 *   order    = ascending (stamp, shard · 2^32 + seq)
 *
 * HMAC under a secret key is a keyed pseudo-random function, so sorting by it is a uniformly random
 * permutation of the entrants that nobody can predict before the seed is revealed, and shuffling a million
 * people is one stored seed rather than a million writes: each shard stamps its entrant when it joins.
 * After event_start the room reveals the seed and the list of entrants (ticket id ranges per shard);
 * anyone can then check SHA-256(seed) against the commitment published before the pre-queue opened and
 * recompute every rank (README "Verifying a lottery", test/http/lottery.test.ts does it independently).
 *
 * Synchronous (noble-hashes): a shard computes the stamp between its insert and its update without
 * yielding, so no other request ever sees a placeholder.
 */
export const SEED_BYTES = 32;
const TWO_48 = 2 ** 48;

export function newSeed(): string {
  return bytesToHex(crypto.getRandomValues(new Uint8Array(SEED_BYTES)));
}

/** SHA-256 of the seed bytes, hex: what the room publishes before the pre-queue opens. */
export function commitment(seedHex: string): string {
  return bytesToHex(sha256(hexToBytes(seedHex)));
}

/** The entrant's draw in [0, 1). */
export function draw(seedHex: string, ticketId: string): number {
  const mac = hmac(sha256, hexToBytes(seedHex), new TextEncoder().encode(ticketId));
  let x = 0;
  for (let i = 0; i < 6; i++) x = x * 256 + mac[i]!;
  return x / TWO_48;
}

export function lotteryStamp(seedHex: string, shard: number, seq: number, from: number, to: number): number {
  return from + Math.floor(draw(seedHex, `${shard}.${seq}`) * (to - from));
}

/** Entrants of one shard: every seq in [first, last] except `excluded` (joins that were not entrants). */
export interface EntrantRange {
  readonly shard: number;
  readonly first: number;
  readonly last: number;
  readonly excluded: readonly number[];
}

/** Every entrant's ticket id in lottery order: the recomputation a verifier runs (here for tests and tools). */
export function lotteryOrder(seedHex: string, from: number, to: number, ranges: readonly EntrantRange[]): string[] {
  const entries: { id: string; a: number; b: number }[] = [];
  for (const r of ranges) {
    const skip = new Set(r.excluded);
    for (let seq = r.first; seq <= r.last; seq++) {
      if (skip.has(seq)) continue;
      entries.push({ id: `${r.shard}.${seq}`, a: lotteryStamp(seedHex, r.shard, seq, from, to), b: tieBreaker(r.shard, seq) });
    }
  }
  entries.sort((x, y) => x.a - y.a || x.b - y.b);
  return entries.map((e) => e.id);
}

/**
 * One event's lottery, as stored: the room keeps one per event it ever scheduled, for good (a record is
 * only ever added, revealed, or marked withdrawn, never replaced or deleted).
 */
export interface LotteryRecord {
  /** Storage row id: the order in which events were scheduled. */
  readonly id: number;
  readonly from: number;
  readonly to: number;
  readonly seed: string;
  readonly commitment: string;
  readonly committedAt: number;
  readonly revealedAt: number | null;
  readonly entrants: (EntrantRange & { count: number })[] | null;
  /**
   * The event was re-timed or removed before its pre-queue opened: nobody could enter (joins were
   * refused until prequeue_start), so its seed is revealed at once with no entrants, honouring the
   * commitment rather than leaving it unexplained.
   */
  readonly withdrawnAt: number | null;
}

/** What the public may know of a lottery: the seed only once revealed. */
export interface PublicLottery {
  readonly prequeue_start: string;
  readonly event_start: string;
  readonly commitment: string;
  readonly committed_at: string;
  readonly seed: string | null;
  readonly revealed_at: string | null;
  readonly entrants: { total: number; ranges: EntrantRange[] } | null;
  readonly withdrawn_at: string | null;
}

export function publicLottery(l: LotteryRecord | null): PublicLottery | null {
  if (!l) return null;
  const revealed = l.revealedAt !== null;
  return {
    prequeue_start: iso(l.from),
    event_start: iso(l.to),
    commitment: l.commitment,
    committed_at: iso(l.committedAt),
    seed: revealed ? l.seed : null,
    revealed_at: revealed ? iso(l.revealedAt!) : null,
    entrants: l.entrants
      ? {
          total: l.entrants.reduce((n, e) => n + e.count, 0),
          ranges: l.entrants.map(({ shard, first, last, excluded }) => ({ shard, first, last, excluded })),
        }
      : null,
    withdrawn_at: l.withdrawnAt === null ? null : iso(l.withdrawnAt),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
