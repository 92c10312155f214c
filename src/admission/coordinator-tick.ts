import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { sessionsAt, shardOf } from "../edge/objects";
import { ISSUANCE_SESSION_SHARDS } from "../issuance/sessions";
import { withDeadline } from "../lib/deadline";
import { logger } from "../log/logger";
import { recordAdmissions } from "../metrics/analytics";
import type { CoordinatorStore, RoomState } from "./coordinator-store";
import { admittedSince, type TickRecord } from "./admission-log";
import type { LotteryRecord } from "./lottery";
import { backendHealth, stepOutflow, WINDOW_MS, type OutflowState } from "./outflow";
import type { ShardEntrants, SyncReport, SyncRequest } from "./protocol";
import { applyTick } from "./room-books";
import { active, effective } from "./room-view";
import { addCounts, NO_SESSIONS, sessionExpired, type SessionCounts } from "./sessions";
import { planTick, runTick, SETTLE_MS, type TickOutcome } from "./tick";

/**
 * The coordinator's admission tick, orchestrated: reveal lotteries past their draw, step the adaptive
 * outflow, sync every shard, admit (pure logic in src/admission/tick.ts) and persist, all or nothing.
 * RoomCoordinator owns the room in memory and its alarm; this module is what one tick does to them.
 */

/**
 * The tick's collaborators: how it reaches a shard and the two steps that write its outcome. Built once
 * at the object's edge (RoomCoordinator's constructor): production passes the plain ones
 * (`plainTickPorts`); src/faults/points.ts `wrapTickPorts` puts the development fault points around
 * them there, so the tick itself calls no fault code.
 */
export interface TickPorts {
  /** One shard's answer to the tick's sync (the tick bounds it with the object-call deadline). */
  syncShard(room: string, req: SyncRequest): Promise<SyncReport>;
  /** One IssuanceSessions object's counts for the room at the tick's time (same deadline). */
  sessionCounts(room: string, req: SessionCountRequest): Promise<SessionCounts>;
  /** First write of a tick's outcome (CoordinatorStore.writeTickLog), inside the tick's transaction. */
  writeTickLog(room: RoomState, touched: Iterable<number>, record: TickRecord): void;
  /** Second write, same transaction (CoordinatorStore.writeTickBooks). */
  writeTickBooks(room: RoomState, finished: readonly string[]): void;
}

/** The ports as production runs them: the shard's RPC and the store's writes, nothing in between. */
export function plainTickPorts(env: Env, store: CoordinatorStore): TickPorts {
  return {
    syncShard: (room, req) => shardOf(env, room, req.shard).sync(req),
    sessionCounts: (room, req) => sessionsAt(env, req.object).sessionCounts(room, req.now, req.ttlMs),
    writeTickLog: (room, touched, record) => store.writeTickLog(room, touched, record),
    writeTickBooks: (room, finished) => store.writeTickBooks(room, finished),
  };
}

/** Which IssuanceSessions object to ask, and the tick's time and the room's admission TTL to count with. */
export interface SessionCountRequest {
  readonly object: number;
  readonly now: number;
  readonly ttlMs: number;
}

/** What a tick needs from the object that runs it. */
export interface TickHost {
  readonly env: Env;
  readonly store: CoordinatorStore;
  readonly ports: TickPorts;
  /** Memory diverged from storage (a failed persist): replace the room in memory with a reload. */
  reload(): void;
  /** Something the snapshot shows changed. */
  changed(): void;
}

/** The room's shards, as the coordinator calls them outside the tick's sync: with the deadline the edge gives object calls. */
export function roomShards(env: Env, room: string) {
  const timeoutMs = settingsOf(env).durableCallTimeoutMs;
  return {
    /** How many tickets each shard holds (a sync that asks for no keys and no arrivals). */
    totals(count: number): Promise<SyncReport[]> {
      const probe = (shard: number): SyncRequest => ({
        shard,
        after: { a: Number.MAX_SAFE_INTEGER, b: 0 },
        limit: 0,
        eligibleBefore: 0,
        since: Number.MAX_SAFE_INTEGER,
      });
      return Promise.all(Array.from({ length: count }, (_, i) => shardOf(env, room, i).sync(probe(i))));
    },
    entrants(count: number, from: number, to: number): Promise<ShardEntrants[]> {
      const calls = Array.from({ length: count }, (_, i) => shardOf(env, room, i).lotteryEntrants(i, from, to));
      return withDeadline(Promise.all(calls), timeoutMs, "lottery entrants");
    },
  };
}

