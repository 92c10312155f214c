import {
  admittedAt,
  admittedLastMinute,
  estimationRatePerSecond,
  frontierSteps,
  pruneLog,
  type FrontierStep,
  type TickRecord,
} from "../admission/admission-log";
import { EMPTY_BUDGET, type BudgetState } from "../admission/budget";
import type { ExactFront } from "../admission/frontier";
import { compareKeys, ORIGIN, secondOf, shardOf, type OrderKey } from "../admission/order-key";
import { activeCount, sessionExpired, type SessionRecord } from "../admission/sessions";
import type { RoomSnapshot } from "../admission/snapshot";
import { planTick, runTick, type TickInput, type TickOutcome, type TickPlan } from "../admission/tick";
import { addCount, toHistogram, type SecondCounts } from "../admission/waiting-histogram";
import type { RoomConfig } from "../config/room-config";
import type { Clock } from "../lib/clock";
import { SessionTable, type TicketSlots } from "./session-table";
import type { SimShard } from "./shard";

/**
 * RoomCoordinator's in-memory state and its tick, startSession, endSession and buildSnapshot, line for
 * line as in durable-objects/room-coordinator.ts, minus SQLite (a tick's persistence changes nothing a
 * later tick reads) and RPC (shards are called directly; in the real object a failed sync aborts the
 * tick, which never happens here). The sessions map is a SessionTable (same records and operations,
 * stored by column). Other deviations are performance-only and say so where they are.
 */
export interface SimTick {
  readonly input: TickInput;
  readonly plan: TickPlan;
  readonly outcome: TickOutcome;
}

const PRUNE_EVERY = 30;

export type StartResult = { ok: true; endsAt: number } | { ok: false; reason: "not_admitted" | "expired" | "already_used" };

export class SimCoordinator {
  frontier: OrderKey = ORIGIN;
  baseline: OrderKey = ORIGIN;
  budget: BudgetState = EMPTY_BUDGET;
  admittedTotal = 0;
  log: TickRecord[] = [];
  readonly counts: SecondCounts = new Map();
  front: ExactFront = { keys: [], completeUntil: ORIGIN };
  readonly sessions: SessionTable;
  /** [tick time, arrivals synced] over the last minute: how busy joining is. */
  arrivals: [number, number][] = [];
  readonly cursors: { cursor: number; total: number; admitted: number }[];
  /**
   * frontierSteps(log), recomputed whenever the log changes. The real startSession derives it per
   * call; with a few hundred redemptions a second here that would dominate the run, for the same value.
   */
  private steps: FrontierStep[] = [];
  private ticks = 0;

  constructor(
    readonly name: string,
    readonly config: RoomConfig,
    private readonly shards: readonly SimShard[],
    private readonly clock: Clock,
  ) {
    this.cursors = shards.map(() => ({ cursor: 0, total: 0, admitted: 0 }));
    this.sessions = new SessionTable(ticketSlots(shards.map((s) => s.capacity)));
  }

  private ttlMs(): number {
    return this.config.admission_ttl_seconds * 1000;
  }

  active(now: number): number {
    return activeCount(this.log, this.sessions, now, this.ttlMs());
  }

  startSession(ticket: { ticketId: string; key: OrderKey }): StartResult {
    const now = this.clock.now();
    if (this.sessions.has(ticket.ticketId)) return { ok: false, reason: "already_used" };
    if (compareKeys(ticket.key, this.frontier) > 0) return { ok: false, reason: "not_admitted" };
    const at = admittedAt(this.baseline, this.steps, ticket.key);
    if (at === null || at + this.ttlMs() <= now) return { ok: false, reason: "expired" };
    const session: SessionRecord = {
      ticketId: ticket.ticketId,
      admittedAt: at,
      startedAt: now,
      endsAt: now + this.config.session_duration_seconds * 1000,
      endedAt: null,
    };
    this.sessions.set(session);
    return { ok: true, endsAt: session.endsAt };
  }

  endSession(ticketId: string): boolean {
    const session = this.sessions.get(ticketId);
    if (!session) return false;
    if (session.endedAt === null) this.sessions.set({ ...session, endedAt: this.clock.now() });
    return true;
  }

