import { DEFAULT_ROOM_CONFIG, type RoomConfig } from "../config/room-config";
import { migrate, type Migration } from "../storage/migrations";
import type { LotteryRecord } from "./lottery";
import { ORIGIN } from "./order-key";
import { initialOutflow, type HealthSample, type OutflowState } from "./outflow";
import type { RoomBooks, ShardBooks } from "./room-books";
import type { SessionCounts, SessionRecord } from "./sessions";
import type { TickRecord } from "./admission-log";
import type { SecondCounts } from "./waiting-histogram";

/**
 * The RoomCoordinator object's storage: the room's books as rows, and the room in memory as it loads.
 *
 * Storage schema (SQLite, versioned in table schema_version by src/storage/migrations.ts):
 * | table           | rows                       | holds                                               |
 * |-----------------|----------------------------|-----------------------------------------------------|
 * | room            | exactly one                | name, config (JSON), frontier, log baseline, token  |
 * |                 |                            | bucket, admitted_total                              |
 * | waiting_seconds | one per second with people | people waiting behind the frontier, by order second |
 * | ticks           | one per tick, TTL window   | admitted, frontier after, saturated: the admission  |
 * |                 |                            | log that caps, TTL release and estimates derive from |
 * | shards          | one per queue shard        | sync cursor, tickets stored, admitted from it       |
 * | sessions        | one per redeemed admission | ticket id (unique: one session per admission), the  |
 * |                 | while it still counts      | redeeming key's thumbprint (jkt), admitted_at,      |
 * |                 | (legacy: no new rows since | started_at, ends_at, ended_at. Sessions now live in |
 * |                 | sessions left the object)  | the IssuanceSessions objects; the tick drops these  |
 * |                 |                            | rows as they run out                                |
 * | lotteries       | one per event ever         | the event's window, seed (secret until revealed),   |
 * |                 | scheduled, kept for good   | commitment, revealed_at, withdrawn_at, entrants     |
 * |                 | (id = scheduling order)    | (JSON ranges); replaced table `lottery` (one row)   |
 * | outflow_state   | at most one                | adaptive admission rate, when last decided, outcome |
 * Backend health reports are kept in memory only: they matter for seconds.
 *
 * Rooms stored before the schema was versioned have no schema_version table, so every step runs on
 * them once: step 1 only creates what is missing, steps 2 and 3 are the two upgrades those rooms may
 * still need (each checks before it changes anything), so a room of any age loads unchanged.
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE IF NOT EXISTS room (
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
   );`,
  // Rooms created before sessions recorded the redeeming key: add the column (null for old rows).
  (sql) => {
    if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM pragma_table_info('sessions') WHERE name = 'jkt'").one().n === 0) {
      sql.exec("ALTER TABLE sessions ADD COLUMN jkt TEXT");
    }
  },
  // Rooms created when only the scheduled event's lottery was kept (table `lottery`, one row that the
  // next event overwrote): its row becomes the first record of `lotteries`.
  (sql) => {
    if (sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'lottery'").one().n > 0) {
      sql.exec(
        `INSERT INTO lotteries (prequeue_start, event_start, seed, commitment, committed_at, revealed_at, withdrawn_at, entrants)
         SELECT window_from, window_to, seed, commitment, committed_at, revealed_at, NULL, entrants FROM lottery`,
      );
      sql.exec("DROP TABLE lottery");
    }
  },
];

/** The room in memory: its books (src/admission/room-books.ts) plus what only the object keeps. */
export interface RoomState extends RoomBooks {
  name: string;
  config: RoomConfig;
  /**
   * Sessions recorded here before sessions moved to the IssuanceSessions objects: still counted until
   * they run out (their ends are no longer heard here, so they count until `endsAt`: never under the
   * cap). Nothing adds rows now.
   */
  sessions: Map<string, StoredSession>;
  /**
   * The IssuanceSessions objects' counts for this room, as the last tick pulled them (memory only: null
   * after a restart until the next tick; the statistics pull their own).
   */
  sessionCounts: SessionCounts | null;
  /** The tick time those counts were taken at (null with them). */
  sessionCountsAt: number | null;
  lastTickError: string | null;
  /** Every event's lottery, in scheduling order (see currentLottery). */
  lotteries: LotteryRecord[];
  outflow: OutflowState;
  /** Register reads reported by isolates over the last WINDOW_MS (memory only). */
  health: HealthSample[];
}

