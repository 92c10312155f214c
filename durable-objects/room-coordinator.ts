import { DurableObject } from "cloudflare:workers";
import { admittedAt, admittedLastMinute, frontierSteps, observedRatePerSecond } from "../src/admission/admission-log";
import { compareKeys, ORIGIN, type OrderKey } from "../src/admission/order-key";
import { applyTick, emptyBooks, snapshotOf, type RoomBooks, type ShardBooks } from "../src/admission/room-books";
import { activeCount, sessionExpired, type SessionRecord } from "../src/admission/sessions";
import type { RoomSnapshot } from "../src/admission/snapshot";
import { planTick, runTick, SETTLE_MS, type TickOutcome } from "../src/admission/tick";
import type { SecondCounts } from "../src/admission/waiting-histogram";
import { DEFAULT_ROOM_CONFIG, patchConfig, type RoomConfig, type RoomConfigPatch } from "../src/config/room-config";
import { effectiveConfig, eventPhase, eventWindow, type EventPhase } from "../src/admission/event";
import { commitment, newSeed, publicLottery, type LotteryRecord, type PublicLottery } from "../src/admission/lottery";
import { backendHealth, initialOutflow, stepOutflow, WINDOW_MS, type BackendHealth, type HealthSample, type OutflowState } from "../src/admission/outflow";
import { defaultRooms, intVar, type Env } from "../src/config/env";
import { DEFAULT_DURABLE_CALL_TIMEOUT_MS } from "../src/edge/durable-guard";
import { faultsOn, injectFault, injectFaultSync } from "../src/faults/points";
import { credentialBatchSize } from "../src/issuance/sessions";
import { clock } from "../src/lib/clock";
import { withDeadline } from "../src/lib/deadline";
import { logger } from "../src/log/logger";
import { recordAdmissions } from "../src/metrics/analytics";
import type { SyncReport, SyncRequest } from "./queue-shard";

/**
 * RoomCoordinator: the one object per room that decides who is admitted.
 *
 * It is off the hot path by design: joins go to queue shards, polls are answered at the edge from a
 * snapshot. The coordinator is asked for a snapshot about once a second per isolate, for admin calls,
 * and runs an alarm every ADMISSION_TICK_MS that syncs with every shard, moves the frontier (pure logic
 * in src/admission/) and persists the outcome in one transaction.
 *
 * Storage schema (SQLite):
 * | table           | rows                       | holds                                               |
 * |-----------------|----------------------------|-----------------------------------------------------|
 * | room            | exactly one                | name, config (JSON), frontier, log baseline, token  |
 * |                 |                            | bucket, admitted_total                              |
 * | waiting_seconds | one per second with people | people waiting behind the frontier, by order second |
 * | ticks           | one per tick, TTL window   | admitted, frontier after, saturated: the admission  |
 * |                 |                            | log that caps, TTL release and estimates derive from |
 * | shards          | one per queue shard        | sync cursor, tickets stored, admitted from it       |
 * | sessions        | one per redeemed admission | ticket id (unique: a pre-authorized code is single  |
 * |                 |                            | use), the redeeming device key's thumbprint (jkt),  |
 * |                 | while it still counts      | use), admitted_at, started_at, ends_at, ended_at    |
 * | lotteries       | one per event ever         | the event's window, seed (secret until revealed),   |
 * |                 | scheduled, kept for good   | commitment, revealed_at, withdrawn_at, entrants     |
 * |                 | (id = scheduling order)    | (JSON ranges); replaced table `lottery` (one row)   |
 * | outflow_state   | at most one                | adaptive admission rate, when last decided, how     |
 * Backend health reports (reportHealth) are kept in memory only: they matter for seconds.
 */
interface RoomRow {
  name: string;
  config: string;
  frontier_a: number;
  frontier_b: number;
  baseline_a: number;
  baseline_b: number;
  tokens: number;
  last_refill: number | null;
  admitted_total: number;
  [key: string]: SqlStorageValue;
}

/** The room in memory: its books (src/admission/room-books.ts) plus what only the object keeps. */
interface Loaded extends RoomBooks {
  name: string;
  config: RoomConfig;
  sessions: Map<string, StoredSession>;
  lastTickError: string | null;
  /** Every event's lottery, in scheduling order (see currentLottery). */
  lotteries: LotteryRecord[];
  outflow: OutflowState;
  /** Register reads reported by isolates over the last WINDOW_MS (memory only). */
  health: HealthSample[];
}

