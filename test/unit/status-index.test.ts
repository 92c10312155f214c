import { describe, expect, it } from "vitest";
import { indexPermutation, LIST_SIZE } from "../../src/status/index-permutation";
import { packStatuses, statusAt } from "../../src/status/status-bits";
import { listName, MAX_GENERATIONS, parseListName, STATUS } from "../../src/status/status-values";

const seedOf = (byte: number) => new Uint8Array(32).fill(byte);

describe("status list index permutation", () => {
  it("never gives two of 100,000 allocations the same index, and stays inside the list", () => {
    const permute = indexPermutation(crypto.getRandomValues(new Uint8Array(32)));
    const seen = new Uint8Array(LIST_SIZE);
    let repeated = 0;
    let outside = 0;
    for (let n = 0; n < 100_000; n++) {
      const idx = permute(n);
      if (!(Number.isInteger(idx) && idx >= 0 && idx < LIST_SIZE)) outside++;
      else if (seen[idx]!++ > 0) repeated++;
    }
    expect({ repeated, outside }).toEqual({ repeated: 0, outside: 0 });
    expect(seen.reduce((a, b) => a + b, 0)).toBe(100_000);
  });

  it("is a permutation of the whole list (every index exactly once over 2^20 positions)", () => {
    const permute = indexPermutation(seedOf(7));
    const seen = new Uint8Array(LIST_SIZE);
    for (let n = 0; n < LIST_SIZE; n++) seen[permute(n)]! += 1;
    expect(seen.every((c) => c === 1)).toBe(true);
  });

  it("says nothing about the order of issuance: consecutive allocations are not close, and another seed gives other indices", () => {
    const a = indexPermutation(seedOf(1));
    const b = indexPermutation(seedOf(2));
    const first = Array.from({ length: 1_000 }, (_, n) => a(n));
    // Counters 0..999 would be 0..999 under an identity map; a random map puts about 1 in 1,000 of them there.
    expect(first.filter((idx) => idx < 1_000).length).toBeLessThan(10);
    // Sorted order of the indices is unrelated to issuance order (about half of the neighbours ascend).
    const ascending = first.slice(1).filter((idx, i) => idx > first[i]!).length;
    expect(ascending).toBeGreaterThan(400);
    expect(ascending).toBeLessThan(600);
    const other = Array.from({ length: 1_000 }, (_, n) => b(n));
    expect(other.filter((idx, n) => idx === first[n]).length).toBeLessThan(5);
  });

  it("is the same permutation for the same seed (a restarted object continues where it was)", () => {
    const again = indexPermutation(seedOf(1));
    const once = indexPermutation(seedOf(1));
    for (const n of [0, 1, 2, 99_999, LIST_SIZE - 1]) expect(again(n)).toBe(once(n));
  });

  it("refuses positions outside the list and short seeds", () => {
    const permute = indexPermutation(seedOf(3));
    for (const bad of [-1, LIST_SIZE, 1.5, Number.NaN]) expect(() => permute(bad)).toThrow(RangeError);
    expect(() => indexPermutation(new Uint8Array(8))).toThrow(RangeError);
  });
});

describe("status array packing (2 bits per entry, least significant bits first)", () => {
  it("puts entry i at bits 2*(i mod 4) of byte i / 4, as draft-ietf-oauth-status-list §4.1 shows", () => {
    const bytes = packStatuses(8, [
      [0, STATUS.invalid],
      [1, STATUS.suspended],
      [3, STATUS.invalid],
      [6, STATUS.suspended],
    ]);
    expect([...bytes]).toEqual([0b01_00_10_01, 0b00_10_00_00]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => statusAt(bytes, i))).toEqual([1, 2, 0, 1, 0, 0, 2, 0]);
  });

  it("refuses an index outside the list", () => {
    expect(() => packStatuses(8, [[8, STATUS.invalid]])).toThrow(RangeError);
    expect(() => packStatuses(8, [[-1, STATUS.invalid]])).toThrow(RangeError);
  });
});

describe("list names", () => {
  it("round-trips and refuses what this issuer could not have named", () => {
    expect(parseListName(listName(3, 12))).toEqual({ shard: 3, generation: 12 });
    expect(parseListName(listName(15, MAX_GENERATIONS - 1))).toEqual({ shard: 15, generation: MAX_GENERATIONS - 1 });
    // Beyond the last generation an object can have: refused without a call, so invented names stay few.
    for (const bad of [
      "",
      "3",
      "3-",
      "-1-0",
      "03-1",
      "3-01",
      "16-0",
      "999999-0",
      "3-0/x",
      "a-b",
      "3-0 ",
      `3-${MAX_GENERATIONS}`,
      "4-4000",
    ]) {
      expect(parseListName(bad)).toBeNull();
    }
  });
});
