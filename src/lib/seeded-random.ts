/**
 * Seeded randomness for the simulator (tools/sim) and the development fault switch (src/faults):
 * every draw comes from an injected generator, so a run is reproducible from its seed (Math.random is
 * never called).
 */
export type Random = () => number;

/** mulberry32: small, fast, and good enough for workload generation (not for anything secret). */
export function mulberry32(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit mix of (value, seed) (murmur3's finalizer). Stands in for the HMAC pseudonym that routes a
 * person to a shard: uniform, and a fixed function of the person, like shardFor.
 */
export function hash32(value: number, seed: number): number {
  let h = (value ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Sub-streams for independent parts of a run, so adding draws to one does not shift the others. */
export function derive(seed: number, stream: number): Random {
  return mulberry32(hash32(stream, seed));
}

export function exponential(r: Random, mean: number): number {
  return -mean * Math.log(1 - r());
}

/** Standard normal (Box-Muller; one of the pair is discarded for simplicity). */
function normal(r: Random): number {
  const u = 1 - r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

/** Human task durations are right-skewed: log-normal around a median, clipped to [min, max]. */
export const LOGNORMAL_SIGMA = 0.6;

export function lognormal(r: Random, median: number, max: number, min = 0): number {
  return Math.min(max, Math.max(min, median * Math.exp(LOGNORMAL_SIGMA * normal(r))));
}

export function uniform(r: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * r();
}
