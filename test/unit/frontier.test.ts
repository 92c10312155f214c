import { describe, expect, it } from "vitest";
import { advanceFrontier, exactFront } from "../../src/admission/frontier";
import { compareKeys, ORIGIN, type OrderKey } from "../../src/admission/order-key";
import { key, rng } from "./fixtures";

const OPEN = Number.MAX_SAFE_INTEGER; // eligibleBefore that lets everyone through

// Three shards whose keys interleave; the same stamp 20 appears in shards 0 and 2.
const HEADS = [
  [key(10, 0, 0), key(20, 0, 1), key(50, 0, 2)],
  [key(15, 1, 0), key(30, 1, 1)],
  [key(20, 2, 0), key(25, 2, 1), key(60, 2, 2)],
];
const GLOBAL = HEADS.flat().sort(compareKeys);

describe("advanceFrontier", () => {
  it("merges the shards into the exact global order", () => {
    const move = advanceFrontier(ORIGIN, HEADS, 100, OPEN);
    expect(move.admitted).toEqual(GLOBAL);
    expect(move.admitted.map((k) => k.a)).toEqual([10, 15, 20, 20, 25, 30, 50, 60]);
    // Same stamp: the lower tie-breaker (shard 0) first.
    expect(move.admitted[2]).toEqual(key(20, 0, 1));
    expect(move.frontier).toEqual(key(60, 2, 2));
    expect(move.saturated).toBe(false);
  });

  it("stops at the allowance, the frontier on the last one admitted, saturated", () => {
    const move = advanceFrontier(ORIGIN, HEADS, 3, OPEN);
    expect(move.admitted).toEqual(GLOBAL.slice(0, 3));
    expect(move.frontier).toEqual(GLOBAL[2]);
    expect(move.saturated).toBe(true);
  });

  it("with a zero allowance admits nobody and keeps the frontier", () => {
    const from = key(5);
    expect(advanceFrontier(from, HEADS, 0, OPEN)).toEqual({ admitted: [], frontier: from, saturated: true });
    expect(advanceFrontier(from, [[], []], 0, OPEN)).toEqual({ admitted: [], frontier: from, saturated: false });
  });

  it("is not saturated when the allowance exactly empties the line", () => {
    const move = advanceFrontier(ORIGIN, HEADS, GLOBAL.length, OPEN);
    expect(move.admitted).toHaveLength(GLOBAL.length);
    expect(move.saturated).toBe(false);
  });

  it("handles no shards and empty shards", () => {
    expect(advanceFrontier(key(3), [], 10, OPEN)).toEqual({ admitted: [], frontier: key(3), saturated: false });
    expect(advanceFrontier(key(3), [[], [key(4, 1)], []], 10, OPEN).admitted).toEqual([key(4, 1)]);
  });

  it("admits only keys stamped strictly before eligibleBefore", () => {
    const move = advanceFrontier(ORIGIN, HEADS, 100, 25);
    expect(move.admitted.map((k) => k.a)).toEqual([10, 15, 20, 20]); // 25 is not before 25
    expect(move.frontier).toEqual(key(20, 2, 0));
    // Only ineligible people are left: that is not saturation.
    expect(move.saturated).toBe(false);
  });

  it("is saturated only by eligible people left waiting", () => {
    // Allowance runs out with the next eligible key still there.
    expect(advanceFrontier(ORIGIN, HEADS, 2, 21).saturated).toBe(true);
    // Allowance runs out, but the next key is not eligible yet.
    expect(advanceFrontier(ORIGIN, HEADS, 4, 21).saturated).toBe(false);
  });

  it("never re-admits or moves back over keys at or behind the frontier", () => {
    const from = key(20, 0, 1);
    const move = advanceFrontier(from, [[key(20, 0, 1)], [key(15, 1, 0)], [key(20, 2, 0)]], 10, OPEN);
    expect(move.admitted).toEqual([key(20, 2, 0)]);
    expect(move.frontier).toEqual(key(20, 2, 0));
  });

  it("skips a stale head behind the frontier and still admits the keys after it, in order", () => {
    // Shard 0 reports one key the frontier already passed (e.g. a report built against an older frontier).
    // The keys behind it in that shard are still waiting and must not be overtaken by shard 1.
    const from = key(20);
    const move = advanceFrontier(from, [[key(10, 0, 0), key(30, 0, 1)], [key(40, 1, 0)]], 10, OPEN);
    expect(move.admitted).toEqual([key(30, 0, 1), key(40, 1, 0)]);
    expect(move.frontier).toEqual(key(40, 1, 0));
  });

  it("matches a sort-and-take reference on random shard reports", () => {
    const r = rng(2024);
    for (let trial = 0; trial < 300; trial++) {
      const shards = 1 + Math.floor(r() * 8);
      const frontier = key(Math.floor(r() * 50), Math.floor(r() * shards), Math.floor(r() * 5));
      // Each shard: sorted keys strictly after the frontier, as a sync report is.
      const heads: OrderKey[][] = [];
      for (let s = 0; s < shards; s++) {
        const list: OrderKey[] = [];
        let a = frontier.a;
        for (let seq = 0; seq < Math.floor(r() * 12); seq++) {
          a += Math.floor(r() * 3); // repeated stamps are common at launch
          const k = key(a, s, seq + 10);
          if (compareKeys(k, frontier) > 0) list.push(k);
        }
        heads.push(list);
      }
      const allowance = Math.floor(r() * 30);
      const eligibleBefore = frontier.a + Math.floor(r() * 25);
      const eligible = heads
        .flat()
        .filter((k) => k.a < eligibleBefore)
        .sort(compareKeys);
      const move = advanceFrontier(frontier, heads, allowance, eligibleBefore);
      const expected = eligible.slice(0, allowance);
      expect(move.admitted).toEqual(expected);
      expect(move.frontier).toEqual(expected.length ? expected[expected.length - 1] : frontier);
      expect(move.saturated).toBe(eligible.length > allowance);
    }
  });
});

