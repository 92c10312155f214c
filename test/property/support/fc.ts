import fc from "fast-check";
import { inject } from "vitest";

/**
 * One seed for every property in a run, so CI is reproducible: a fixed default, overridden by
 * `FC_SEED=<n>` (or `FC_SEED=random`) in the environment (passed into workerd by vitest.config.ts's
 * `provide`, since process.env is empty in there). `FC_RUNS=<factor>` scales every numRuns.
 *
 * On a failure fast-check's message carries the seed and the shrink path of the counterexample; rerun
 * with `FC_SEED=<that seed>` to get it again.
 */
declare module "vitest" {
  export interface ProvidedContext {
    FC_SEED: string;
    FC_RUNS: string;
  }
}

const DEFAULT_SEED = 20_261_127;

function readSeed(): number {
  const raw = inject("FC_SEED") ?? "";
  if (raw === "random") return Date.now() ^ Math.floor(Math.random() * 0x7fffffff);
  const n = Number(raw);
  return raw !== "" && Number.isInteger(n) ? n : DEFAULT_SEED;
}

function readScale(): number {
  const n = Number(inject("FC_RUNS") ?? "");
  return Number.isFinite(n) && n > 0 ? n : 1;
}

export const SEED = readSeed();
const SCALE = readScale();

/** What fc.assert gets: the run's seed, `numRuns` scaled, and shrinking kept short (requests cost I/O). */
export function params<T>(numRuns: number): fc.Parameters<T> {
  // The time limit is a safety net under vitest's 120 s test timeout on an overloaded machine: the runs
  // made until then are still checked, and the cut is said out loud.
  return {
    seed: SEED,
    numRuns: Math.max(1, Math.round(numRuns * SCALE)),
    interruptAfterTimeLimit: 90_000,
    markInterruptAsFailure: false,
    reporter(out) {
      if (out.interrupted) console.warn(`fast-check: time limit reached after ${out.numRuns} of ${numRuns} runs (seed ${out.seed})`);
      // As fast-check's own reporter: the message names the seed, the shrink path and the counterexample.
      if (out.failed) throw new Error(fc.defaultReportMessage(out) ?? "property failed", { cause: out.errorInstance });
    },
  };
}

/** Numbers of runs per endpoint, in one place so the report and the suite agree. */
export const RUNS = {
  routing: 150,
  routingProduction: 60,
  join: 100,
  poll: 120,
  adminUnauthenticated: 80,
  adminAuthenticated: 100,
  adminMetrics: 40,
  token: 100,
  nonce: 20,
  credential: 100,
  notification: 60,
  waitingPage: 60,
  dashboard: 80,
  dev: 40,
  assets: 20,
  cbor: 300,
} as const;