/** A session as the coordinator keeps it: with the key that redeemed it (see startSession). */
type StoredSession = SessionRecord & { readonly jkt: string | null };

export interface RoomStats {
  readonly room: string;
  readonly config: RoomConfig;
  readonly waiting: number;
  readonly admitted_total: number;
  readonly active: number;
  readonly sessions_open: number;
  /** What one admission's issuance session may take (src/issuance/session-rules.ts). */
  readonly session_limits: { credentials_per_configuration: number; register_reads: number };
  readonly admitted_last_minute: number;
  readonly observed_admissions_per_second: number | null;
  readonly oldest_waiting_age_seconds: number | null;
  readonly frontier: { a: number; b: number };
  readonly shards: { shard: number; tickets: number; admitted: number; waiting: number }[];
  readonly last_tick_error: string | null;
  /** The settings in force now (an event's, an adaptive rate). */
  readonly effective: { queueing_method: RoomConfig["queueing_method"]; new_users_per_minute: number; total_active_users: number };
  readonly event: { phase: EventPhase; lottery: PublicLottery | null };
  readonly outflow: {
    mode: RoomConfig["outflow"]["mode"];
    rate_per_minute: number;
    floor: number;
    ceiling: number;
    latency_target_ms: number;
    max_error_rate: number;
    last_decision: OutflowState["last"];
  };
  readonly backend: { latency_ms: number | null; error_rate: number | null; samples: number };
}

