import type { RoomConfig } from "../config/room-config";

/**
 * How many people one admission tick may let through.
 *
 * Two limits on the rate, one on concurrency:
 * - a token bucket filled at `new_users_per_minute / 60` per second and capped just under the worth of
 *   the time since the last tick (at least 1 s, at most MAX_CATCH_UP_MS) plus one, so admissions are
 *   spread over the minute (after a lull a tick admits one second's worth, not a burst), a late tick
 *   admits what its longer period earned (a cap of one second's worth ran the room ≈ 2 % under its
 *   rate when alarms fire a little late), and the fraction a tick cannot use carries over instead of
 *   being lost (a cap of exactly one second's worth turned 100/min into 60/min);
 * - a hard sliding-window check: admissions in the last 60 s never exceed `new_users_per_minute`;
 * - `total_active_users` minus those currently active.
 * Pure: the coordinator, the tests and the launch-day simulator all call it with their own clock.
 */
export interface BudgetState {
  /** Fractional admissions saved up, at most just under one tick period's worth plus one. */
  readonly tokens: number;
  /** When tokens were last topped up; null before the first tick. */
  readonly lastRefillAt: number | null;
}

export const EMPTY_BUDGET: BudgetState = { tokens: 0, lastRefillAt: null };

/** `passthrough` rooms have no rate limit, but one tick still moves a bounded number of people. */
export const MAX_ADMISSIONS_PER_TICK = 5_000;

/** A tick after a longer gap (a stalled alarm, a restart) catches up at most this much time. */
export const MAX_CATCH_UP_MS = 5_000;

export interface BudgetInput {
  readonly config: RoomConfig;
  readonly state: BudgetState;
  readonly now: number;
  readonly admittedLastMinute: number;
  readonly active: number;
}

export interface Budget {
  /** People this tick may admit. */
  readonly allowance: number;
  /** Bucket after the top-up; call `spend` with how many were actually admitted. */
  readonly state: BudgetState;
}

export function computeBudget({ config, state, now, admittedLastMinute, active }: BudgetInput): Budget {
  if (config.paused) {
    // Nothing accrues while paused: resuming must not release a saved-up burst.
    return { allowance: 0, state: { tokens: 0, lastRefillAt: now } };
  }
  if (config.queueing_method === "passthrough") {
    return { allowance: MAX_ADMISSIONS_PER_TICK, state: { tokens: 0, lastRefillAt: now } };
  }
  const perMs = config.new_users_per_minute / 60_000;
  const elapsed = state.lastRefillAt === null ? 1_000 : Math.max(0, now - state.lastRefillAt);
  const cap = Math.max(1, perMs * Math.min(MAX_CATCH_UP_MS, Math.max(1_000, elapsed))) + 1 - 1e-6;
  const tokens = Math.min(cap, state.tokens + elapsed * perMs);
  const allowance = Math.max(
    0,
    Math.min(
      // The epsilon absorbs float error: six top-ups of 1/6 must make one admission, not 0.9999….
      Math.floor(tokens + 1e-9),
      config.new_users_per_minute - admittedLastMinute,
      config.total_active_users - active,
      MAX_ADMISSIONS_PER_TICK,
    ),
  );
  return { allowance, state: { tokens, lastRefillAt: now } };
}

export function spend(state: BudgetState, admitted: number): BudgetState {
  return { tokens: Math.max(0, state.tokens - admitted), lastRefillAt: state.lastRefillAt };
}
