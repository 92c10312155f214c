import { compareKeys, type OrderKey } from "./order-key";

/**
 * The coordinator's record of recent ticks: what each admitted, where the frontier stood after it, and
 * whether it was limited by the budget (people were left waiting). From this alone come, by arithmetic
 * and without any per-person write:
 * - how many were admitted in the last minute (the rate cap),
 * - how many admissions are still inside their TTL (the active cap; abandoned ones fall out on time),
 * - when a given ticket was admitted (first tick whose frontier passed its key),
 * - the admission rate actually achieved while people were queueing (the wait estimate).
 */
export interface TickRecord {
  /** Tick time (ms). */
  readonly at: number;
  /** Length of the interval this tick covered (ms), for rate estimation. */
  readonly span: number;
  readonly admitted: number;
  /** Frontier after this tick. */
  readonly frontier: OrderKey;
  /** True when people eligible for admission were still waiting after this tick. */
  readonly saturated: boolean;
}

const MINUTE_MS = 60_000;

export function admittedSince(log: readonly TickRecord[], since: number): number {
  let n = 0;
  for (let i = log.length - 1; i >= 0; i--) {
    const t = log[i]!;
    if (t.at <= since) break;
    n += t.admitted;
  }
  return n;
}

export function admittedLastMinute(log: readonly TickRecord[], now: number): number {
  return admittedSince(log, now - MINUTE_MS);
}

/** Admissions whose TTL has not yet run out. */
export function activeAdmissions(log: readonly TickRecord[], now: number, ttlMs: number): number {
  return admittedSince(log, now - ttlMs);
}

/** Admissions and covered time (ms) of the last minute's saturated ticks: what the rate is measured on. */
function saturatedWindow(log: readonly TickRecord[], now: number): { admitted: number; spanMs: number } {
  let admitted = 0;
  let spanMs = 0;
  for (let i = log.length - 1; i >= 0; i--) {
    const t = log[i]!;
    if (t.at <= now - MINUTE_MS) break;
    if (!t.saturated) continue;
    admitted += t.admitted;
    spanMs += t.span;
  }
  return { admitted, spanMs };
}

/**
 * Admissions per second achieved over the last minute's saturated ticks, or null if the queue was never
 * saturated then (in which case the achieved rate says nothing about how fast a queue would drain).
 */
export function observedRatePerSecond(log: readonly TickRecord[], now: number): number | null {
  const { admitted, spanMs } = saturatedWindow(log, now);
  return spanMs > 0 ? (admitted * 1000) / spanMs : null;
}

/** Seconds of the configured rate blended into the estimate, so a short or empty history stays sane. */
export const PRIOR_SECONDS = 5;

/**
 * The admission rate to quote waits from: what the room achieved over the last minute of saturated
 * ticks, blended with `PRIOR_SECONDS` worth of the configured rate. With a minute of history the prior
 * weighs 5/65; with none (a fresh or idle room) the configured rate is all there is.
 */
export function estimationRatePerSecond(log: readonly TickRecord[], now: number, configuredPerSecond: number): number {
  const { admitted, spanMs } = saturatedWindow(log, now);
  return (admitted + configuredPerSecond * PRIOR_SECONDS) / (spanMs / 1000 + PRIOR_SECONDS);
}

/**
 * Drop records no query can need any more. `baseline` is the frontier as it stood before the oldest
 * record kept: anyone at or behind it was admitted longer ago than any TTL the log covers.
 */
export function pruneLog(
  log: readonly TickRecord[],
  baseline: OrderKey,
  now: number,
  keepMs: number,
): { log: TickRecord[]; baseline: OrderKey } {
  const horizon = now - Math.max(keepMs, MINUTE_MS);
  let i = 0;
  let next = baseline;
  while (i < log.length && log[i]!.at <= horizon) next = log[i++]!.frontier;
  return { log: i === 0 ? [...log] : log.slice(i), baseline: next };
}

/** Frontier moves only: one entry per tick that admitted someone, as the edge needs them. */
export interface FrontierStep {
  readonly at: number;
  readonly frontier: OrderKey;
}

export function frontierSteps(log: readonly TickRecord[]): FrontierStep[] {
  return log.filter((t) => t.admitted > 0).map((t) => ({ at: t.at, frontier: t.frontier }));
}

/**
 * When was `key` admitted? Steps are in time order and frontiers only move forward, so this is a binary
 * search for the first step whose frontier reached the key. null when the key is at or behind `baseline`
 * (admitted before the oldest step kept: its TTL is long over) or not reached by any step.
 */
export function admittedAt(baseline: OrderKey, steps: readonly FrontierStep[], key: OrderKey): number | null {
  if (compareKeys(key, baseline) <= 0) return null;
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(steps[mid]!.frontier, key) >= 0) hi = mid;
    else lo = mid + 1;
  }
  return lo === steps.length ? null : steps[lo]!.at;
}
