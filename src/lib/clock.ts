/**
 * The one source of "now" for the Worker and its Durable Objects.
 *
 * Everything time-dependent (arrival stamps, admission ticks, ticket expiry, snapshot freshness) reads
 * `clock.now()` instead of `Date.now()`, so tests can freeze and advance time inside workerd and the
 * launch-day simulator can drive the same pure modules with a virtual clock.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

let current: Clock = systemClock;

export const clock: Clock = { now: () => current.now() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  constructor(private ms: number) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * Swap the process-wide clock. Only tests call this: the Worker, its Durable Objects and the tests share
 * one isolate under @cloudflare/vitest-pool-workers, so one swap moves time for all of them.
 */
export function useClock(next: Clock): void {
  current = next;
}
