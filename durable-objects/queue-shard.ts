import { DurableObject } from "cloudflare:workers";
import { tieBreaker, type OrderKey } from "../src/admission/order-key";
import type { Env } from "../src/config/env";
import { clock } from "../src/lib/clock";
import { lotteryStamp, type EntrantRange } from "../src/admission/lottery";

/**
 * QueueShard: one slice of a room's line. Joins are spread over a room's shards by a hash of the device
 * key, so no single object takes every arrival (each has a soft limit of about 1,000 requests/s).
 *
 * A shard stamps each newcomer with an order key and stores one row per ticket; it knows nothing of
 * admission. Every tick the room's coordinator asks each shard (`sync`) for the first keys after the
 * frontier and for the arrivals it has not seen yet, counted per second.
 *
 * Storage schema (SQLite, versioned in table schema_version; see MIGRATIONS):
 * | table   | row                                   | written when                              |
 * |---------|---------------------------------------|-------------------------------------------|
 * | tickets | seq (autoincrement), person (unique   | a person joins, or re-joins after their   |
 * |         | pseudonym), jkt (first device), a     | admission expired (old row replaced)      |
 * |         | (order stamp), joined_at              |                                           |
 * Index tickets_by_order (a, seq) serves `sync`'s "first keys after the frontier" as a range scan.
 * One place per person: the same person from a second device gets the same row back.
 */
export interface JoinRequest {
  readonly shard: number;
  /** The person's pseudonym (src/identity/pseudonym.ts): the line holds one place per person. */
  readonly person: string;
  /** The joining device's key thumbprint. */
  readonly jkt: string;
  /** This shard's highest seq the caller's snapshot already counts. */
  readonly syncedSeq: number;
  /**
   * How to stamp a newcomer (src/admission/event.ts StampPlan): FIFO (arrival time), a keyed draw
   * `rank` in [0, 1) placed inside [from, to) (random rooms), or a pre-queue entrant, whose point the
   * shard draws from the event's lottery seed and the new ticket's id (src/admission/lottery.ts).
   */
  readonly stamp:
    | { readonly kind: "fifo" }
    | { readonly kind: "lottery"; readonly from: number; readonly to: number; readonly rank: number }
    | { readonly kind: "prequeue"; readonly from: number; readonly to: number; readonly seed: string };
}

export interface ShardTicket {
  readonly seq: number;
  readonly key: OrderKey;
  readonly joinedAt: number;
  /** False when the device already held a ticket in this room: the same place is returned. */
  readonly created: boolean;
  /**
   * Tickets of this shard ahead of this one and after `syncedSeq`: people the caller's snapshot does
   * not count yet (the edge adds them, and estimates the other shards' likewise).
   */
  readonly unsyncedAhead: number;
}

export interface SyncRequest {
  readonly shard: number;
  /** The room's admission frontier: report keys after it. */
  readonly after: OrderKey;
  readonly limit: number;
  readonly eligibleBefore: number;
  /** Highest seq already reported; arrivals after it are counted. */
  readonly since: number;
}

export interface SyncReport {
  readonly heads: OrderKey[];
  /** Tickets with seq > since, counted per second of order stamp. */
  readonly arrivals: { second: number; count: number }[];
  /** Highest seq now stored. */
  readonly cursor: number;
  readonly total: number;
}

const SHARD_STRIDE = 2 ** 32;

