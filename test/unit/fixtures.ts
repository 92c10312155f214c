// Shared helpers for the pure-module unit tests (not a test file: vitest only collects *.test.ts).
import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../../src/config/room-config";
import { tieBreaker, type OrderKey } from "../../src/admission/order-key";
import { mulberry32 } from "../../src/lib/seeded-random";

/** A room config with the given settings changed; everything else is the default room. */
export function config(patch: Partial<RoomConfig> = {}): RoomConfig {
  return { ...DEFAULT_ROOM_CONFIG, ...patch };
}

/** An order key stamped at `a` ms, issued by `shard` as its `seq`th ticket. */
export function key(a: number, shard = 0, seq = 0): OrderKey {
  return { a, b: tieBreaker(shard, seq) };
}

/** Deterministic uniform [0, 1) generator (the simulator's mulberry32), so failures reproduce. */
export const rng = mulberry32;

/** An arbitrary, realistic epoch-ms start for simulations (a whole minute). */
export const T0 = 1_767_225_600_000;
