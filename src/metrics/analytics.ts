import { logger } from "../log/logger";

/**
 * Workers Analytics Engine, optional: with an `ANALYTICS` binding (wrangler.toml
 * `[[analytics_engine_datasets]]`), admissions and issuance outcomes become data points an operator
 * can query with SQL across every isolate and data centre; without one, every call here is a no-op.
 *
 * Data point layout (fixed, so queries can rely on it; no personal data, ever):
 *   index1  = room                      (the sampling key)
 *   blob1   = event: "admission" | "issuance"
 *   blob2   = room
 *   blob3   = outcome: admitted | token_issued | issued | denied | deferred | register_busy | register_error …
 *   blob4   = detail: the credential configuration id for issuance, "" otherwise
 *   double1 = count (people admitted in the tick, credentials issued, or 1)
 *   double2 = latency in ms (issuance handler time; the tick's duration for admissions), 0 if unknown
 *   double3 = people waiting after the tick (admissions), 0 otherwise
 */
export interface AnalyticsSink {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

/** Anything with an optional ANALYTICS binding: the Worker's Env, or a test's fake. */
export interface WithAnalytics {
  ANALYTICS?: AnalyticsSink;
}

export type IssuanceOutcome = "token_issued" | "issued" | "denied" | "deferred" | "register_busy" | "register_error";

function write(
  env: WithAnalytics,
  point: { room: string; event: string; outcome: string; detail?: string; count: number; latencyMs?: number; waiting?: number },
): void {
  const dataset = env.ANALYTICS;
  if (!dataset) return;
  try {
    dataset.writeDataPoint({
      indexes: [point.room],
      blobs: [point.event, point.room, point.outcome, point.detail ?? ""],
      doubles: [point.count, point.latencyMs ?? 0, point.waiting ?? 0],
    });
  } catch (err) {
    // Analytics must never fail the request or the tick it describes.
    logger.warn("analytics_write_failed", { room: point.room, error: err instanceof Error ? err.message : String(err) });
  }
}

/** One admission tick's outcome (called by the room coordinator). */
export function recordAdmissions(
  env: WithAnalytics,
  room: string,
  admitted: number,
  options: { waiting?: number; tickMs?: number } = {},
): void {
  write(env, { room, event: "admission", outcome: "admitted", count: admitted, latencyMs: options.tickMs, waiting: options.waiting });
}

/** One issuance step's outcome: a token granted, credentials issued or denied, the register refusing. */
export function recordIssuance(
  env: WithAnalytics,
  outcome: IssuanceOutcome,
  options: { room?: string; configuration?: string; count?: number; latencyMs?: number } = {},
): void {
  write(env, {
    room: options.room ?? "",
    event: "issuance",
    outcome,
    detail: options.configuration,
    count: options.count ?? 1,
    latencyMs: options.latencyMs,
  });
}
