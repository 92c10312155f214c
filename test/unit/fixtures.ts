// Shared helpers for the pure-module unit tests (not a test file: vitest only collects *.test.ts).
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../../src/config/room-config";
import type { OrderKey } from "../../src/admission/order-key";
import { tieBreaker } from "../../src/admission/order-key";

/** A room config with the given settings changed; everything else is the default room. */
export function config(patch: Partial<RoomConfig> = {}): RoomConfig {
  return { ...DEFAULT_ROOM_CONFIG, ...patch };
}

/** An order key stamped at `a` ms, issued by `shard` as its `seq`th ticket. */
export function key(a: number, shard = 0, seq = 0): OrderKey {
  return { a, b: tieBreaker(shard, seq) };
}

/** Deterministic uniform [0, 1) generator (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An arbitrary, realistic epoch-ms start for simulations (a whole minute). */
export const T0 = 1_767_225_600_000;
