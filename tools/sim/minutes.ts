import { admittedLastMinute } from "../../src/admission/admission-log";
import type { SimTick } from "./coordinator";
import type { Population } from "./population";

/**
 * Per calendar minute of the run: what the admission-rate report and the charts are made of. The
 * limit is checked on calendar minutes (what an operator graphs); the budget's own guarantee is the
 * stricter sliding window, reported separately.
 */
export interface MinuteStats {
  readonly minute: number;
  joins: number;
  admitted: number;
  ticks: number;
  /** Ticks that left eligible people waiting (the queue, not the arrivals, limited admissions). */
  saturatedTicks: number;
  /** Saturated ticks whose allowance was set by total_active_users rather than the rate. */
  activeBoundTicks: number;
  /** People joined and not yet admitted, at the minute's last tick. */
  waiting: number;
  /** Of them, people who had already given up (still holding their place): filled in after the run. */
  waitingGone: number;
  activeMax: number;
  openSessionsMax: number;
  /** The admission rate the snapshot quoted waits from, at the minute's last tick (per second). */
  quotedRate: number;
}

export class MinuteBook {
  readonly minutes: MinuteStats[] = [];
  /** Largest admissions in any 60 s sliding window ending at a tick (the budget's guarantee). */
  worstSlidingWindow = 0;

  constructor(private readonly start: number) {}

  private at(ms: number): MinuteStats {
    const minute = Math.floor((ms - this.start) / 60_000);
    while (this.minutes.length <= minute) {
      this.minutes.push({
        minute: this.minutes.length,
        joins: 0,
        admitted: 0,
        ticks: 0,
        saturatedTicks: 0,
        activeBoundTicks: 0,
        waiting: 0,
        waitingGone: 0,
        activeMax: 0,
        openSessionsMax: 0,
        quotedRate: 0,
      });
    }
    return this.minutes[minute]!;
  }

  onJoin(ms: number): void {
    this.at(ms).joins++;
  }

  onTick(tick: SimTick, state: { waiting: number; openSessions: number; quotedRate: number }): void {
    const { input, plan, outcome } = tick;
    const m = this.at(input.now);
    m.ticks++;
    m.admitted += outcome.admitted.length;
    if (outcome.record.saturated) {
      m.saturatedTicks++;
      const config = input.config;
      const activeLeft = config.total_active_users - input.active;
      const tokens = Math.floor(plan.budget.tokens + 1e-9);
      if (activeLeft <= tokens && activeLeft <= config.new_users_per_minute - admittedLastMinute(input.log, input.now))
        m.activeBoundTicks++;
    }
    m.waiting = state.waiting;
    m.activeMax = Math.max(m.activeMax, input.active + outcome.admitted.length);
    m.openSessionsMax = Math.max(m.openSessionsMax, state.openSessions);
    m.quotedRate = state.quotedRate;
    // The tick's own count plus the log's last minute before it: the window the budget enforces.
    this.worstSlidingWindow = Math.max(this.worstSlidingWindow, admittedLastMinute(input.log, input.now) + outcome.admitted.length);
  }
}

/**
 * Per minute, how many of the people waiting at its end had already given up (they still hold their
 * place until admitted): intervals [give-up, admission) counted at minute ends by a difference array.
 */
export function countGoneWaiting(minutes: MinuteStats[], pop: Population, admittedAt: Float64Array): void {
  const delta = new Int32Array(minutes.length + 1);
  // The first minute whose end (m + 1) · 60 s is at or after `ms`.
  const minuteEndingAfter = (ms: number) => Math.min(minutes.length, Math.max(0, Math.ceil(ms / 60_000) - 1));
  for (let p = 0; p < pop.size; p++) {
    const from = Math.max(pop.receipt[p]!, pop.tap[p]! + pop.patience[p]!);
    const until = Number.isNaN(admittedAt[p]!) ? Number.POSITIVE_INFINITY : admittedAt[p]!;
    if (!(from < until)) continue;
    delta[minuteEndingAfter(from)]!++;
    if (Number.isFinite(until)) delta[minuteEndingAfter(until)]!--;
  }
  let running = 0;
  for (let m = 0; m < minutes.length; m++) minutes[m]!.waitingGone = running += delta[m]!;
}
