import { admittedAt, admittedSince, frontierSteps, type FrontierStep } from "../../src/admission/admission-log";
import { compareKeys, type OrderKey } from "../../src/admission/order-key";
import { applyTick, emptyBooks, snapshotOf, type RoomBooks } from "../../src/admission/room-books";
import type { RoomSnapshot } from "../../src/admission/snapshot";
import { planTick, runTick, type TickInput, type TickOutcome, type TickPlan } from "../../src/admission/tick";
import type { RoomConfig } from "../../src/config/room-config";
import type { Clock } from "../../src/lib/clock";
import { TICK_ROWS_WRITTEN_BASE } from "./request-plan";
import type { SessionShards } from "./session-shards";
import type { SimShard } from "./shard";

/**
 * RoomCoordinator without SQLite and RPC: the same books and the same tick (src/admission/room-books.ts,
 * tick.ts: plan, merge, apply, snapshot), with the shards called directly (in the real object a failed
 * sync aborts the tick, which never happens here) and a tick's persistence left out (it changes nothing
 * a later tick reads).
 *
 * Sessions are off the coordinator (docs/scaling-past-one-coordinator.md): the tick pulls the session
 * shards' counts and derives the active count from them; the token endpoint decides "admitted, inside
 * the TTL" from the snapshot and the session shard refuses a second session per admission
 * (`redeemCheck`). The real tick pulls the counts in parallel with the queue shards' syncs and applies
 * the active cap after; here they are known first, which plans the same allowance.
 */
export interface SimTick {
  readonly input: TickInput;
  readonly plan: TickPlan;
  readonly outcome: TickOutcome;
  /** SQLite rows: scanned by the queue shards' syncs and the session shards' counts; written by the tick. */
  readonly rows: { syncRead: number; countRead: number; written: number };
}

export type StartResult = { ok: true } | { ok: false; reason: "not_admitted" | "expired" | "already_used" };

export class SimCoordinator {
  readonly books: RoomBooks;
  /**
   * frontierSteps(log), recomputed whenever the log changes, as the snapshot carries it (the token
   * endpoint reads a ticket's admission time from it).
   */
  private steps: FrontierStep[] = [];

  constructor(
    readonly name: string,
    readonly config: RoomConfig,
    private readonly shards: readonly SimShard[],
    private readonly sessions: SessionShards,
    private readonly clock: Clock,
  ) {
    this.books = emptyBooks(shards.length);
  }

  get frontier(): OrderKey {
    return this.books.frontier;
  }

  private ttlMs(): number {
    return this.config.admission_ttl_seconds * 1000;
  }

  /** The tick's active count from the session shards' counts at `now`, and the rows they scanned. */
  active(now: number): { active: number; scanned: number } {
    const { redeemed, open, scanned } = this.sessions.counts(now);
    return { active: Math.max(0, admittedSince(this.books.log, now - this.ttlMs()) - redeemed) + open, scanned };
  }

  /**
   * The token endpoint's decision (ticketStatus on the snapshot: behind the frontier, admitted inside
   * the TTL) and the session shard's one-session-per-admission rule (`hasSession`).
   */
  redeemCheck(key: OrderKey, hasSession: boolean): StartResult {
    const now = this.clock.now();
    if (hasSession) return { ok: false, reason: "already_used" };
    if (compareKeys(key, this.frontier) > 0) return { ok: false, reason: "not_admitted" };
    const at = admittedAt(this.books.baseline, this.steps, key);
    if (at === null || at + this.ttlMs() <= now) return { ok: false, reason: "expired" };
    return { ok: true };
  }

  /** The alarm: sync every shard, admit, apply. Returns what happened, for the simulator's books. */
  tick(): SimTick {
    const now = this.clock.now();
    const books = this.books;
    const counted = this.active(now);
    const input: TickInput = {
      config: this.config,
      now,
      frontier: books.frontier,
      budget: books.budget,
      log: books.log,
      active: counted.active,
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
    let syncRead = 0;
    let written = TICK_ROWS_WRITTEN_BASE + reports.length;
    for (let i = 0; i < reports.length; i++) {
      const r = reports[i]!;
      syncRead += r.heads.length + r.cursor - books.shards[i]!.cursor;
      written += r.arrivals.length;
    }
    applyTick(books, reports, outcome, this.ttlMs());
    this.steps = frontierSteps(books.log);
    return { input, plan, outcome, rows: { syncRead, countRead: counted.scanned, written } };
  }

  /**
   * The snapshot the coordinator serves right after tick `tick`: the counts it pulled (the tick's
   * active) plus those it admitted, as the real tick writes them with the room row.
   */
  buildSnapshot(now: number, tick?: SimTick): RoomSnapshot {
    const active = tick ? tick.input.active + tick.outcome.admitted.length : this.active(now).active;
    return snapshotOf(this.name, this.config, this.books, now, active, { steps: this.steps });
  }
}
