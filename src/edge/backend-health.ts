import type { Context } from "hono";
import type { AppEnv } from "../http/app-env";
import { coordinatorOf } from "./objects";
import { clock } from "../lib/clock";
import { logger } from "../log/logger";
import { RegisterBusyError, RegisterUnavailableError } from "../register/register";

/**
 * The edge's view of the protected backend, for adaptive outflow (src/admission/outflow.ts): every
 * register read made during issuance is timed and classed (refused or failed = error), summed per room
 * in this isolate, and reported to the room's coordinator at most once per REPORT_EVERY_MS, off the
 * response path (waitUntil). One RPC per isolate per second, however many credentials it issues.
 *
 * Latency is wall time (Date.now), not the injectable clock: it measures real waiting on I/O.
 */
export const REPORT_EVERY_MS = 1_000;

interface Pending {
  reads: number;
  errors: number;
  latencySumMs: number;
  lastReportAt: number;
}

const pending = new Map<string, Pending>();

export async function observeBackend<T>(c: Context<AppEnv>, room: string, read: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let failed = false;
  try {
    return await read();
  } catch (err) {
    failed = err instanceof RegisterBusyError || err instanceof RegisterUnavailableError;
    throw err;
  } finally {
    record(c, room, Date.now() - started, failed);
  }
}

function record(c: Context<AppEnv>, room: string, latencyMs: number, failed: boolean): void {
  const p = pending.get(room) ?? { reads: 0, errors: 0, latencySumMs: 0, lastReportAt: Number.NEGATIVE_INFINITY };
  p.reads++;
  if (failed) p.errors++;
  p.latencySumMs += latencyMs;
  pending.set(room, p);
  const now = clock.now();
  if (now - p.lastReportAt < REPORT_EVERY_MS) return;
  const sample = { reads: p.reads, errors: p.errors, latencySumMs: p.latencySumMs };
  pending.set(room, { reads: 0, errors: 0, latencySumMs: 0, lastReportAt: now });
  const report = coordinatorOf(c.env, room)
    .reportHealth(sample)
    .then(
      () => undefined,
      // Health reports are advisory: a lost one only delays the controller, never the user.
      (err: unknown) => logger.warn("health_report_failed", { room, error: err instanceof Error ? err.message : String(err) }),
    );
  try {
    c.executionCtx.waitUntil(report);
  } catch {
    // No execution context (app.request() in some tests): the promise still runs.
  }
}
