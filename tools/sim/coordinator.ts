import { admittedAt, frontierSteps, type FrontierStep } from "../../src/admission/admission-log";
import { compareKeys, type OrderKey } from "../../src/admission/order-key";
import { applyTick, emptyBooks, snapshotOf, type RoomBooks } from "../../src/admission/room-books";
import { activeCount, sessionExpired, type SessionRecord } from "../../src/admission/sessions";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import { planTick, runTick, type TickInput, type TickOutcome, type TickPlan } from "../../src/admission/tick";
import type { RoomConfig } from "../../src/config/room-config";
import type { Clock } from "../../src/lib/clock";
import { SessionTable, type TicketSlots } from "./session-table";
import type { SimShard } from "./shard";

/**
 * RoomCoordinator without SQLite and RPC: the same books and the same tick (src/admission/room-books.ts,
 * tick.ts: plan, merge, apply, snapshot), with the shards called directly (in the real object a failed
 * sync aborts the tick, which never happens here) and a tick's persistence left out (it changes nothing
 * a later tick reads). startSession/endSession repeat the object's few lines over a SessionTable (same
 * records and operations, stored by column). Other deviations are performance-only and say so.
 */
export interface SimTick {
  readonly input: TickInput;
  readonly plan: TickPlan;
  readonly outcome: TickOutcome;
}

const PRUNE_EVERY = 30;

export type StartResult = { ok: true; endsAt: number } | { ok: false; reason: "not_admitted" | "expired" | "already_used" };

export class SimCoordinator {
  readonly books: RoomBooks;
  readonly sessions: SessionTable;
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
    this.books = emptyBooks(shards.length);
    this.sessions = new SessionTable(ticketSlots(shards.map((s) => s.capacity)));
  }

  get frontier(): OrderKey {
    return this.books.frontier;
  }

  private ttlMs(): number {
    return this.config.admission_ttl_seconds * 1000;
  }

  active(now: number): number {
    return activeCount(this.books.log, this.sessions, now, this.ttlMs());
  }

  startSession(ticket: { ticketId: string; key: OrderKey }): StartResult {
    const now = this.clock.now();
    if (this.sessions.has(ticket.ticketId)) return { ok: false, reason: "already_used" };
    if (compareKeys(ticket.key, this.frontier) > 0) return { ok: false, reason: "not_admitted" };
    const at = admittedAt(this.books.baseline, this.steps, ticket.key);
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
    const books = this.books;
    const input: TickInput = {
      config: this.config,
      now,
      frontier: books.frontier,
      budget: books.budget,
      log: books.log,
      active: this.active(now),
    };
    const plan = planTick(input);
    const reports = this.shards.map((s, shard) =>
      s.sync({
        shard,
        after: books.frontier,
        limit: plan.pageSize,
        eligibleBefore: plan.eligibleBefore,
        since: books.shards[shard]!.cursor,
      }),
    );
    const outcome = runTick(
      input,
      plan,
      reports.map((r) => r.heads),
    );
    applyTick(books, reports, outcome, this.ttlMs());
    this.steps = frontierSteps(books.log);
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
   * plus those it admitted: activeCount at the same instant after the tick is exactly that (applying a
   * tick only adds its record and drops log records and sessions that count for nothing), and a second
   * walk of every session per tick would double the run time. `verify` recomputes it for real.
   */
  buildSnapshot(now: number, tick?: SimTick, verify = false): RoomSnapshot {
    const active = tick && !verify ? tick.input.active + tick.outcome.admitted.length : this.active(now);
    return snapshotOf(this.name, this.config, this.books, now, active, { steps: this.steps });
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