export class RoomCoordinator extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private room: Loaded | null = null;
  private snapshotCache: RoomSnapshot | null = null;
  private ticking = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    // A room that was never created leaves no storage behind: asking about an unknown room name (a
    // typo, or someone probing names) must not materialise a database per name.
    if (this.hasSchema()) {
      this.migrate();
      this.room = this.load();
    }
  }

  private hasSchema(): boolean {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'room'").one().n > 0;
  }

  /** The tables, created when the room is (and completed on load for rooms made by older versions). */
  private migrate(): void {
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS room (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL,
        config TEXT NOT NULL,
        frontier_a INTEGER NOT NULL, frontier_b INTEGER NOT NULL,
        baseline_a INTEGER NOT NULL, baseline_b INTEGER NOT NULL,
        tokens REAL NOT NULL, last_refill INTEGER,
        admitted_total INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS waiting_seconds (second INTEGER PRIMARY KEY, n INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS ticks (
        at INTEGER PRIMARY KEY, span INTEGER NOT NULL, admitted INTEGER NOT NULL,
        frontier_a INTEGER NOT NULL, frontier_b INTEGER NOT NULL, saturated INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS shards (shard INTEGER PRIMARY KEY, cursor INTEGER NOT NULL, total INTEGER NOT NULL, admitted INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS sessions (
        ticket_id TEXT PRIMARY KEY, admitted_at INTEGER NOT NULL, started_at INTEGER NOT NULL,
        ends_at INTEGER NOT NULL, ended_at INTEGER, jkt TEXT
      );
      CREATE TABLE IF NOT EXISTS lotteries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        prequeue_start INTEGER NOT NULL, event_start INTEGER NOT NULL, seed TEXT NOT NULL, commitment TEXT NOT NULL,
        committed_at INTEGER NOT NULL, revealed_at INTEGER, withdrawn_at INTEGER, entrants TEXT
      );
      CREATE INDEX IF NOT EXISTS lotteries_by_event ON lotteries (event_start);
      CREATE TABLE IF NOT EXISTS outflow_state (
        id INTEGER PRIMARY KEY CHECK (id = 1), rate INTEGER NOT NULL, decided_at INTEGER, last TEXT NOT NULL
      );
    `);
    // Rooms created before sessions recorded the redeeming key: add the column (null for old rows).
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pragma_table_info('sessions') WHERE name = 'jkt'").one().n === 0) {
      this.sql.exec("ALTER TABLE sessions ADD COLUMN jkt TEXT");
    }
    // Rooms created when only the scheduled event's lottery was kept (table `lottery`, one row that the
    // next event overwrote): its row becomes the first record of `lotteries`, in one transaction.
    if (this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'lottery'").one().n > 0) {
      this.ctx.storage.transactionSync(() => {
        this.sql.exec(
          `INSERT INTO lotteries (prequeue_start, event_start, seed, commitment, committed_at, revealed_at, withdrawn_at, entrants)
           SELECT window_from, window_to, seed, commitment, committed_at, revealed_at, NULL, entrants FROM lottery`,
        );
        this.sql.exec("DROP TABLE lottery");
      });
    }
  }

  private load(): Loaded | null {
    const row = this.sql.exec<RoomRow>("SELECT * FROM room WHERE id = 1").toArray()[0];
    if (!row) return null;
    const config = { ...DEFAULT_ROOM_CONFIG, ...(JSON.parse(row.config) as Partial<RoomConfig>) };
    const counts: SecondCounts = new Map();
    for (const r of this.sql.exec<{ second: number; n: number }>("SELECT second, n FROM waiting_seconds")) counts.set(r.second, r.n);
    const log = this.sql
      .exec<{ at: number; span: number; admitted: number; frontier_a: number; frontier_b: number; saturated: number }>(
        "SELECT * FROM ticks ORDER BY at",
      )
      .toArray()
      .map((t) => ({ at: t.at, span: t.span, admitted: t.admitted, frontier: { a: t.frontier_a, b: t.frontier_b }, saturated: t.saturated === 1 }));
    const shards: ShardBooks[] = Array.from({ length: config.shards }, () => ({ cursor: 0, total: 0, admitted: 0 }));
    for (const s of this.sql.exec<{ shard: number; cursor: number; total: number; admitted: number }>("SELECT * FROM shards")) {
      if (s.shard < shards.length) shards[s.shard] = { cursor: s.cursor, total: s.total, admitted: s.admitted };
    }
    const sessions = new Map<string, StoredSession>();
    for (const r of this.sql.exec<{ ticket_id: string; admitted_at: number; started_at: number; ends_at: number; ended_at: number | null; jkt: string | null }>(
      "SELECT * FROM sessions",
    )) {
      sessions.set(r.ticket_id, { ticketId: r.ticket_id, admittedAt: r.admitted_at, startedAt: r.started_at, endsAt: r.ends_at, endedAt: r.ended_at, jkt: r.jkt });
    }
    const lotteries: LotteryRecord[] = this.sql
      .exec<{
        id: number;
        prequeue_start: number;
        event_start: number;
        seed: string;
        commitment: string;
        committed_at: number;
        revealed_at: number | null;
        withdrawn_at: number | null;
        entrants: string | null;
      }>("SELECT * FROM lotteries ORDER BY id")
      .toArray()
      .map((l) => ({
        id: l.id,
        from: l.prequeue_start,
        to: l.event_start,
        seed: l.seed,
        commitment: l.commitment,
        committedAt: l.committed_at,
        revealedAt: l.revealed_at,
        withdrawnAt: l.withdrawn_at,
        entrants: l.entrants ? (JSON.parse(l.entrants) as LotteryRecord["entrants"]) : null,
      }));
    const o = this.sql.exec<{ rate: number; decided_at: number | null; last: string }>("SELECT * FROM outflow_state WHERE id = 1").toArray()[0];
    const outflow: OutflowState = o
      ? { rate: o.rate, decidedAt: o.decided_at, last: o.last as OutflowState["last"] }
      : initialOutflow(config.outflow, config.new_users_per_minute);
    return {
      lotteries,
      outflow,
      health: [],
      sessions,
      arrivals: [],
      name: row.name,
      config,
      frontier: { a: row.frontier_a, b: row.frontier_b },
      baseline: { a: row.baseline_a, b: row.baseline_b },
      budget: { tokens: row.tokens, lastRefillAt: row.last_refill },
      admittedTotal: row.admitted_total,
      log,
      counts,
      front: { keys: [], completeUntil: ORIGIN },
      shards,
      lastTickError: null,
    };
  }

  private tickMs(): number {
    return intVar(this.env.ADMISSION_TICK_MS, 1_000);
  }

  private create(name: string, config: RoomConfig): Loaded {
    this.migrate();
    this.sql.exec(
      `INSERT INTO room (id, name, config, frontier_a, frontier_b, baseline_a, baseline_b, tokens, last_refill, admitted_total)
       VALUES (1, ?, ?, ?, ?, ?, ?, 0, NULL, 0)`,
      name,
      JSON.stringify(config),
      ORIGIN.a,
      ORIGIN.b,
      ORIGIN.a,
      ORIGIN.b,
    );
    this.room = this.load()!;
    return this.room;
  }

  /** The room, creating it with defaults if it is one of DEFAULT_ROOMS; null if it does not exist. */
  private async ensure(name: string): Promise<Loaded | null> {
    if (this.room) return this.room;
    if (!defaultRooms(this.env).includes(name)) return null;
    const room = this.create(name, DEFAULT_ROOM_CONFIG);
    await this.ensureAlarm();
    return room;
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.tickMs());
  }

  private shardStub(name: string, shard: number) {
    return this.env.QUEUE_SHARD.get(this.env.QUEUE_SHARD.idFromName(`${name}#${shard}`));
  }

  // ---- RPC ----------------------------------------------------------------------------------------

  /** What the edge caches: null for a room that does not exist. */
  async snapshot(name: string): Promise<RoomSnapshot | null> {
    const room = await this.ensure(name);
    if (!room) return null;
    this.snapshotCache ??= this.buildSnapshot(room, clock.now());
    return this.snapshotCache;
  }

  /** Create the room or change its configuration; returns whether it was created. */
  async configure(
    name: string,
    patch: RoomConfigPatch,
  ): Promise<{ created: boolean; config: RoomConfig } | { conflict: string } | { invalid: string }> {
    const existing = await this.ensure(name);
    const base = existing?.config ?? DEFAULT_ROOM_CONFIG;
    const patched = patchConfig(base, patch);
    if ("invalid" in patched) return patched;
    const next = patched.config;
    const now = clock.now();
    if (existing && next.shards !== existing.config.shards) {
      // Devices are routed to a shard by their key: re-sharding a room that has tickets would give a
      // returning device a second place. Only an empty room may change its shard count.
      const totals = await Promise.all(existing.shards.map((_, i) => this.shardStub(name, i).sync(this.probe(i))));
      if (totals.some((t) => t.total > 0)) return { conflict: "the shard count of a room cannot change once anyone has joined it" };
    }
    const lotteryChange = this.lotteryChange(existing, base, next, now);
    if ("conflict" in lotteryChange) return lotteryChange;
    const room = existing ?? this.create(name, next);
    room.config = next;
    if (room.shards.length !== next.shards) {
      room.shards = emptyBooks(next.shards).shards;
      this.sql.exec("DELETE FROM shards");
    }
    if (next.outflow.mode === "adaptive" && base.outflow.mode !== "adaptive") {
      // Switching to adaptive starts from the rate the operator had pinned.
      this.saveOutflow(room, initialOutflow(next.outflow, next.new_users_per_minute));
    }
    if (lotteryChange.withdraw) {
      const entrants = room.shards.map((_, shard) => ({ shard, first: 1, last: 0, excluded: [], count: 0 }));
      this.updateLottery(room, { ...lotteryChange.withdraw, revealedAt: now, withdrawnAt: now, entrants });
    }
    if (lotteryChange.add) this.addLottery(room, lotteryChange.add);
    this.sql.exec("UPDATE room SET config = ? WHERE id = 1", JSON.stringify(next));
    this.snapshotCache = null;
    if (!existing) await this.ensureAlarm();
    return { created: !existing, config: next };
  }

  /**
   * What scheduling `next.event` does to the lotteries. The commitment must be public before the
   * pre-queue opens and the draw must not change while it is open: a new or re-timed event needs a
   * pre-queue that starts in the future, and an event whose pre-queue is open cannot be moved or removed.
   *
   * Records are only ever added: a new window adds one, and an earlier event's record stays as it is
   * (revealed, or revealed by the tick once its event_start has passed, whether or not it is still the
   * configured event). The one exception is a record whose pre-queue never opened, when its event is
   * re-timed or removed: it is withdrawn, its seed revealed at once with no entrants.
   */
  private lotteryChange(
    existing: Loaded | null,
    base: RoomConfig,
    next: RoomConfig,
    now: number,
  ): { add?: Omit<LotteryRecord, "id">; withdraw?: LotteryRecord } | { conflict: string } {
    const before = eventWindow(base);
    const after = eventWindow(next);
    const sameWindow = !!before && !!after && before.prequeueStart === after.prequeueStart && before.eventStart === after.eventStart;
    if (sameWindow) return {};
    if (before && now >= before.prequeueStart && now < before.eventStart) {
      return { conflict: "the event's pre-queue is open: its lottery is committed and cannot be moved or removed until event_start" };
    }
    if (after && after.prequeueStart <= now) return { conflict: "prequeue_start must be in the future: the lottery's commitment is published before the pre-queue opens" };
    const previous = existing ? currentLottery(existing) : null;
    const withdraw = previous && now < previous.from && previous.revealedAt === null ? { withdraw: previous } : {};
    if (!after) return withdraw;
    const seed = newSeed();
    return {
      ...withdraw,
      add: { from: after.prequeueStart, to: after.eventStart, seed, commitment: commitment(seed), committedAt: now, revealedAt: null, withdrawnAt: null, entrants: null },
    };
  }

  private addLottery(room: Loaded, lottery: Omit<LotteryRecord, "id">): void {
    const { id } = this.sql
      .exec<{ id: number }>(
        `INSERT INTO lotteries (prequeue_start, event_start, seed, commitment, committed_at, revealed_at, withdrawn_at, entrants)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        lottery.from,
        lottery.to,
        lottery.seed,
        lottery.commitment,
        lottery.committedAt,
        lottery.revealedAt,
        lottery.withdrawnAt,
        lottery.entrants ? JSON.stringify(lottery.entrants) : null,
      )
      .one();
    room.lotteries.push({ ...lottery, id });
  }

  /** A record's outcome (revealed, withdrawn): its window, seed and commitment never change. */
  private updateLottery(room: Loaded, lottery: LotteryRecord): void {
    this.sql.exec(
      "UPDATE lotteries SET revealed_at = ?, withdrawn_at = ?, entrants = ? WHERE id = ?",
      lottery.revealedAt,
      lottery.withdrawnAt,
      lottery.entrants ? JSON.stringify(lottery.entrants) : null,
      lottery.id,
    );
    room.lotteries = room.lotteries.map((l) => (l.id === lottery.id ? lottery : l));
  }

  private saveOutflow(room: Loaded, outflow: OutflowState): void {
    room.outflow = outflow;
    this.sql.exec("INSERT OR REPLACE INTO outflow_state (id, rate, decided_at, last) VALUES (1, ?, ?, ?)", outflow.rate, outflow.decidedAt, outflow.last);
  }

  /**
   * Publish the lottery's seed and entrants. Only once event_start has passed (plus the shards' settle
   * margin, so every entrant is stored): before that the seed would let anyone predict the draw.
   * The first tick after that does it by itself; operators may call it (idempotent).
   */
  async revealLottery(name: string): Promise<{ lottery: PublicLottery } | { conflict: string } | null> {
    const room = await this.ensure(name);
    if (!room) return null;
    // The configured event's, else the latest scheduled (an event removed after its start).
    const target = currentLottery(room) ?? room.lotteries[room.lotteries.length - 1];
    if (!target) return { conflict: "this room has no scheduled event, so no lottery to reveal" };
    const now = clock.now();
    if (now < target.to + SETTLE_MS) return { conflict: "the lottery is revealed only after event_start" };
    const revealed = target.revealedAt === null ? await this.reveal(room, target, now) : target;
    return { lottery: publicLottery(revealed)! };
  }

  private async reveal(room: Loaded, lottery: LotteryRecord, now: number): Promise<LotteryRecord> {
    const entrants = await withDeadline(
      Promise.all(room.shards.map((_, i) => this.shardStub(room.name, i).lotteryEntrants(i, lottery.from, lottery.to))),
      this.callTimeoutMs(),
      "lottery entrants",
    );
    const revealed: LotteryRecord = { ...lottery, revealedAt: now, entrants };
    this.updateLottery(room, revealed);
    this.snapshotCache = null;
    logger.info("lottery_revealed", { room: room.name, count: entrants.reduce((n, e) => n + e.count, 0) });
    return revealed;
  }

  /** An isolate's register reads since its last report (src/edge/backend-health.ts). */
  async reportHealth(name: string, sample: { reads: number; errors: number; latencySumMs: number }): Promise<boolean> {
    const room = await this.ensure(name);
    if (!room) return false;
    const now = clock.now();
    room.health = room.health.filter((h) => h.at > now - 2 * WINDOW_MS);
    room.health.push({ at: now, reads: sample.reads, errors: sample.errors, latencySumMs: sample.latencySumMs });
    return true;
  }

  private effective(room: Loaded, now: number): RoomConfig {
    return effectiveConfig(room.config, now, room.config.outflow.mode === "adaptive" ? room.outflow.rate : null);
  }

  async stats(name: string): Promise<RoomStats | null> {
    const room = await this.ensure(name);
    if (!room) return null;
    const now = clock.now();
    const effective = this.effective(room, now);
    const health: BackendHealth = backendHealth(room.health, now);
    let waiting = 0;
    let oldestSecond = Number.POSITIVE_INFINITY;
    for (const [second, n] of room.counts) {
      waiting += n;
      oldestSecond = Math.min(oldestSecond, second);
    }
    return {
      room: room.name,
      config: room.config,
      waiting,
      admitted_total: room.admittedTotal,
      active: this.active(room, now),
      sessions_open: [...room.sessions.values()].filter((s) => s.endedAt === null && s.endsAt > now).length,
      session_limits: {
        credentials_per_configuration: room.config.session_credentials_per_configuration ?? credentialBatchSize(this.env),
        register_reads: room.config.session_register_reads,
      },
      admitted_last_minute: admittedLastMinute(room.log, now),
      observed_admissions_per_second: observedRatePerSecond(room.log, now),
      oldest_waiting_age_seconds: waiting > 0 ? Math.max(0, Math.floor(now / 1000) - oldestSecond) : null,
      frontier: { a: room.frontier.a, b: room.frontier.b },
      shards: room.shards.map((s, shard) => ({ shard, tickets: s.total, admitted: s.admitted, waiting: s.total - s.admitted })),
      last_tick_error: room.lastTickError,
      effective: { queueing_method: effective.queueing_method, new_users_per_minute: effective.new_users_per_minute, total_active_users: effective.total_active_users },
      event: { phase: eventPhase(room.config, now), lottery: publicLottery(currentLottery(room)) },
      outflow: {
        mode: room.config.outflow.mode,
        rate_per_minute: effective.new_users_per_minute,
        floor: room.config.outflow.floor_per_minute,
        ceiling: room.config.outflow.ceiling_per_minute,
        latency_target_ms: room.config.outflow.latency_target_ms,
        max_error_rate: room.config.outflow.max_error_rate,
        last_decision: room.outflow.last,
      },
      backend: { latency_ms: round1(health.meanLatencyMs), error_rate: health.errorRate, samples: health.reads },
    };
  }

  /**
   * Redeem an admission (the token endpoint): one session per ticket, and only while the admission is
   * valid. The session then counts as active until it ends or runs past `session_duration_seconds`.
   *
   * `jkt` is the key redeeming it. The same key coming back with a *fresh* code for the same admission
   * while its session is open gets that same session back (nothing new: no second session, the same end,
   * and the session's own object keeps what it already used): its first answer was lost, to the network
   * or to a crash between this write and the response. Each code is single use (IssuanceSessions.redeem
   * takes it before this is called); any other key, or a session that ended, is a reuse.
   */
  async startSession(
    name: string,
    ticket: { ticketId: string; key: OrderKey; jkt?: string },
  ): Promise<
    | { ok: true; endsAt: number; limits: { credentialsPerConfiguration: number | null; registerReads: number } }
    | { ok: false; reason: "no_room" | "not_admitted" | "expired" | "already_used" }
  > {
    const room = await this.ensure(name);
    if (!room) return { ok: false, reason: "no_room" };
    const now = clock.now();
    const existing = room.sessions.get(ticket.ticketId);
    if (existing) {
      const sameDevice = ticket.jkt !== undefined && existing.jkt === ticket.jkt;
      if (sameDevice && existing.endedAt === null && existing.endsAt > now) return { ok: true, endsAt: existing.endsAt, limits: sessionLimits(room.config) };
      return { ok: false, reason: "already_used" };
    }
    if (compareKeys(ticket.key, room.frontier) > 0) return { ok: false, reason: "not_admitted" };
    const at = admittedAt(room.baseline, frontierSteps(room.log), ticket.key);
    if (at === null || at + room.config.admission_ttl_seconds * 1000 <= now) return { ok: false, reason: "expired" };
    const session: StoredSession = {
      ticketId: ticket.ticketId,
      admittedAt: at,
      startedAt: now,
      endsAt: now + room.config.session_duration_seconds * 1000,
      endedAt: null,
      jkt: ticket.jkt ?? null,
    };
    room.sessions.set(session.ticketId, session);
    this.sql.exec(
      "INSERT INTO sessions (ticket_id, admitted_at, started_at, ends_at, ended_at, jkt) VALUES (?, ?, ?, ?, NULL, ?)",
      session.ticketId,
      session.admittedAt,
      session.startedAt,
      session.endsAt,
      session.jkt,
    );
    this.snapshotCache = null;
    return { ok: true, endsAt: session.endsAt, limits: sessionLimits(room.config) };
  }

  /** Close a session (issuance accepted or failed): its capacity is free at once. Idempotent. */
  async endSession(name: string, ticketId: string): Promise<boolean> {
    const room = await this.ensure(name);
    const session = room?.sessions.get(ticketId);
    if (!room || !session) return false;
    if (session.endedAt === null) {
      const endedAt = clock.now();
      room.sessions.set(ticketId, { ...session, endedAt });
      this.sql.exec("UPDATE sessions SET ended_at = ? WHERE ticket_id = ?", endedAt, ticketId);
      this.snapshotCache = null;
    }
    return true;
  }

  private active(room: Loaded, now: number): number {
    return activeCount(room.log, room.sessions.values(), now, room.config.admission_ttl_seconds * 1000);
  }

  override async alarm(): Promise<void> {
    try {
      await this.tick();
    } catch (e) {
      // A failed tick wrote nothing (apply() is all-or-nothing), so the next alarm simply retries the
      // same work from stored state. Swallowed rather than rethrown: the runtime's own alarm retries
      // would run on top of the re-arm below, at a schedule of their own.
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (this.room) this.room.lastTickError = `tick failed: ${error}`;
      logger.error("tick_failed", { room: this.room?.name, error });
    } finally {
      // Keep ticking even when a tick failed: the next one retries the same work from stored state.
      if (this.room) await this.ctx.storage.setAlarm(Date.now() + this.tickMs());
    }
  }

  // ---- the admission tick -----------------------------------------------------------------------

  /** One shard's sync, with the same deadline the edge gives object calls: a hung shard fails the tick. */
  private syncShard(name: string, req: SyncRequest): Promise<SyncReport> {
    const call = async () => {
      if (faultsOn) await injectFault("shard.sync");
      return this.shardStub(name, req.shard).sync(req);
    };
    return withDeadline(call(), this.callTimeoutMs(), `shard ${req.shard} sync`);
  }

  private callTimeoutMs(): number {
    return intVar(this.env.DURABLE_CALL_TIMEOUT_MS, DEFAULT_DURABLE_CALL_TIMEOUT_MS);
  }

  private probe(shard: number) {
    return { shard, after: { a: Number.MAX_SAFE_INTEGER, b: 0 }, limit: 0, eligibleBefore: 0, since: Number.MAX_SAFE_INTEGER };
  }

  /**
   * Sync every shard, admit, persist. All-or-nothing: if any shard fails to answer, nobody is admitted
   * this tick (the global order is unknown without every shard's heads) and nothing is written.
   */
  async tick(): Promise<void> {
    const room = this.room;
    if (!room || this.ticking) return;
    const now = clock.now();
    const last = room.log[room.log.length - 1];
    if (last && now <= last.at) return;
    this.ticking = true;
    try {
      if (faultsOn) await injectFault("coordinator.tick");
      // Every lottery past its draw, not only the configured event's: re-scheduling must not hide a seed.
      for (const l of room.lotteries) if (l.revealedAt === null && now >= l.to + SETTLE_MS) await this.reveal(room, l, now);
      this.adapt(room, now);
      const input = { config: this.effective(room, now), now, frontier: room.frontier, budget: room.budget, log: room.log, active: this.active(room, now) };
      const plan = planTick(input);
      let reports: SyncReport[];
      try {
        reports = await Promise.all(
          room.shards.map((s, shard) =>
            this.syncShard(room.name, { shard, after: room.frontier, limit: plan.pageSize, eligibleBefore: plan.eligibleBefore, since: s.cursor }),
          ),
        );
      } catch (e) {
        room.lastTickError = `shard sync failed: ${e instanceof Error ? e.message : String(e)}`;
        logger.error("tick_failed", { room: room.name, error: room.lastTickError });
        return;
      }
      room.lastTickError = null;
      const outcome = runTick(input, plan, reports.map((r) => r.heads));
      this.apply(room, reports, outcome);
      if (outcome.admitted.length > 0) {
        let waiting = 0;
        for (const n of room.counts.values()) waiting += n;
        logger.info("tick", { room: room.name, admitted: outcome.admitted.length, waiting });
        recordAdmissions(this.env, room.name, outcome.admitted.length, { waiting });
      }
    } finally {
      this.ticking = false;
    }
  }

  /** Adaptive outflow: one controller step per tick (it decides at most every few seconds). */
  private adapt(room: Loaded, now: number): void {
    if (room.config.outflow.mode !== "adaptive") return;
    room.health = room.health.filter((h) => h.at > now - 2 * WINDOW_MS);
    const next = stepOutflow(room.outflow, room.config.outflow, backendHealth(room.health, now), now, room.counts.size > 0);
    if (next === room.outflow) return;
    if (next.rate !== room.outflow.rate) {
      logger.info("outflow_changed", { room: room.name, outcome: next.last, rate_per_minute: next.rate, latency_ms: backendHealth(room.health, now).meanLatencyMs ?? undefined });
    }
    this.saveOutflow(room, next);
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
  private apply(room: Loaded, reports: SyncReport[], outcome: TickOutcome): void {
    try {
      this.applyAndPersist(room, reports, outcome);
    } catch (error) {
      this.room = this.load();
      this.snapshotCache = null;
      throw error;
    }
  }

  private applyAndPersist(room: Loaded, reports: SyncReport[], outcome: TickOutcome): void {
    const now = outcome.record.at;
    const ttlMs = room.config.admission_ttl_seconds * 1000;
    const touched = applyTick(room, reports, outcome, ttlMs);
    const finished = [...room.sessions.values()].filter((s) => sessionExpired(s, now, ttlMs)).map((s) => s.ticketId);
    for (const id of finished) room.sessions.delete(id);

    this.ctx.storage.transactionSync(() => {
      for (const second of touched) {
        const n = room.counts.get(second);
        if (n === undefined) this.sql.exec("DELETE FROM waiting_seconds WHERE second = ?", second);
        else this.sql.exec("INSERT OR REPLACE INTO waiting_seconds (second, n) VALUES (?, ?)", second, n);
      }
      const r = outcome.record;
      this.sql.exec(
        "INSERT OR REPLACE INTO ticks (at, span, admitted, frontier_a, frontier_b, saturated) VALUES (?, ?, ?, ?, ?, ?)",
        r.at,
        r.span,
        r.admitted,
        r.frontier.a,
        r.frontier.b,
        r.saturated ? 1 : 0,
      );
      this.sql.exec("DELETE FROM ticks WHERE at < ?", room.log[0]?.at ?? now);
      // A failure half-way through the writes (development fault injection, src/faults).
      if (faultsOn) injectFaultSync("coordinator.persist");
      for (const id of finished) this.sql.exec("DELETE FROM sessions WHERE ticket_id = ?", id);
      room.shards.forEach((s, shard) =>
        this.sql.exec("INSERT OR REPLACE INTO shards (shard, cursor, total, admitted) VALUES (?, ?, ?, ?)", shard, s.cursor, s.total, s.admitted),
      );
      this.sql.exec(
        `UPDATE room SET frontier_a = ?, frontier_b = ?, baseline_a = ?, baseline_b = ?, tokens = ?, last_refill = ?, admitted_total = ? WHERE id = 1`,
        room.frontier.a,
        room.frontier.b,
        room.baseline.a,
        room.baseline.b,
        room.budget.tokens,
        room.budget.lastRefillAt,
        room.admittedTotal,
      );
    });
    this.snapshotCache = null;
  }

  private buildSnapshot(room: Loaded, now: number): RoomSnapshot {
    const outflowRate = room.config.outflow.mode === "adaptive" ? room.outflow.rate : null;
    const lottery = currentLottery(room);
    return {
      ...snapshotOf(room.name, room.config, room, now, this.active(room, now), { configuredPerMinute: this.effective(room, now).new_users_per_minute }),
      outflowRate,
      lottery: lottery ? { from: lottery.from, to: lottery.to, seed: lottery.seed, public: publicLottery(lottery)! } : null,
      lotteries: room.lotteries.map((l) => publicLottery(l)!),
    };
  }

}

/** The configured event's lottery: the latest record for its window that was not withdrawn. */
function currentLottery(room: Loaded): LotteryRecord | null {
  const w = eventWindow(room.config);
  if (!w) return null;
  for (let i = room.lotteries.length - 1; i >= 0; i--) {
    const l = room.lotteries[i]!;
    if (l.from === w.prequeueStart && l.to === w.eventStart && l.withdrawnAt === null) return l;
  }
  return null;
}

function round1(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10) / 10;
}

/** The room's limits on one issuance session, as the token endpoint opens it (src/issuance/sessions.ts). */
function sessionLimits(config: RoomConfig): { credentialsPerConfiguration: number | null; registerReads: number } {
  return { credentialsPerConfiguration: config.session_credentials_per_configuration, registerReads: config.session_register_reads };
}
