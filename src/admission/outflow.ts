import type { Outflow } from "../config/room-config";

/**
 * Adaptive outflow: the admission rate follows the protected backend's health (AIMD).
 *
 * The edge measures every register read made during issuance (latency, and whether it was refused or
 * failed) and reports the sums to the room's coordinator about once a second per isolate. Each tick the
 * coordinator looks at the reports of the last WINDOW_MS and, at most once per DECIDE_EVERY_MS (the same
 * 5 s, so each decision judges only what came after the previous one):
 * - degraded (mean latency above `latency_target_ms`, or error rate above `max_error_rate`): the rate
 *   is multiplied by DECREASE (fast, so a struggling backend gets relief within seconds);
 * - healthy and people are waiting: the rate grows by INCREASE_SHARE of the ceiling (slow: from floor
 *   to ceiling takes about 20 decisions, 100 s);
 * - too few reads to judge (under MIN_READS, or what the rate brings in a window when that is less),
 *   or nobody waiting: unchanged.
 * Always within [floor, ceiling]. In `fixed` mode the rate is the operator's `new_users_per_minute`.
 * Pure: state in, state out, the clock passed in.
 */
export const WINDOW_MS = 5_000;
export const DECIDE_EVERY_MS = 5_000;
export const MIN_READS = 3;
export const DECREASE = 0.7;
export const INCREASE_SHARE = 0.05;

/** One isolate's register reads since its last report. */
export interface HealthSample {
  readonly at: number;
  readonly reads: number;
  readonly errors: number;
  readonly latencySumMs: number;
}

export interface BackendHealth {
  readonly reads: number;
  readonly errorRate: number | null;
  readonly meanLatencyMs: number | null;
}

export interface OutflowState {
  /** Admissions per minute the adaptive controller allows now. */
  readonly rate: number;
  /** When the rate was last decided on (changed or confirmed); null before the first decision. */
  readonly decidedAt: number | null;
  readonly last: "none" | "decrease" | "increase" | "hold";
}

export function initialOutflow(outflow: Outflow, configured: number): OutflowState {
  return { rate: clamp(configured, outflow), decidedAt: null, last: "none" };
}

/** Samples of the last WINDOW_MS, summed. */
export function backendHealth(samples: readonly HealthSample[], now: number): BackendHealth {
  let reads = 0;
  let errors = 0;
  let latency = 0;
  for (const s of samples) {
    if (s.at <= now - WINDOW_MS || s.at > now) continue;
    reads += s.reads;
    errors += s.errors;
    latency += s.latencySumMs;
  }
  return { reads, errorRate: reads > 0 ? errors / reads : null, meanLatencyMs: reads > 0 ? latency / reads : null };
}

export function stepOutflow(
  state: OutflowState,
  outflow: Outflow,
  health: BackendHealth,
  now: number,
  peopleWaiting: boolean,
): OutflowState {
  const rate = clamp(state.rate, outflow);
  if (state.decidedAt !== null && now - state.decidedAt < DECIDE_EVERY_MS) return rate === state.rate ? state : { ...state, rate };
  // Enough reads to judge: MIN_READS, or as many as the current rate can bring in a window (at a low
  // rate a room would otherwise never gather MIN_READS and stay stuck at the floor).
  const enough = Math.max(1, Math.min(MIN_READS, Math.floor((rate * WINDOW_MS) / 60_000)));
  if (health.reads < enough) return { rate, decidedAt: state.decidedAt, last: state.last };
  const degraded = (health.meanLatencyMs ?? 0) > outflow.latency_target_ms || (health.errorRate ?? 0) > outflow.max_error_rate;
  if (degraded) return { rate: clamp(rate * DECREASE, outflow), decidedAt: now, last: "decrease" };
  if (!peopleWaiting) return { rate, decidedAt: now, last: "hold" };
  const step = Math.max(1, Math.round(outflow.ceiling_per_minute * INCREASE_SHARE));
  return { rate: clamp(rate + step, outflow), decidedAt: now, last: "increase" };
}

function clamp(rate: number, outflow: Outflow): number {
  return Math.min(outflow.ceiling_per_minute, Math.max(outflow.floor_per_minute, Math.round(rate)));
}
