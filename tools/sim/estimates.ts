import type { Estimates, RunOutput } from "./run";
import { quantile, round, sorted, summary } from "./stats";

/**
 * How good the wait estimates were: each estimate a tracked person was told, against the time that
 * person then actually waited until the tick that admitted them.
 */
export interface ErrorStats {
  readonly n: number;
  /** |estimate − actual| / actual, actual = seconds until the admitting tick (at least 1). */
  readonly median: number;
  readonly p90: number;
  /** (estimate − actual) / actual: positive means people were told longer than it took. */
  readonly medianSigned: number;
}

/** Bins of the wait chart: tracked people grouped by when they joined. */
const WAIT_BIN_MINUTES = 5;

export interface WaitBins {
  readonly binMinutes: number;
  readonly joinMinute: number[];
  readonly actualMedianMinutes: number[];
  readonly actualP90Minutes: number[];
  readonly firstEstimateMedianMinutes: number[];
}

/** Relative error of each estimate against the time its holder actually waited from then on. */
export function errorStats(e: Estimates, admittedAt: Float64Array, minActualSeconds: number): ErrorStats {
  const abs: number[] = [];
  const signed: number[] = [];
  for (let i = 0; i < e.person.length; i++) {
    const at = admittedAt[e.person.at(i)]!;
    if (Number.isNaN(at)) continue;
    const actual = Math.max(1, (at - e.at.at(i)) / 1000);
    if (actual < minActualSeconds) continue;
    const err = (e.seconds.at(i) - actual) / actual;
    abs.push(Math.abs(err));
    signed.push(err);
  }
  const a = summary(abs);
  return { n: a.n, median: round(a.median, 4), p90: round(a.p90, 4), medianSigned: round(quantile(sorted(signed), 0.5), 4) };
}

/** The wait chart's data: per join bin, the wait experienced and the first estimate told. */
export function waitBins(out: RunOutput): WaitBins {
  const actual = new Map<number, number[]>();
  const told = new Map<number, number[]>();
  const e = out.firstEstimates;
  for (let i = 0; i < e.person.length; i++) {
    const p = e.person.at(i);
    const at = out.admittedAt[p]!;
    if (Number.isNaN(at)) continue;
    const bin = Math.floor(e.at.at(i) / 60_000 / WAIT_BIN_MINUTES) * WAIT_BIN_MINUTES;
    if (!actual.has(bin)) {
      actual.set(bin, []);
      told.set(bin, []);
    }
    actual.get(bin)!.push((at - e.at.at(i)) / 60_000);
    told.get(bin)!.push(e.seconds.at(i) / 60);
  }
  const bins = [...actual.keys()].sort((x, y) => x - y);
  return {
    binMinutes: WAIT_BIN_MINUTES,
    joinMinute: bins,
    actualMedianMinutes: bins.map((b) => round(quantile(sorted(actual.get(b)!), 0.5), 2)),
    actualP90Minutes: bins.map((b) => round(quantile(sorted(actual.get(b)!), 0.9), 2)),
    firstEstimateMedianMinutes: bins.map((b) => round(quantile(sorted(told.get(b)!), 0.5), 2)),
  };
}
