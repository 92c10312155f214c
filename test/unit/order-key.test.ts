import { describe, expect, it } from "vitest";
import { compareKeys, ORIGIN, secondOf, seqOf, shardOf, tieBreaker } from "../../src/admission/order-key";

describe("compareKeys", () => {
  it("orders by stamp first, then by tie-breaker", () => {
    expect(compareKeys({ a: 1, b: 99 }, { a: 2, b: 0 })).toBe(-1);
    expect(compareKeys({ a: 2, b: 0 }, { a: 1, b: 99 })).toBe(1);
    expect(compareKeys({ a: 5, b: 1 }, { a: 5, b: 2 })).toBe(-1);
    expect(compareKeys({ a: 5, b: 2 }, { a: 5, b: 1 })).toBe(1);
    expect(compareKeys({ a: 5, b: 2 }, { a: 5, b: 2 })).toBe(0);
  });

  it("sorts a mixed list into lexicographic order", () => {
    const keys = [
      { a: 3, b: tieBreaker(0, 1) },
      { a: 1, b: tieBreaker(7, 0) },
      { a: 3, b: tieBreaker(0, 0) },
      { a: 1, b: tieBreaker(2, 9) },
    ];
    expect([...keys].sort(compareKeys)).toEqual([keys[3], keys[1], keys[2], keys[0]]);
  });

  it("puts every real key after ORIGIN", () => {
    expect(compareKeys(ORIGIN, { a: 1, b: 0 })).toBe(-1);
    expect(compareKeys(ORIGIN, { a: 0, b: tieBreaker(0, 1) })).toBe(-1);
  });
});

describe("tie-breaker encoding", () => {
  it("round-trips shard and seq up to 64 shards and 2^32-1 tickets", () => {
    for (const [shard, seq] of [
      [0, 0],
      [0, 1],
      [3, 12345],
      [63, 2 ** 32 - 1],
    ] as const) {
      const k = { a: 1, b: tieBreaker(shard, seq) };
      expect(shardOf(k)).toBe(shard);
      expect(seqOf(k)).toBe(seq);
    }
  });

  it("keeps tie-breakers unique across shards (any seq of shard s < any seq of shard s+1)", () => {
    expect(tieBreaker(1, 0)).toBeGreaterThan(tieBreaker(0, 2 ** 32 - 1));
    expect(tieBreaker(63, 2 ** 32 - 1)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
  });
});

describe("secondOf", () => {
  it("buckets by whole epoch second", () => {
    expect(secondOf({ a: 1_700_000_000_000, b: 0 })).toBe(1_700_000_000);
    expect(secondOf({ a: 1_700_000_000_999, b: 0 })).toBe(1_700_000_000);
    expect(secondOf({ a: 1_700_000_001_000, b: 0 })).toBe(1_700_000_001);
  });
});
