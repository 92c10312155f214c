import { MAX_POW_BITS } from "./pow";

/**
 * How hard a join's proof of work is, from how busy the room is. Pure.
 *
 * Quiet rooms ask nothing (or the floor). Once arrivals reach `busyArrivalsPerSecond`, a join costs
 * `busyBits`, and one bit more (twice the work) each time the arrival rate doubles, up to the ceiling:
 * the work a bot must do grows with the flood it is part of, while a person arriving on a quiet day
 * does none. A room may ask for a minimum of its own (`pow_min_bits`, e.g. ahead of a known launch);
 * the deployment's ceiling caps everything, so no configuration can make phones grind for minutes.
 *
 *   required = min(ceiling, max(floor, room minimum, load bits))
 *   load bits = 0 below busyArrivalsPerSecond, else busyBits + floor(log2(arrivals / busyArrivalsPerSecond))
 */
export interface PowPolicy {
  readonly floorBits: number;
  readonly ceilingBits: number;
  readonly busyArrivalsPerSecond: number;
  readonly busyBits: number;
}

export const DEFAULT_POW_POLICY: PowPolicy = { floorBits: 0, ceilingBits: 16, busyArrivalsPerSecond: 20, busyBits: 10 };

export function loadBits(policy: PowPolicy, arrivalsPerSecond: number): number {
  if (!(arrivalsPerSecond >= policy.busyArrivalsPerSecond) || policy.busyArrivalsPerSecond <= 0) return 0;
  return policy.busyBits + Math.floor(Math.log2(arrivalsPerSecond / policy.busyArrivalsPerSecond));
}

export function requiredBits(policy: PowPolicy, arrivalsPerSecond: number, roomMinBits = 0): number {
  const ceiling = Math.min(MAX_POW_BITS, Math.max(0, policy.ceilingBits));
  return Math.max(0, Math.min(ceiling, Math.max(policy.floorBits, roomMinBits, loadBits(policy, arrivalsPerSecond))));
}
