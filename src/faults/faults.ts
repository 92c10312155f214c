import { isDevelopment, type Env } from "../config/env";
import { mulberry32, type Random } from "../lib/seeded-random";
import { FAULT_POINTS, setFaultInjector, type FaultInjector, type FaultPoint } from "./points";

/**
 * Fault injection for development and tests: a few named points where a failure can be switched on.
 *
 * Why a switch inside the code rather than mocks: the faults that matter cross real boundaries (a
 * Durable Object RPC that rejects, an alarm that throws half-way through a tick, a D1 read that hangs),
 * so they must happen inside the real objects, in the real runtime, under `npm start` as much as under
 * vitest. Why these points and no others: each is a call that can fail in production for reasons
 * outside our code (an object reset or overloaded, a storage error, a slow backend), and after each the
 * service must answer a retryable 503 and keep its books consistent. The list is closed (FAULT_POINTS),
 * so a typo cannot arm a point that nothing checks.
 *
 * Cost in production: none. The points call the hook in src/faults/points.ts, which this module installs
 * only while a plan is armed; this module itself is reached only from the development entry
 * (src/dev/index.ts) and the tests, so a production bundle does not contain it, and even in a
 * development build `armFaults` refuses unless ENVIRONMENT=development.
 *
 * Reach: one isolate. Under vitest-pool-workers and `wrangler dev` the Worker and all its Durable
 * Objects run in one isolate, so one arm call (a test, or PUT /v1/dev/faults) reaches every point.
 */
export { FAULT_POINTS, type FaultPoint };

export interface FaultRule {
  /** "throw": the call fails with InjectedFault. "delay": it first waits `delayMs` (a hang, for timeouts). */
  readonly mode: "throw" | "delay";
  readonly delayMs?: number;
  /** Fire this many times, then stand down (default: until disarmed). */
  readonly times?: number;
  /** Chance that one pass fires, in [0, 1] (default 1), from the seeded generator: runs are reproducible. */
  readonly probability?: number;
}

export type FaultPlan = Partial<Record<FaultPoint, FaultRule>>;

/** What an injected failure throws; its message names the point, so logs say what was injected. */
export class InjectedFault extends Error {
  override readonly name = "InjectedFault";
  constructor(readonly point: FaultPoint) {
    super(`injected fault at ${point}`);
  }
}

interface Armed {
  rule: FaultRule;
  left: number | null;
}

const armed = new Map<FaultPoint, Armed>();
const fired = new Map<FaultPoint, number>();
let random: Random = mulberry32(1);

export function isFaultPoint(name: string): name is FaultPoint {
  return (FAULT_POINTS as readonly string[]).includes(name);
}

/** Arm `plan` (replacing what was armed). Refused outside development: production cannot be faulted. */
export function armFaults(env: Env, plan: FaultPlan, seed = 1): void {
  if (!isDevelopment(env)) throw new Error("fault injection exists only in development");
  armed.clear();
  for (const [point, rule] of Object.entries(plan) as [FaultPoint, FaultRule][]) {
    if (!isFaultPoint(point)) throw new Error(`unknown fault point ${point}`);
    armed.set(point, { rule, left: rule.times ?? null });
  }
  random = mulberry32(seed);
  setFaultInjector(armed.size > 0 ? injector : null);
}

export function disarmFaults(): void {
  armed.clear();
  setFaultInjector(null);
}

/** Armed rules and how often each point fired since the last reset. */
export function faultReport(): {
  armed: Partial<Record<FaultPoint, FaultRule & { left: number | null }>>;
  fired: Partial<Record<FaultPoint, number>>;
} {
  return {
    armed: Object.fromEntries([...armed].map(([p, a]) => [p, { ...a.rule, left: a.left }])),
    fired: Object.fromEntries(fired),
  };
}

export function resetFaultCounts(): void {
  fired.clear();
}

/** The rule that fires at `point` on this pass, or null; counts the firing and spends `times`. */
function draw(point: FaultPoint): FaultRule | null {
  const a = armed.get(point);
  if (!a) return null;
  if (a.rule.probability !== undefined && random() >= a.rule.probability) return null;
  fired.set(point, (fired.get(point) ?? 0) + 1);
  if (a.left !== null && --a.left <= 0) {
    armed.delete(point);
    if (armed.size === 0) setFaultInjector(null);
  }
  return a.rule;
}

/** Fail or stall at `point` if it is armed. */
async function injectFault(point: FaultPoint): Promise<void> {
  const rule = draw(point);
  if (!rule) return;
  if (rule.mode === "throw") throw new InjectedFault(point);
  await new Promise((resolve) => setTimeout(resolve, rule.delayMs ?? 0));
}

/**
 * The synchronous form, for points inside a synchronous storage transaction, where nothing can wait:
 * only "throw" rules apply there (a "delay" rule at such a point passes, uncounted).
 */
function injectFaultSync(point: FaultPoint): void {
  if (armed.get(point)?.rule.mode !== "throw") return;
  if (draw(point)) throw new InjectedFault(point);
}

/** What the points in production code call while a plan is armed. */
const injector: FaultInjector = { inject: injectFault, injectSync: injectFaultSync };