/** Schema steps, applied in order once each; table schema_version records how many ran. */
const MIGRATIONS = [
  `CREATE TABLE IF NOT EXISTS tickets (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     jkt TEXT NOT NULL UNIQUE,
     a INTEGER NOT NULL,
     joined_at INTEGER NOT NULL
   );
   CREATE INDEX IF NOT EXISTS tickets_by_order ON tickets (a, seq);`,
  // v2: one place per person instead of per device. Rows from v1 (device-only) keep their jkt as
  // their person key, so nobody's place is lost.
  `CREATE TABLE tickets_v2 (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     person TEXT NOT NULL UNIQUE,
     jkt TEXT NOT NULL,
     a INTEGER NOT NULL,
     joined_at INTEGER NOT NULL
   );
   INSERT INTO tickets_v2 (seq, person, jkt, a, joined_at) SELECT seq, jkt, jkt, a, joined_at FROM tickets;
   DROP TABLE tickets;
   ALTER TABLE tickets_v2 RENAME TO tickets;
   CREATE INDEX IF NOT EXISTS tickets_by_order ON tickets (a, seq);`,
];

// (Durable Objects' SQLite refuses PRAGMA user_version, hence a table.)
function migrate(storage: DurableObjectStorage): void {
  storage.sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)");
  const row = storage.sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const version = row?.version ?? 0;
  if (version >= MIGRATIONS.length) return;
  storage.transactionSync(() => {
    for (let v = version; v < MIGRATIONS.length; v++) storage.sql.exec(MIGRATIONS[v]!);
    storage.sql.exec("INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)", MIGRATIONS.length);
  });
}

