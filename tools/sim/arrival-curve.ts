import type { ArrivalCurve } from "./config";

/**
 * The announcement spike. Relative arrival rate (1 at the peak) `minutes` after the announcement: a
 * linear ramp to the peak, then exponential decay towards a floor (the people who hear later).
 */
export function relativeRate(curve: ArrivalCurve, minutes: number): number {
  if (minutes < 0) return 0;
  if (minutes < curve.rampMinutes) return minutes / curve.rampMinutes;
  return curve.floor + (1 - curve.floor) * Math.exp(-(minutes - curve.rampMinutes) / curve.decayMinutes);
}

/**
 * Whole arrivals per second for `seconds` seconds, following the curve and summing to `total` exactly:
 * the cumulative share is rounded, not each second, so rounding never drifts.
 */
export function arrivalsPerSecond(curve: ArrivalCurve, total: number, seconds: number): Int32Array {
  const weights = new Float64Array(seconds);
  let sum = 0;
  for (let s = 0; s < seconds; s++) sum += weights[s] = relativeRate(curve, (s + 0.5) / 60);
  const counts = new Int32Array(seconds);
  let cumulative = 0;
  let given = 0;
  for (let s = 0; s < seconds; s++) {
    cumulative += weights[s]!;
    const upTo = Math.round((total * cumulative) / sum);
    counts[s] = upTo - given;
    given = upTo;
  }
  return counts;
}
