import { describe, expect, it } from "vitest";
import { secondOf } from "../../src/admission/order-key";
import { addCount, peopleAhead, toHistogram, totalWaiting, type SecondCounts } from "../../src/admission/waiting-histogram";
import { key, rng } from "./fixtures";

describe("addCount", () => {
  it("adds and subtracts per second", () => {
    const c: SecondCounts = new Map();
    addCount(c, 10, 3);
    addCount(c, 10, 2);
    addCount(c, 11, 1);
    addCount(c, 10, -4);
    expect([...c]).toEqual([
      [10, 1],
      [11, 1],
    ]);
  });

  it("removes a second once nobody is left in it (or it would go negative)", () => {
    const c: SecondCounts = new Map([
      [10, 2],
      [11, 1],
    ]);
    addCount(c, 10, -2);
    addCount(c, 11, -5);
    addCount(c, 12, -1); // admitting from an unknown second must not create a negative bucket
    expect(c.size).toBe(0);
  });
});

describe("toHistogram / totalWaiting", () => {
  it("sorts seconds numerically and builds prefix sums", () => {
    const h = toHistogram(
      new Map([
        [105, 20],
        [100, 10],
        [1_000, 1],
        [102, 5],
      ]),
    );
    expect(h.seconds).toEqual([100, 102, 105, 1_000]); // numeric, not lexicographic
    expect(h.cumulative).toEqual([10, 15, 35, 36]);
    expect(totalWaiting(h)).toBe(36);
  });

  it("an empty room has an empty histogram and nobody waiting", () => {
    const h = toHistogram(new Map());
    expect(h).toEqual({ seconds: [], cumulative: [] });
    expect(totalWaiting(h)).toBe(0);
  });
});

describe("peopleAhead", () => {
  const h = toHistogram(
    new Map([
      [100, 10],
      [102, 5],
      [105, 20],
    ]),
  );

  it("counts whole earlier seconds exactly", () => {
    expect(peopleAhead(h, key(99_500))).toBe(0);
    expect(peopleAhead(h, key(101_000))).toBe(10);
    expect(peopleAhead(h, key(103_999))).toBe(15);
    expect(peopleAhead(h, key(106_000))).toBe(35);
    expect(peopleAhead(toHistogram(new Map()), key(5_000))).toBe(0);
  });

  it("interpolates the others in the ticket's own second by its position in that second", () => {
    // Second 102 holds 5 people: the holder and 4 others.
    expect(peopleAhead(h, key(102_000))).toBe(10); // start of the second: nobody of the 4 ahead
    expect(peopleAhead(h, key(102_500))).toBe(12); // halfway: 2 of the 4
    expect(peopleAhead(h, key(102_999))).toBe(13); // floor(4 × 0.999)
    expect(peopleAhead(h, key(105_500))).toBe(15 + 9); // floor(19 × 0.5)
    expect(peopleAhead(h, key(100_999))).toBe(8); // floor(9 × 0.999); never counts the holder
  });

  it("a lone person in their second has only the earlier seconds ahead", () => {
    const lone = toHistogram(
      new Map([
        [7, 3],
        [8, 1],
      ]),
    );
    expect(peopleAhead(lone, key(8_900))).toBe(3);
  });

  it("is within one second's arrivals of the true count, and never decreases along the line", () => {
    const r = rng(99);
    // 3,000 people over 60 seconds, bursty.
    const stamps = Array.from({ length: 3_000 }, () => 1_000_000 + Math.floor(r() ** 2 * 60_000)).sort((x, y) => x - y);
    const counts: SecondCounts = new Map();
    for (const a of stamps) addCount(counts, secondOf(key(a)), 1);
    const hist = toHistogram(counts);
    expect(totalWaiting(hist)).toBe(3_000);
    let previous = -1;
    stamps.forEach((a, exactAhead) => {
      const estimate = peopleAhead(hist, key(a, 0, exactAhead));
      const inSecond = counts.get(secondOf(key(a)))!;
      expect(Math.abs(estimate - exactAhead)).toBeLessThan(inSecond);
      expect(estimate).toBeGreaterThanOrEqual(previous);
      previous = estimate;
    });
  });
});