/**
 * The room's IssuanceSessions objects, as the coordinator's statistics ask them outside the tick: every
 * object's counts for the room at `now`, summed, with the deadline the edge gives object calls.
 */
export function roomSessions(env: Env, room: string) {
  const timeoutMs = settingsOf(env).durableCallTimeoutMs;
  return {
    async counts(now: number, ttlMs: number): Promise<SessionCounts> {
      const calls = Array.from({ length: ISSUANCE_SESSION_SHARDS }, (_, i) => sessionsAt(env, i).sessionCounts(room, now, ttlMs));
      return (await withDeadline(Promise.all(calls), timeoutMs, "session counts")).reduce(addCounts, NO_SESSIONS);
    },
  };
}

/**
 * Sync every queue shard and count the sessions in every IssuanceSessions object, admit, persist.
 * All-or-nothing: if any object fails to answer, nobody is admitted this tick (the global order is
 * unknown without every shard's heads, the active count without every session object's) and nothing
 * is written.
 *
 * One fan-out, all calls at once: the queue shards' page size is planned before the session counts
 * are in, with the active cap left out (so it is never smaller than the final allowance needs); the
 * allowance is then planned with the counts. planTick is pure, so both plans top the bucket up alike.
 */
export async function tickRoom(host: TickHost, room: RoomState, now: number): Promise<void> {
  // Every lottery past its draw, not only the configured event's: re-scheduling must not hide a seed.
  for (const l of room.lotteries) if (l.revealedAt === null && now >= l.to + SETTLE_MS) await revealLottery(host, room, l, now);
  adapt(host, room, now);
  const base = { config: effective(room, now), now, frontier: room.frontier, budget: room.budget, log: room.log };
  const paging = planTick({ ...base, active: 0 });
  const timeoutMs = settingsOf(host.env).durableCallTimeoutMs;
  const ttlMs = room.config.admission_ttl_seconds * 1000;
  let reports: SyncReport[];
  let counts: SessionCounts;
  try {
    // A hung object fails the tick at the deadline instead of stalling the room.
    const syncs = Promise.all(
      room.shards.map((s, shard) => {
        const req = { shard, after: room.frontier, limit: paging.pageSize, eligibleBefore: paging.eligibleBefore, since: s.cursor };
        return withDeadline(host.ports.syncShard(room.name, req), timeoutMs, `shard ${shard} sync`);
      }),
    );
    const counted = quietSessions(room, ttlMs)
      ? Promise.resolve([NO_SESSIONS])
      : Promise.all(
          Array.from({ length: ISSUANCE_SESSION_SHARDS }, (_, object) =>
            withDeadline(host.ports.sessionCounts(room.name, { object, now, ttlMs }), timeoutMs, `session object ${object} count`),
          ),
        );
    const summed = counted.then(
      (all) => all.reduce(addCounts, NO_SESSIONS),
      (e: unknown) => Promise.reject(new SessionCountFailure(messageOf(e))),
    );
    [reports, counts] = await Promise.all([syncs, summed]);
  } catch (e) {
    room.lastTickError = e instanceof SessionCountFailure ? `session count failed: ${e.message}` : `shard sync failed: ${messageOf(e)}`;
    logger.error("tick_failed", { room: room.name, error: room.lastTickError });
    return;
  }
  room.lastTickError = null;
  room.sessionCounts = counts;
  room.sessionCountsAt = now;
  const input = { ...base, active: active(room, now) };
  const plan = { ...planTick(input), pageSize: paging.pageSize };
  const outcome = runTick(
    input,
    plan,
    reports.map((r) => r.heads),
  );
  apply(host, room, reports, outcome);
  if (outcome.admitted.length > 0) {
    let waiting = 0;
    for (const n of room.counts.values()) waiting += n;
    logger.info("tick", { room: room.name, admitted: outcome.admitted.length, waiting });
    recordAdmissions(host.env, room.name, outcome.admitted.length, { waiting });
  }
}

