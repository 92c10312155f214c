/**
 * What a waiting person is told: how long, and when to ask again.
 *
 * The wait is the position (the people ahead plus one's own turn) divided by the admission rate the room actually achieved while it was
 * queueing (or, with no such history yet, the configured rate). The poll interval grows with the wait
 * (far back in line polls rarely: polling is most of launch-day traffic) and is jittered so that a
 * million phones that joined in the same second do not poll in the same second forever after.
 */
export const MIN_POLL_SECONDS = 2;
export const MAX_POLL_SECONDS = 60;

export function estimateWaitSeconds(position: number, ratePerSecond: number): number {
  if (position <= 0) return 0;
  return Math.ceil(position / Math.max(ratePerSecond, 1e-6));
}

/** `random01` is a uniform draw in [0, 1), injected so tests and the simulator are deterministic. */
export function pollAfterSeconds(estimatedWaitSeconds: number, random01: number): number {
  const base = Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, estimatedWaitSeconds / 8));
  const jittered = base * (0.8 + 0.4 * random01);
  return Math.min(MAX_POLL_SECONDS, Math.max(MIN_POLL_SECONDS, Math.round(jittered)));
}
