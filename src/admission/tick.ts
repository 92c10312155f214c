import type { RoomConfig } from "../config/room-config";
import { clampEligible } from "./event";
import { admittedLastMinute, type TickRecord } from "./admission-log";
import { computeBudget, spend, type BudgetState } from "./budget";
import { advanceFrontier, exactFront, type ExactFront } from "./frontier";
import type { OrderKey } from "./order-key";

/**
 * One admission tick, as a pure function of what the coordinator knows and what the shards reported.
 *
 * `eligibleBefore` closes a race between shards: a shard answers the sync at its own moment and goes
 * on stamping arrivals, so a key from a shard that answered late could be later than a key another
 * shard stamps just after answering. Admitting only keys stamped at least `SETTLE_MS` before the tick
 * began guarantees every shard has already stored everything the frontier passes over (clocks on
 * Cloudflare agree far better than that). In `random` rooms only whole lottery windows that closed at
 * least `SETTLE_MS` ago are eligible: a draw may land anywhere in its window, so a window is admitted
 * only when no shard can still be stamping into it. The same holds for an event's pre-queue, one long
 * lottery window: its entrants become eligible when event_start is `SETTLE_MS` old.
 */
export const SETTLE_MS = 500;

/** Each shard reports at least this many keys per sync, so the front of the line is known exactly. */
export const FRONT_PAGE = 32;
/** At most this many exact front keys travel in a snapshot. */
export const FRONT_MAX = 256;

export function eligibleBefore(config: RoomConfig, tickStart: number): number {
  const settled = tickStart - SETTLE_MS;
  if (config.queueing_method !== "random") return clampEligible(config, settled, settled);
  const windowMs = config.random_window_seconds * 1000;
  return clampEligible(config, settled, Math.floor(settled / windowMs) * windowMs);
}

export interface TickInput {
  readonly config: RoomConfig;
  readonly now: number;
  readonly frontier: OrderKey;
  readonly budget: BudgetState;
  readonly log: readonly TickRecord[];
  /** Active users now (sessions.ts: unredeemed admissions inside their TTL plus open sessions). */
  readonly active: number;
}

export interface TickPlan {
  /** People to admit at most this tick. */
  readonly allowance: number;
  /** Keys to ask each shard for: enough to admit, to tell saturation, and to know the front exactly. */
  readonly pageSize: number;
  readonly eligibleBefore: number;
  readonly budget: BudgetState;
}

export function planTick({ config, now, budget, log, active }: TickInput): TickPlan {
  const computed = computeBudget({
    config,
    state: budget,
    now,
    admittedLastMinute: admittedLastMinute(log, now),
    active,
  });
  return {
    allowance: computed.allowance,
    pageSize: Math.max(computed.allowance + 1, FRONT_PAGE),
    eligibleBefore: eligibleBefore(config, now),
    budget: computed.state,
  };
}

export interface TickOutcome {
  readonly admitted: OrderKey[];
  readonly front: ExactFront;
  readonly record: TickRecord;
  readonly budget: BudgetState;
}

/** Given each shard's sorted heads (keys after the frontier), decide who crosses. */
export function runTick(input: TickInput, plan: TickPlan, heads: readonly (readonly OrderKey[])[]): TickOutcome {
  const move = advanceFrontier(input.frontier, heads, plan.allowance, plan.eligibleBefore);
  const previous = input.log[input.log.length - 1];
  // A tick after a long gap (start-up, a stalled alarm) says nothing about a second's throughput.
  const span = previous ? Math.min(5_000, Math.max(1, input.now - previous.at)) : 1_000;
  // A paused tick admits nobody by the operator's choice, not for lack of capacity: it must not drag
  // the achieved rate (and so every wait estimate) towards zero for a minute after resuming.
  const saturated = move.saturated && !input.config.paused;
  return {
    admitted: move.admitted,
    front: exactFront(move.frontier, heads, plan.pageSize, plan.eligibleBefore, FRONT_MAX),
    record: { at: input.now, span, admitted: move.admitted.length, frontier: move.frontier, saturated },
    budget: spend(plan.budget, move.admitted.length),
  };
}