  /** The alarm: sync every shard, admit, apply. Returns what happened, for the simulator's books. */
  tick(): SimTick {
    const now = this.clock.now();
    const input: TickInput = { config: this.config, now, frontier: this.frontier, budget: this.budget, log: this.log, active: this.active(now) };
    const plan = planTick(input);
    const reports = this.shards.map((s, shard) =>
      s.sync({ shard, after: this.frontier, limit: plan.pageSize, eligibleBefore: plan.eligibleBefore, since: this.cursors[shard]!.cursor }),
    );
    const outcome = runTick(input, plan, reports.map((r) => r.heads));

    // apply(), as the coordinator does it.
    let arrived = 0;
    reports.forEach((r, shard) => {
      for (const { second, count } of r.arrivals) {
        arrived += count;
        addCount(this.counts, second, count);
      }
      this.cursors[shard] = { cursor: r.cursor, total: r.total, admitted: this.cursors[shard]!.admitted };
    });
    for (const key of outcome.admitted) {
      addCount(this.counts, secondOf(key), -1);
      this.cursors[shardOf(key)]!.admitted++;
    }
    this.frontier = outcome.record.frontier;
    this.front = outcome.front;
    this.arrivals = this.arrivals.filter(([at]) => at > now - 60_000);
    this.arrivals.push([now, arrived]);
    this.budget = outcome.budget;
    this.admittedTotal += outcome.admitted.length;
    const pruned = pruneLog([...this.log, outcome.record], this.baseline, now, this.ttlMs());
    this.log = pruned.log;
    this.baseline = pruned.baseline;
    this.steps = frontierSteps(this.log);
    // The coordinator drops finished sessions every tick; here every PRUNE_EVERY ticks (a pass over
    // the whole table). Same predicate; a finished session contributes nothing to activeCount and
    // stays finished, so only memory differs in between.
    if (++this.ticks % PRUNE_EVERY === 0) {
      const ttlMs = this.ttlMs();
      this.sessions.deleteWhere((s) => sessionExpired(s, now, ttlMs));
    }
    return { input, plan, outcome };
  }

  /**
   * The snapshot the coordinator would serve right after tick `tick`. Its `active` is the tick's input
   * plus those it admitted: activeCount at the same instant after apply() is exactly that (apply only
   * adds the tick's record and drops log records and sessions that count for nothing), and a second
   * walk of every session per tick would double the run time. `verify` recomputes it for real.
   */
  buildSnapshot(now: number, tick?: SimTick, verify = false): RoomSnapshot {
    const active = tick && !verify ? tick.input.active + tick.outcome.admitted.length : this.active(now);
    return {
      room: this.name,
      generatedAt: now,
      config: this.config,
      frontier: this.frontier,
      baseline: this.baseline,
      steps: this.steps,
      histogram: toHistogram(this.counts),
      front: this.front,
      ratePerSecond: estimationRatePerSecond(this.log, now, this.config.new_users_per_minute / 60),
      admittedLastMinute: admittedLastMinute(this.log, now),
      admittedTotal: this.admittedTotal,
      active,
      syncedSeqs: this.cursors.map((s) => s.cursor),
      arrivalsPerSecond: this.arrivals.reduce((n, [, count]) => n + count, 0) / 60,
      everJoined: this.cursors.some((s) => s.total > 0),
    };
  }
}

/**
 * Ticket ids are "<shard>.<seq>" (routes/tickets.ts): one slot per ticket a shard can hold, shard
 * after shard. Parsed by hand: this runs twice per redemption.
 */
function ticketSlots(capacities: readonly number[]): TicketSlots {
  const base: number[] = [];
  let size = 0;
  for (const c of capacities) {
    base.push(size);
    size += c;
  }
  return {
    size,
    slot(ticketId: string): number {
      let i = 0;
      let shard = 0;
      for (let c = ticketId.charCodeAt(i); c !== 46; c = ticketId.charCodeAt(++i)) shard = shard * 10 + c - 48;
      let seq = 0;
      for (i++; i < ticketId.length; i++) seq = seq * 10 + ticketId.charCodeAt(i) - 48;
      const slot = base[shard]! + seq - 1;
      if (!(seq >= 1 && seq <= capacities[shard]!)) throw new Error(`not a ticket id of this room: ${ticketId}`);
      return slot;
    },
  };
}