/** A session as the coordinator kept it (legacy rows): with the key that redeemed it. */
export type StoredSession = SessionRecord & { readonly jkt: string | null };

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

interface TickRow {
  at: number;
  span: number;
  admitted: number;
  frontier_a: number;
  frontier_b: number;
  saturated: number;
  [key: string]: SqlStorageValue;
}

interface SessionRow {
  ticket_id: string;
  admitted_at: number;
  started_at: number;
  ends_at: number;
  ended_at: number | null;
  jkt: string | null;
  [key: string]: SqlStorageValue;
}

interface LotteryRow {
  id: number;
  prequeue_start: number;
  event_start: number;
  seed: string;
  commitment: string;
  committed_at: number;
  revealed_at: number | null;
  withdrawn_at: number | null;
  entrants: string | null;
  [key: string]: SqlStorageValue;
}

export class CoordinatorStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
  }

  /**
   * Whether this room was ever created. A room that was not leaves no storage behind: asking about an
   * unknown room name (a typo, someone probing names) must not materialise a database per name, so
   * nothing (not even schema_version) is written before `create`.
   */
  exists(): boolean {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'room'").one().n > 0;
  }

  /** The stored room, its schema brought up to date first; null if it was never created. */
  load(): RoomState | null {
    if (!this.exists()) return null;
    this.#migrate();
    return this.#read();
  }

  create(name: string, config: RoomConfig): RoomState {
    this.#migrate();
    this.#sql.exec(
      `INSERT INTO room (id, name, config, frontier_a, frontier_b, baseline_a, baseline_b, tokens, last_refill, admitted_total)
       VALUES (1, ?, ?, ?, ?, ?, ?, 0, NULL, 0)`,
      name,
      JSON.stringify(config),
      ORIGIN.a,
      ORIGIN.b,
      ORIGIN.a,
      ORIGIN.b,
    );
    return this.#read()!;
  }

  #migrate(): void {
    this.#storage.transactionSync(() => migrate(this.#sql, MIGRATIONS));
  }

  #read(): RoomState | null {
    const row = this.#sql.exec<RoomRow>("SELECT * FROM room WHERE id = 1").toArray()[0];
    if (!row) return null;
    const config = { ...DEFAULT_ROOM_CONFIG, ...(JSON.parse(row.config) as Partial<RoomConfig>) };
    const counts: SecondCounts = new Map();
    for (const r of this.#sql.exec<{ second: number; n: number }>("SELECT second, n FROM waiting_seconds")) counts.set(r.second, r.n);
    const log = this.#sql
      .exec<TickRow>("SELECT * FROM ticks ORDER BY at")
      .toArray()
      .map((t) => ({
        at: t.at,
        span: t.span,
        admitted: t.admitted,
        frontier: { a: t.frontier_a, b: t.frontier_b },
        saturated: t.saturated === 1,
      }));
    const shards: ShardBooks[] = Array.from({ length: config.shards }, () => ({ cursor: 0, total: 0, admitted: 0 }));
    for (const s of this.#sql.exec<{ shard: number; cursor: number; total: number; admitted: number }>("SELECT * FROM shards")) {
      if (s.shard < shards.length) shards[s.shard] = { cursor: s.cursor, total: s.total, admitted: s.admitted };
    }
    const sessions = new Map<string, StoredSession>();
    for (const r of this.#sql.exec<SessionRow>("SELECT * FROM sessions")) sessions.set(r.ticket_id, sessionOf(r));
    const lotteries = this.#sql.exec<LotteryRow>("SELECT * FROM lotteries ORDER BY id").toArray().map(lotteryOf);
    const o = this.#sql
      .exec<{ rate: number; decided_at: number | null; last: string }>("SELECT * FROM outflow_state WHERE id = 1")
      .toArray()[0];
    const outflow: OutflowState = o
      ? { rate: o.rate, decidedAt: o.decided_at, last: o.last as OutflowState["last"] }
      : initialOutflow(config.outflow, config.new_users_per_minute);
    return {
      lotteries,
      outflow,
      health: [],
      sessions,
      sessionCounts: null,
      sessionCountsAt: null,
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

  saveConfig(config: RoomConfig): void {
    this.#sql.exec("UPDATE room SET config = ? WHERE id = 1", JSON.stringify(config));
  }

  /** The per-shard books are dropped when the shard count changes (only an empty room may). */
  clearShards(): void {
    this.#sql.exec("DELETE FROM shards");
  }

  /** Stores a new lottery record; returns its id (its place in scheduling order). */
  addLottery(lottery: Omit<LotteryRecord, "id">): number {
    return this.#sql
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
      .one().id;
  }

  /** A record's outcome (revealed, withdrawn): its window, seed and commitment never change. */
  updateLottery(lottery: LotteryRecord): void {
    this.#sql.exec(
      "UPDATE lotteries SET revealed_at = ?, withdrawn_at = ?, entrants = ? WHERE id = ?",
      lottery.revealedAt,
      lottery.withdrawnAt,
      lottery.entrants ? JSON.stringify(lottery.entrants) : null,
      lottery.id,
    );
  }

  saveOutflow(outflow: OutflowState): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO outflow_state (id, rate, decided_at, last) VALUES (1, ?, ?, ?)",
      outflow.rate,
      outflow.decidedAt,
      outflow.last,
    );
  }

  /** Runs `write` in one synchronous storage transaction: if it throws, nothing it wrote is kept. */
  inTransaction<T>(write: () => T): T {
    return this.#storage.transactionSync(write);
  }

  /**
   * A tick's outcome, already folded into `room` in memory, is written in two steps that the tick runs
   * inside one `inTransaction` (src/admission/coordinator-tick.ts apply), so that together they
   * are all or nothing. First step: the waiting seconds it touched and its log record (and the log's
   * expired head).
   */
  writeTickLog(room: RoomState, touched: Iterable<number>, record: TickRecord): void {
    for (const second of touched) {
      const n = room.counts.get(second);
      if (n === undefined) this.#sql.exec("DELETE FROM waiting_seconds WHERE second = ?", second);
      else this.#sql.exec("INSERT OR REPLACE INTO waiting_seconds (second, n) VALUES (?, ?)", second, n);
    }
    this.#sql.exec(
      "INSERT OR REPLACE INTO ticks (at, span, admitted, frontier_a, frontier_b, saturated) VALUES (?, ?, ?, ?, ?, ?)",
      record.at,
      record.span,
      record.admitted,
      record.frontier.a,
      record.frontier.b,
      record.saturated ? 1 : 0,
    );
    this.#sql.exec("DELETE FROM ticks WHERE at < ?", room.log[0]?.at ?? record.at);
  }

  /** Second step (same transaction): the sessions the tick finished, the shards' cursors and the room row. */
  writeTickBooks(room: RoomState, finished: readonly string[]): void {
    for (const id of finished) this.#sql.exec("DELETE FROM sessions WHERE ticket_id = ?", id);
    room.shards.forEach((s, shard) =>
      this.#sql.exec(
        "INSERT OR REPLACE INTO shards (shard, cursor, total, admitted) VALUES (?, ?, ?, ?)",
        shard,
        s.cursor,
        s.total,
        s.admitted,
      ),
    );
    this.#sql.exec(
      `UPDATE room SET frontier_a = ?, frontier_b = ?, baseline_a = ?, baseline_b = ?, tokens = ?, last_refill = ?, admitted_total = ? WHERE id = 1`,
      room.frontier.a,
      room.frontier.b,
      room.baseline.a,
      room.baseline.b,
      room.budget.tokens,
      room.budget.lastRefillAt,
      room.admittedTotal,
    );
  }
}

function sessionOf(r: SessionRow): StoredSession {
  return { ticketId: r.ticket_id, admittedAt: r.admitted_at, startedAt: r.started_at, endsAt: r.ends_at, endedAt: r.ended_at, jkt: r.jkt };
}

function lotteryOf(l: LotteryRow): LotteryRecord {
  return {
    id: l.id,
    from: l.prequeue_start,
    to: l.event_start,
    seed: l.seed,
    commitment: l.commitment,
    committedAt: l.committed_at,
    revealedAt: l.revealed_at,
    withdrawnAt: l.withdrawn_at,
    entrants: l.entrants ? (JSON.parse(l.entrants) as LotteryRecord["entrants"]) : null,
  };
}
