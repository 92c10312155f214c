import type { Clock } from "../lib/clock";

/**
 * A small in-isolate rate limiter: one token bucket per key, for the edge checks on join and poll
 * (src/edge/rate-limits.ts). Pure apart from the clock it is given, so tests drive it with a ManualClock.
 *
 * A bucket holds `limit` tokens and refills at `limit / periodSeconds` per second; a request takes one.
 * Unlike a fixed window (what the Workers rate-limiting binding counts in), a bucket cannot be emptied
 * twice across a window boundary, and it knows exactly when the next token comes: the Retry-After.
 *
 * Memory is bounded: buckets are kept in least-recently-used order and the oldest is dropped beyond
 * `maxKeys`. A dropped bucket comes back full, which only ever errs towards letting a client through;
 * an attacker rotating keys to evict others gains nothing he could not get from the rotated keys.
 */
export interface RateLimitPolicy {
  readonly limit: number;
  readonly periodSeconds: number;
}

export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number };

/**
 * "LIMIT/PERIOD_SECONDS" ("120/60", spaces and case tolerated); "off" → null (no limit); anything else →
 * undefined, which src/config/settings.ts reports as a bad variable by name (no silent default).
 */
export function parsePolicy(raw: string): RateLimitPolicy | null | undefined {
  const value = raw.trim().toLowerCase();
  if (value === "off") return null;
  const m = /^(\d{1,9})\s*\/\s*(\d{1,6})$/.exec(value);
  if (!m) return undefined;
  const limit = Number(m[1]);
  const periodSeconds = Number(m[2]);
  return limit >= 1 && periodSeconds >= 1 ? { limit, periodSeconds } : undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    readonly policy: RateLimitPolicy,
    private readonly clock: Clock,
    private readonly maxKeys = 50_000,
  ) {
    this.perMs = policy.limit / (policy.periodSeconds * 1000);
  }

  /** Takes one token for `key`: ok, or refused with the whole seconds until a token is back. */
  take(key: string): RateDecision {
    const now = this.clock.now();
    const found = this.buckets.get(key);
    // A clock that went backwards (tests set it) refills nothing rather than a negative amount.
    const tokens = found ? Math.min(this.policy.limit, found.tokens + Math.max(0, now - found.at) * this.perMs) : this.policy.limit;
    // Re-inserted on every touch, so iteration order is least recently used first.
    if (found) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { ok: true };
    }
    this.buckets.set(key, { tokens, at: now });
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000)) };
  }

  /** Buckets held (tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}