export class QueueShard extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Arrival stamps never go backwards within a shard, so seq order is order-key order here. */
  private lastStamp = 0;
  /** Kept in memory so a sync never counts the whole table. */
  private total = 0;
  private maxSeq = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(ctx.storage);
    const row = this.sql
      .exec<{ a: number | null; seq: number | null; n: number }>("SELECT max(a) AS a, max(seq) AS seq, count(*) AS n FROM tickets")
      .one();
    this.lastStamp = row.a ?? 0;
    this.maxSeq = row.seq ?? 0;
    this.total = row.n;
  }

  /** Idempotent per person: someone who already holds a place gets the same one back, from any device. */
  join(req: JoinRequest): ShardTicket {
    return this.lookup(req.shard, req.person, req.syncedSeq) ?? this.insert(req);
  }

  /** The person's ticket, if they hold one; never creates. */
  lookup(shard: number, person: string, syncedSeq: number): ShardTicket | null {
    const row = this.sql
      .exec<{ seq: number; a: number; joined_at: number }>("SELECT seq, a, joined_at FROM tickets WHERE person = ?", person)
      .toArray()[0];
    if (!row) return null;
    const unsyncedAhead = this.countBetween(syncedSeq, row.seq);
    return { seq: row.seq, key: { a: row.a, b: tieBreaker(shard, row.seq) }, joinedAt: row.joined_at, created: false, unsyncedAhead };
  }

  /**
   * Give a device whose admission expired a new place at the back. `expiredSeq` makes it a
   * compare-and-set: two concurrent re-joins from one device replace the old ticket once.
   */
  requeue(req: JoinRequest, expiredSeq: number): ShardTicket {
    return this.ctx.storage.transactionSync(() => {
      const current = this.sql.exec<{ seq: number }>("SELECT seq FROM tickets WHERE person = ?", req.person).toArray()[0];
      if (current && current.seq !== expiredSeq) return this.join(req);
      // (The old row was admitted long ago, so removing it changes no one's count of people ahead.)
      if (current) {
        this.sql.exec("DELETE FROM tickets WHERE person = ?", req.person);
        this.total--;
      }
      return this.insert(req);
    });
  }

  private insert(req: JoinRequest): ShardTicket {
    const now = clock.now();
    const stamp = req.stamp;
    let a: number;
    if (stamp.kind === "fifo") {
      a = Math.max(now, this.lastStamp);
    } else if (stamp.kind === "lottery") {
      a = stamp.from + Math.floor(stamp.rank * (stamp.to - stamp.from));
    } else {
      a = stamp.from; // replaced below, once the ticket id (its seq) is known
    }
    // The insert and the pre-queue stamp's update run without yielding (the draw is synchronous), so no
    // sync or count ever sees the placeholder.
    const { seq } = this.sql
      .exec<{ seq: number }>("INSERT INTO tickets (person, jkt, a, joined_at) VALUES (?, ?, ?, ?) RETURNING seq", req.person, req.jkt, a, now)
      .one();
    if (stamp.kind === "prequeue") {
      a = lotteryStamp(stamp.seed, req.shard, seq, stamp.from, stamp.to);
      this.sql.exec("UPDATE tickets SET a = ? WHERE seq = ?", a, seq);
    }
    this.lastStamp = Math.max(this.lastStamp, a);
    this.total++;
    this.maxSeq = seq;
    const unsyncedAhead = this.countBetween(req.syncedSeq, seq);
    return { seq, key: { a, b: tieBreaker(req.shard, seq) }, joinedAt: now, created: true, unsyncedAhead };
  }

  /**
   * Tickets of this shard the caller's snapshot does not count yet (seq > syncedSeq) that stand ahead of
   * `key`: a primary-key range scan over the unsynced rows only, which are few.
   */
  countUnsyncedAhead(shard: number, syncedSeq: number, key: OrderKey): number {
    // Ahead means a smaller order key (a, shard·2³² + seq): with equal stamps, a lower shard is ahead.
    const floor = Math.min(SHARD_STRIDE, Math.max(-1, key.b - shard * SHARD_STRIDE));
    return this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE seq > ? AND (a, seq) < (?, ?)", syncedSeq, key.a, floor)
      .one().n;
  }

  /** Tickets with seq strictly between `after` and `before` (an index range count, usually tiny). */
  private countBetween(after: number, before: number): number {
    if (before - after <= 1) return 0;
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE seq > ? AND seq < ?", after, before).one().n;
  }

  /**
   * The pre-queue's entrants in this shard: tickets stamped inside [from, to), as a seq range and the
   * seqs inside it that are not entrants (a FIFO join that landed between two late entrants; rare, and
   * capped). Published with the revealed seed so anyone can recompute the draw.
   */
  lotteryEntrants(shard: number, from: number, to: number): EntrantRange & { count: number } {
    const r = this.sql
      .exec<{ first: number | null; last: number | null; n: number }>(
        "SELECT min(seq) AS first, max(seq) AS last, count(*) AS n FROM tickets WHERE a >= ? AND a < ?",
        from,
        to,
      )
      .one();
    if (r.first === null || r.last === null) return { shard, first: 1, last: 0, excluded: [], count: 0 };
    const excluded = this.sql
      .exec<{ seq: number }>("SELECT seq FROM tickets WHERE seq BETWEEN ? AND ? AND NOT (a >= ? AND a < ?) LIMIT 10000", r.first, r.last, from, to)
      .toArray()
      .map((x) => x.seq);
    return { shard, first: r.first, last: r.last, excluded, count: r.n };
  }

  sync(req: SyncRequest): SyncReport {
    // Keys after the frontier, within this shard: (a, seq) > (frontier.a, seq floor derived from b).
    const floor = Math.min(SHARD_STRIDE, Math.max(-1, req.after.b - req.shard * SHARD_STRIDE));
    const heads = this.sql
      .exec<{ a: number; seq: number }>(
        "SELECT a, seq FROM tickets WHERE (a, seq) > (?, ?) AND a < ? ORDER BY a, seq LIMIT ?",
        req.after.a,
        floor,
        req.eligibleBefore,
        req.limit,
      )
      .toArray()
      .map((r) => ({ a: r.a, b: tieBreaker(req.shard, r.seq) }));
    const arrivals = this.sql
      .exec<{ s: number; n: number }>("SELECT a / 1000 AS s, count(*) AS n FROM tickets WHERE seq > ? GROUP BY s", req.since)
      .toArray()
      .map((r) => ({ second: r.s, count: r.n }));
    return { heads, arrivals, cursor: this.maxSeq, total: this.total };
  }
}
