import { describe, expect, it } from "vitest";
import { shardFor } from "../../src/edge/shard-for";
import { rng } from "./fixtures";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A 43-character base64url string, the shape of a JWK SHA-256 thumbprint. */
function thumbprint(r: () => number): string {
  let s = "";
  for (let i = 0; i < 43; i++) s += B64URL[Math.floor(r() * 64)];
  return s;
}

describe("shardFor", () => {
  it("reads the first 32 bits of the thumbprint, modulo the shard count", () => {
    // 8 base64 characters = 6 bytes: "AAAAAAAA" is all zero bits, "________" all one bits.
    expect(shardFor("AAAAAAAA" + "A".repeat(35), 8)).toBe(0);
    expect(shardFor("AAAAAQAA" + "A".repeat(35), 8)).toBe(1); // bytes 00 00 00 01
    expect(shardFor("________" + "A".repeat(35), 8)).toBe(0xffffffff % 8);
    expect(shardFor("________" + "A".repeat(35), 7)).toBe(0xffffffff % 7);
    // Only the first 4 bytes count: the 7th and 8th characters (bytes 5 and 6) change nothing.
    expect(shardFor("AAAAAQ__" + "A".repeat(35), 8)).toBe(1);
  });

  it("decodes the url-safe alphabet ('-' and '_') like '+' and '/'", () => {
    // "-___" is 0xfb 0xff 0xff: the top byte differs from "____" (0xff).
    expect(shardFor("-_______" + "A".repeat(35), 1_000_000)).toBe(0xfbffffff % 1_000_000);
  });

  it("is deterministic and in range for every shard count", () => {
    const r = rng(1);
    for (let i = 0; i < 200; i++) {
      const jkt = thumbprint(r);
      for (const shards of [1, 2, 3, 8, 13, 64]) {
        const s = shardFor(jkt, shards);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(shards);
        expect(shardFor(jkt, shards)).toBe(s);
      }
    }
  });

  it("spreads 10,000 random thumbprints roughly evenly over 8 shards", () => {
    const r = rng(12345);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardFor(thumbprint(r), 8)]!++;
    for (const n of counts) {
      expect(n).toBeGreaterThanOrEqual(1_000);
      expect(n).toBeLessThanOrEqual(1_500);
    }
  });

  it("spreads evenly over a shard count that is not a power of two", () => {
    const r = rng(777);
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < 10_000; i++) counts[shardFor(thumbprint(r), 5)]!++;
    for (const n of counts) {
      expect(n).toBeGreaterThanOrEqual(1_700);
      expect(n).toBeLessThanOrEqual(2_300);
    }
  });
});
