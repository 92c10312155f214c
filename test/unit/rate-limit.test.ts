import { describe, expect, it } from "vitest";
import { coarseAddress } from "../../src/abuse/client-address";
import { parsePolicy, TokenBucketLimiter } from "../../src/abuse/rate-limit";
import { ManualClock } from "../../src/lib/clock";

describe("rate-limit policies from variables", () => {
  it("reads LIMIT/PERIOD, 'off', and reports anything else as malformed (undefined), never a default", () => {
    expect(parsePolicy("120/60")).toEqual({ limit: 120, periodSeconds: 60 });
    expect(parsePolicy(" 5 / 10 ")).toEqual({ limit: 5, periodSeconds: 10 });
    expect(parsePolicy("off")).toBeNull();
    expect(parsePolicy("OFF")).toBeNull();
    for (const bad of ["", "0/60", "10/0", "ten/60", "10", "-1/60", "1e3/60"]) expect(parsePolicy(bad)).toBeUndefined();
  });
});

describe("token bucket limiter", () => {
  it("lets `limit` requests through at once, then refuses with the seconds until the next token", () => {
    const clock = new ManualClock(0);
    const limiter = new TokenBucketLimiter({ limit: 3, periodSeconds: 60 }, clock);
    expect([1, 2, 3].map(() => limiter.take("a").ok)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 20 });
    // Another key has its own bucket.
    expect(limiter.take("b").ok).toBe(true);
    // Refills at limit/period: one token every 20 s; a refusal does not push the refill back.
    clock.advance(19_000);
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(limiter.take("a").ok).toBe(true);
    expect(limiter.take("a").ok).toBe(false);
    // A long pause fills the bucket up to the limit, not beyond.
    clock.advance(3_600_000);
    expect([1, 2, 3, 4].map(() => limiter.take("a").ok)).toEqual([true, true, true, false]);
  });

  it("never allows more than limit + period's refill in any period (sustained flood)", () => {
    const clock = new ManualClock(0);
    const limiter = new TokenBucketLimiter({ limit: 10, periodSeconds: 10 }, clock);
    let allowed = 0;
    for (let ms = 0; ms < 60_000; ms += 50) {
      clock.set(ms);
      if (limiter.take("flood").ok) allowed++;
    }
    // 10 at once, then 1/s for 60 s.
    expect(allowed).toBeLessThanOrEqual(10 + 60);
    expect(allowed).toBeGreaterThanOrEqual(10 + 59);
  });

  it("keeps at most maxKeys buckets, dropping the least recently used", () => {
    const clock = new ManualClock(0);
    const limiter = new TokenBucketLimiter({ limit: 1, periodSeconds: 60 }, clock, 3);
    for (const k of ["a", "b", "c"]) limiter.take(k);
    limiter.take("a"); // a is now the most recent (and refused)
    limiter.take("d"); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.take("a").ok).toBe(false);
    expect(limiter.take("b").ok).toBe(true); // came back full
  });

  it("treats a clock that went backwards as no time passed", () => {
    const clock = new ManualClock(100_000);
    const limiter = new TokenBucketLimiter({ limit: 1, periodSeconds: 60 }, clock);
    expect(limiter.take("a").ok).toBe(true);
    clock.set(0);
    expect(limiter.take("a").ok).toBe(false);
  });
});

describe("coarse client address", () => {
  it("keeps a whole IPv4 address and an IPv6 /64", () => {
    expect(coarseAddress("203.0.113.9")).toEqual({ family: 4, prefix: "203.0.113.9", local: false });
    expect(coarseAddress("2001:db8:aa:bb:1:2:3:4")).toEqual({ family: 6, prefix: "2001:db8:aa:bb::/64", local: false });
    // Every address of one /64 is one client.
    expect(coarseAddress("2001:0db8:00aa:00bb::ffff")?.prefix).toBe("2001:db8:aa:bb::/64");
    expect(coarseAddress("2001:db8:aa::")?.prefix).toBe("2001:db8:aa:0::/64");
    // IPv4-mapped IPv6 is the IPv4 client.
    expect(coarseAddress("::ffff:203.0.113.9")).toEqual({ family: 4, prefix: "203.0.113.9", local: false });
    expect(coarseAddress("::ffff:cb00:7109")?.prefix).toBe("203.0.113.9");
  });

  it("marks loopback, private, link-local and unspecified addresses local", () => {
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.1.1",
      "169.254.1.1",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
    ]) {
      expect(coarseAddress(ip)?.local, ip).toBe(true);
    }
    for (const ip of ["172.32.0.1", "100.128.0.1", "8.8.8.8", "2a01:e0a::1"]) expect(coarseAddress(ip)?.local, ip).toBe(false);
  });

  it("refuses what is not an address", () => {
    for (const bad of [
      null,
      undefined,
      "",
      "localhost",
      "1.2.3",
      "1.2.3.256",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "fe80::1%eth0",
      "x".repeat(100),
      "12345::",
    ]) {
      expect(coarseAddress(bad), String(bad)).toBeNull();
    }
  });
});
