/**
 * The wait a person is shown: an honest range around the service's estimate, rounded to units a person
 * reads at a glance. The estimate is position ÷ recent admission rate; the rate drifts (the backend slows,
 * people give up ahead), so a single number would promise more than is known. The range runs from 0.75×
 * to 1.5× the estimate: asymmetric because waiting longer than told hurts more than being early.
 */
export const RANGE_LOW = 0.75;
export const RANGE_HIGH = 1.5;

export type WaitRange =
  /** No honest estimate (the room is paused). */
  | { kind: "unknown" }
  /** Under `seconds` (a whole number of minutes, at least one). */
  | { kind: "under"; seconds: number }
  /** Between `low` and `high` seconds, each a whole number of minutes. */
  | { kind: "between"; low: number; high: number };

/** Rounding step for a duration: a minute under 10 min, 5 min under an hour, then 15 min, 30 min, 1 h. */
function step(seconds: number): number {
  if (seconds < 600) return 60;
  if (seconds < 3600) return 300;
  if (seconds < 3 * 3600) return 900;
  if (seconds < 10 * 3600) return 1800;
  return 3600;
}

export function waitRange(estimatedWaitSeconds: number | null): WaitRange {
  if (estimatedWaitSeconds === null || !Number.isFinite(estimatedWaitSeconds)) return { kind: "unknown" };
  const low = Math.max(0, estimatedWaitSeconds) * RANGE_LOW;
  const high = Math.max(0, estimatedWaitSeconds) * RANGE_HIGH;
  // Rounded outwards, so the range only ever widens.
  const highRounded = Math.max(60, Math.ceil(high / step(high)) * step(high));
  const lowRounded = Math.floor(low / step(low)) * step(low);
  if (lowRounded < 60) return { kind: "under", seconds: highRounded };
  if (lowRounded >= highRounded) return { kind: "between", low: lowRounded, high: lowRounded + step(lowRounded) };
  return { kind: "between", low: lowRounded, high: highRounded };
}