/**
 * Whether the session objects can be left unasked this tick: at the last count the room had no session
 * open and none inside its admission TTL, and no admission has been live since (none in the log after
 * that count's time minus the TTL). A session starts only from a live admission, so nothing can have
 * changed: the counts are still zero. An idle room then costs no session-object requests per tick.
 * (The log, pruned at the last successful tick, still holds every record after that tick's time minus
 * the TTL; a configuration change forgets when the counts were taken, so a raised TTL cannot make this
 * read short.)
 */
function quietSessions(room: RoomState, ttlMs: number): boolean {
  const c = room.sessionCounts;
  if (!c || room.sessionCountsAt === null || c.open > 0 || c.redeemed > 0) return false;
  return admittedSince(room.log, room.sessionCountsAt - ttlMs) === 0;
}

/** A session object's count failed the tick (told apart from a queue shard's sync in the tick's error). */
class SessionCountFailure extends Error {}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Publish a lottery's seed and entrants (the tick, once its event_start has passed plus the shards'
 * settle margin; or an operator). Before that the seed would let anyone predict the draw.
 */
export async function revealLottery(host: TickHost, room: RoomState, lottery: LotteryRecord, now: number): Promise<LotteryRecord> {
  const entrants = await roomShards(host.env, room.name).entrants(room.shards.length, lottery.from, lottery.to);
  const revealed: LotteryRecord = { ...lottery, revealedAt: now, entrants };
  updateLottery(host.store, room, revealed);
  host.changed();
  logger.info("lottery_revealed", { room: room.name, count: entrants.reduce((n, e) => n + e.count, 0) });
  return revealed;
}

export function updateLottery(store: CoordinatorStore, room: RoomState, lottery: LotteryRecord): void {
  store.updateLottery(lottery);
  room.lotteries = room.lotteries.map((l) => (l.id === lottery.id ? lottery : l));
}

export function saveOutflow(store: CoordinatorStore, room: RoomState, outflow: OutflowState): void {
  room.outflow = outflow;
  store.saveOutflow(outflow);
}

/** Adaptive outflow: one controller step per tick (it decides at most every few seconds). */
function adapt(host: TickHost, room: RoomState, now: number): void {
  if (room.config.outflow.mode !== "adaptive") return;
  room.health = room.health.filter((h) => h.at > now - 2 * WINDOW_MS);
  const next = stepOutflow(room.outflow, room.config.outflow, backendHealth(room.health, now), now, room.counts.size > 0);
  if (next === room.outflow) return;
  if (next.rate !== room.outflow.rate) {
    logger.info("outflow_changed", {
      room: room.name,
      outcome: next.last,
      rate_per_minute: next.rate,
      latency_ms: backendHealth(room.health, now).meanLatencyMs ?? undefined,
    });
  }
  saveOutflow(host.store, room, next);
}

/**
 * Fold the tick into the books, in memory and on disk, all or nothing. Memory is moved first (the
 * pure applyTick), then written in one transaction; if the transaction throws it rolls back, and
 * memory is reloaded from storage, so the tick leaves no trace: nobody reads as admitted, and the
 * next tick admits the same people once, within the same cap. (Without the reload the frontier in
 * memory ran ahead of the one on disk: admitted now, admitted again after a restart, and the tick
 * missing from the per-minute log.) Memory-only extras (exact front, arrival rate, backend health)
 * restart empty, as after a restart.
 */
function apply(host: TickHost, room: RoomState, reports: SyncReport[], outcome: TickOutcome): void {
  try {
    const now = outcome.record.at;
    const ttlMs = room.config.admission_ttl_seconds * 1000;
    const touched = applyTick(room, reports, outcome, ttlMs);
    const finished = [...room.sessions.values()].filter((s) => sessionExpired(s, now, ttlMs)).map((s) => s.ticketId);
    for (const id of finished) room.sessions.delete(id);
    host.store.inTransaction(() => {
      host.ports.writeTickLog(room, touched, outcome.record);
      host.ports.writeTickBooks(room, finished);
    });
    host.changed();
  } catch (error) {
    host.reload();
    host.changed();
    throw error;
  }
}
