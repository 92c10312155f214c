import { DEFAULT_POW_POLICY, type PowPolicy } from "../abuse/pow-difficulty";
import { MAX_POW_BITS } from "../abuse/pow";
import { parsePolicy, type RateLimitPolicy } from "../abuse/rate-limit";
import type { Env } from "./env";

/**
 * The abuse-resistance settings, read from Worker variables (wrangler.toml [vars]); every default is
 * what a deployment gets without setting anything. Figures and reasoning: SECURITY.md.
 */
export type LimitScope = "poll" | "join_device" | "join_client";

/**
 * Generous on purpose: they must never touch a person using the app. A waiting phone polls at most
 * every 1.6 s (poll_after_seconds ≥ 2 s, jittered ±20 %), 38 a minute; a phone joins once, a few times
 * with retries. One public IPv4 address can carry hundreds of phones (carrier-grade NAT).
 */
export const DEFAULT_RATE_LIMITS: Record<LimitScope, RateLimitPolicy> = {
  poll: { limit: 120, periodSeconds: 60 },
  join_device: { limit: 30, periodSeconds: 60 },
  join_client: { limit: 300, periodSeconds: 60 },
};

const VARIABLE: Record<LimitScope, "RATE_LIMIT_POLL" | "RATE_LIMIT_JOIN_DEVICE" | "RATE_LIMIT_JOIN_CLIENT"> = {
  poll: "RATE_LIMIT_POLL",
  join_device: "RATE_LIMIT_JOIN_DEVICE",
  join_client: "RATE_LIMIT_JOIN_CLIENT",
};

/** The policy for a scope, or null when the variable says "off". */
export function rateLimitPolicy(env: Env, scope: LimitScope): RateLimitPolicy | null {
  return parsePolicy(env[VARIABLE[scope]], DEFAULT_RATE_LIMITS[scope]);
}

function bits(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value.trim() !== "" && Number.isInteger(n) && n >= 0 && n <= MAX_POW_BITS ? n : fallback;
}

export function powPolicy(env: Env): PowPolicy {
  const busy = Number(env.POW_BUSY_ARRIVALS_PER_SECOND);
  return {
    floorBits: bits(env.POW_FLOOR_BITS, DEFAULT_POW_POLICY.floorBits),
    ceilingBits: bits(env.POW_CEILING_BITS, DEFAULT_POW_POLICY.ceilingBits),
    busyArrivalsPerSecond: Number.isFinite(busy) && busy > 0 ? busy : DEFAULT_POW_POLICY.busyArrivalsPerSecond,
    busyBits: DEFAULT_POW_POLICY.busyBits,
  };
}
