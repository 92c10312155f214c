import type { QueueingMethod, RoomConfig } from "../config/room-config";

/**
 * A room's scheduled event, as time passes: which phase it is in, which settings apply, and how a
 * newcomer is stamped. Pure; every caller passes its own clock.
 *
 * Phases: `before` the pre-queue opens the room runs as configured; in `prequeue` every newcomer is an
 * entrant of the lottery drawn at event_start (nobody who joined in it is admitted before then); `live`
 * applies the event's method and limits; `ended` (after event_end) is the room as configured again.
 */
export type EventPhase = "none" | "before" | "prequeue" | "live" | "ended";

export interface EventWindow {
  /** prequeue_start, epoch ms. */
  readonly prequeueStart: number;
  /** event_start, epoch ms: the lottery is drawn here. */
  readonly eventStart: number;
  readonly eventEnd: number | null;
}

export function eventWindow(config: RoomConfig): EventWindow | null {
  const e = config.event;
  if (!e) return null;
  return {
    prequeueStart: Date.parse(e.prequeue_start),
    eventStart: Date.parse(e.event_start),
    eventEnd: e.event_end ? Date.parse(e.event_end) : null,
  };
}

export function eventPhase(config: RoomConfig, now: number): EventPhase {
  const w = eventWindow(config);
  if (!w) return "none";
  if (now < w.prequeueStart) return "before";
  if (now < w.eventStart) return "prequeue";
  if (w.eventEnd === null || now < w.eventEnd) return "live";
  return "ended";
}

/**
 * The settings in force at `now`: the event's method and limits while it is live, and the adaptive
 * admission rate (`outflowRate`, per minute) when the room's outflow is adaptive. The result keeps
 * `event` and `outflow` so it can be passed on and re-derived.
 */
export function effectiveConfig(config: RoomConfig, now: number, outflowRate: number | null = null): RoomConfig {
  let out = config;
  const e = config.event;
  if (e && eventPhase(config, now) === "live") {
    out = {
      ...out,
      queueing_method: e.queueing_method ?? out.queueing_method,
      new_users_per_minute: e.new_users_per_minute ?? out.new_users_per_minute,
      total_active_users: e.total_active_users ?? out.total_active_users,
    };
  }
  if (config.outflow.mode === "adaptive" && outflowRate !== null) out = { ...out, new_users_per_minute: outflowRate };
  return out;
}

/**
 * When a join made at `now` is turned away because the event's pre-queue has not opened: its opening
 * (epoch ms), or null when joins are taken. Between scheduling and prequeue_start no newcomer may take a
 * place: a FIFO place then would stand ahead of every lottery entrant, so arriving early would pay,
 * which the lottery exists to prevent (docs/threats/lottery.md).
 */
export function prequeueNotOpenUntil(config: RoomConfig, now: number): number | null {
  return eventPhase(config, now) === "before" ? eventWindow(config)!.prequeueStart : null;
}

/**
 * How a newcomer's order stamp is made (the queue shard applies it):
 * - `fifo`: arrival time;
 * - `lottery`: a point drawn inside [from, to) from a keyed draw of the person (random rooms: one
 *   window at a time, clipped so no window straddles the pre-queue's edges);
 * - `prequeue`: a point inside [from, to) = [prequeue_start, event_start) drawn by the shard from the
 *   event's lottery seed and the ticket id (lottery.ts), recomputable by anyone once the seed is out.
 */
export type StampPlan =
  | { readonly kind: "fifo" }
  | { readonly kind: "lottery"; readonly from: number; readonly to: number }
  | { readonly kind: "prequeue"; readonly from: number; readonly to: number };

export function stampPlan(config: RoomConfig, now: number): StampPlan {
  const phase = eventPhase(config, now);
  const w = eventWindow(config);
  if (phase === "prequeue" && w) return { kind: "prequeue", from: w.prequeueStart, to: w.eventStart };
  const method: QueueingMethod = effectiveConfig(config, now).queueing_method;
  if (method !== "random") return { kind: "fifo" };
  const windowMs = config.random_window_seconds * 1000;
  let from = Math.floor(now / windowMs) * windowMs;
  let to = from + windowMs;
  if (w && phase === "before") to = Math.min(to, w.prequeueStart);
  if (w && now >= w.eventStart) from = Math.max(from, w.eventStart);
  if (w && w.eventEnd !== null && now < w.eventEnd) to = Math.min(to, w.eventEnd);
  if (w && w.eventEnd !== null && now >= w.eventEnd) from = Math.max(from, w.eventEnd);
  return { kind: "lottery", from, to };
}

/**
 * The latest order stamp a tick starting its eligibility at `settled` may admit, given the event: the
 * pre-queue's entrants (stamped inside [prequeue_start, event_start)) wait until the draw.
 */
export function clampEligible(config: RoomConfig, settled: number, eligible: number): number {
  const w = eventWindow(config);
  if (!w || settled >= w.eventStart) return eligible;
  return Math.min(eligible, w.prequeueStart);
}
