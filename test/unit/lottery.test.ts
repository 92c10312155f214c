import { describe, expect, it } from "vitest";
import { commitment, draw, lotteryOrder, lotteryStamp, newSeed } from "../../src/admission/lottery";

/** Independent recomputation with WebCrypto (not the noble-hashes the service uses). */
async function webCryptoDraw(seedHex: string, ticketId: string): Promise<number> {
  const seed = Uint8Array.from(seedHex.match(/../g)!.map((h) => parseInt(h, 16)));
  const key = await crypto.subtle.importKey("raw", seed, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(ticketId)));
  let x = 0;
  for (let i = 0; i < 6; i++) x = x * 256 + mac[i]!;
  return x / 2 ** 48;
}

describe("the pre-queue lottery", () => {
  it("commits to the seed with SHA-256 and draws with HMAC-SHA256, as documented", async () => {
    const seed = newSeed();
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", Uint8Array.from(seed.match(/../g)!.map((h) => parseInt(h, 16)))));
    expect(commitment(seed)).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    for (const id of ["0.1", "3.17", "7.100000"]) expect(draw(seed, id)).toBe(await webCryptoDraw(seed, id));
  });

  it("is reproducible from the seed and changes completely with it", () => {
    const ranges = [
      { shard: 0, first: 1, last: 40, excluded: [] },
      { shard: 1, first: 3, last: 50, excluded: [7] },
    ];
    const a = lotteryOrder("11".repeat(32), 1_000, 61_000, ranges);
    expect(lotteryOrder("11".repeat(32), 1_000, 61_000, ranges)).toEqual(a);
    expect(a).toHaveLength(40 + 47);
    expect(a).not.toContain("1.7");
    const b = lotteryOrder("22".repeat(32), 1_000, 61_000, ranges);
    expect(b).not.toEqual(a);
    expect([...b].sort()).toEqual([...a].sort());
    expect(lotteryStamp("11".repeat(32), 1, 3, 1_000, 61_000)).toBeGreaterThanOrEqual(1_000);
  });

  it("is fair: over many seeds, join order says nothing about rank and every rank is equally likely", () => {
    // 50 entrants in one shard (seq 1…50 = join order), 1,000 seeds. For each join position, its mean
    // rank must be near the middle (24.5); and rank of the first joiner must spread over all deciles.
    const N = 50;
    const SEEDS = 1_000;
    const rankSum = new Array<number>(N).fill(0);
    const firstDecile = new Array<number>(10).fill(0);
    let seedState = 12345;
    for (let s = 0; s < SEEDS; s++) {
      seedState = (seedState * 1103515245 + 12345) >>> 0;
      const seed = seedState.toString(16).padStart(8, "0").repeat(8);
      const order = lotteryOrder(seed, 0, 3_600_000, [{ shard: 0, first: 1, last: N, excluded: [] }]);
      order.forEach((id, rank) => (rankSum[Number(id.split(".")[1]) - 1]! += rank));
      firstDecile[Math.floor((order.indexOf("0.1") / N) * 10)]!++;
    }
    // Standard deviation of a mean of 1,000 uniform ranks over 0…49 is about 0.46: allow 5 sigma.
    for (const sum of rankSum) expect(Math.abs(sum / SEEDS - (N - 1) / 2)).toBeLessThan(2.3);
    // Each decile expects 100 of 1,000; chi-square with 9 degrees of freedom stays under 27.9 (p = 0.001).
    const chi2 = firstDecile.reduce((x, o) => x + (o - 100) ** 2 / 100, 0);
    expect(chi2).toBeLessThan(27.9);
  });
});