describe("exactFront", () => {
  it("with no full page, is every reported key after the frontier, complete up to eligibleBefore", () => {
    const front = exactFront(key(15, 1, 0), HEADS, 10, 100, 256);
    expect(front.keys).toEqual(GLOBAL.filter((k) => k.a > 15 || (k.a === 15 && k.b > key(15, 1, 0).b)));
    expect(front.keys.map((k) => k.a)).toEqual([20, 20, 25, 30, 50, 60]);
    expect(front.completeUntil).toEqual({ a: 100, b: -1 });
  });

  it("stops at the earliest last key of a full page (that shard may hold more right after it)", () => {
    // Pages of 3: shards 0 and 2 are full (last keys 50 and 60); shard 0 might hold 55, so 60 is not known.
    const front = exactFront(ORIGIN, HEADS, 3, 100, 256);
    expect(front.completeUntil).toEqual(key(50, 0, 2));
    expect(front.keys.map((k) => k.a)).toEqual([10, 15, 20, 20, 25, 30, 50]);
  });

  it("never extends to keys not yet eligible", () => {
    const front = exactFront(ORIGIN, HEADS, 10, 25, 256);
    expect(front.keys.map((k) => k.a)).toEqual([10, 15, 20, 20]);
    expect(front.completeUntil).toEqual({ a: 25, b: -1 });
  });

  it("truncates to `max`, and is then complete only up to the last key kept", () => {
    const front = exactFront(ORIGIN, HEADS, 10, 100, 3);
    expect(front.keys).toEqual(GLOBAL.slice(0, 3));
    expect(front.completeUntil).toEqual(GLOBAL[2]);
  });

  it("holds every waiting key up to completeUntil, on random shard lines and pages", () => {
    const r = rng(4242);
    for (let trial = 0; trial < 300; trial++) {
      const shards = 1 + Math.floor(r() * 8);
      // Each shard's whole line (sorted), of which a sync reports only a page.
      const lines: OrderKey[][] = [];
      for (let s = 0; s < shards; s++) {
        const line: OrderKey[] = [];
        let a = 0;
        for (let seq = 0; seq < Math.floor(r() * 40); seq++) line.push(key((a += Math.floor(r() * 4)), s, seq));
        lines.push(line);
      }
      const frontier = key(Math.floor(r() * 30), Math.floor(r() * shards), Math.floor(r() * 20));
      const pageSize = 1 + Math.floor(r() * 8);
      const eligibleBefore = Math.floor(r() * 100);
      const max = 1 + Math.floor(r() * 20);
      const pages = lines.map((line) => line.filter((k) => compareKeys(k, frontier) > 0 && k.a < eligibleBefore).slice(0, pageSize));
      const front = exactFront(frontier, pages, pageSize, eligibleBefore, max);
      const truth = lines
        .flat()
        .filter((k) => compareKeys(k, frontier) > 0 && compareKeys(k, front.completeUntil) <= 0)
        .sort(compareKeys);
      expect(front.keys).toEqual(truth);
      expect(front.keys.length).toBeLessThanOrEqual(max);
    }
  });
});
