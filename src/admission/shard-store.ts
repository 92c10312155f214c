import { clock } from "../lib/clock";
import { migrate, type Migration } from "../storage/migrations";
import { lotteryStamp } from "./lottery";
import { tieBreaker, type OrderKey } from "./order-key";
import type { JoinRequest, ShardEntrants, ShardTicket, SyncReport, SyncRequest } from "./protocol";

/**
 * A QueueShard object's storage: its slice of the room's line, one row per ticket.
 *
 * Storage schema (SQLite, versioned in table schema_version by src/storage/migrations.ts):
 * | table   | row                                   | written when                              |
 * |---------|---------------------------------------|-------------------------------------------|
 * | tickets | seq (autoincrement), person (unique   | a person joins, or re-joins after their   |
 * |         | pseudonym), jkt (first device), a     | admission expired (old row replaced)      |
 * |         | (order stamp), joined_at              |                                           |
 * Index tickets_by_order (a, seq) serves `sync`'s "first keys after the frontier" as a range scan.
 * One place per person: the same person from a second device gets the same row back.
 */
const MIGRATIONS: readonly Migration[] = [
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

const SHARD_STRIDE = 2 ** 32;

export class ShardStore {
  readonly #storage: DurableObjectStorage;
  readonly #sql: SqlStorage;
  /** Arrival stamps never go backwards within a shard, so seq order is order-key order here. */
  #lastStamp: number;
  /** Kept in memory so a sync never counts the whole table. */
  #total: number;
  #maxSeq: number;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    this.#sql = storage.sql;
    storage.transactionSync(() => migrate(this.#sql, MIGRATIONS));
    const row = this.#sql
      .exec<{ a: number | null; seq: number | null; n: number }>("SELECT max(a) AS a, max(seq) AS seq, count(*) AS n FROM tickets")
      .one();
    this.#lastStamp = row.a ?? 0;
    this.#maxSeq = row.seq ?? 0;
    this.#total = row.n;
  }

  /** The person's ticket, if they hold one; never creates. */
  find(shard: number, person: string, syncedSeq: number): ShardTicket | null {
    const row = this.#sql
      .exec<{ seq: number; a: number; joined_at: number }>("SELECT seq, a, joined_at FROM tickets WHERE person = ?", person)
      .toArray()[0];
    if (!row) return null;
    const unsyncedAhead = this.#countBetween(syncedSeq, row.seq);
    return { seq: row.seq, key: { a: row.a, b: tieBreaker(shard, row.seq) }, joinedAt: row.joined_at, created: false, unsyncedAhead };
  }

  /**
   * Replaces the person's ticket `expiredSeq` with a new one at the back, in one transaction; if the
   * person holds another ticket by now (a concurrent re-join won), that one is returned.
   */
  replace(req: JoinRequest, expiredSeq: number): ShardTicket {
    return this.#storage.transactionSync(() => {
      const current = this.#sql.exec<{ seq: number }>("SELECT seq FROM tickets WHERE person = ?", req.person).toArray()[0];
      if (current && current.seq !== expiredSeq) return this.find(req.shard, req.person, req.syncedSeq) ?? this.insert(req);
      // (The old row was admitted long ago, so removing it changes no one's count of people ahead.)
      if (current) {
        this.#sql.exec("DELETE FROM tickets WHERE person = ?", req.person);
        this.#total--;
      }
      return this.insert(req);
    });
  }

  insert(req: JoinRequest): ShardTicket {
    const now = clock.now();
    const stamp = req.stamp;
    let a: number;
    if (stamp.kind === "fifo") {
      a = Math.max(now, this.#lastStamp);
    } else if (stamp.kind === "lottery") {
      a = stamp.from + Math.floor(stamp.rank * (stamp.to - stamp.from));
    } else {
      a = stamp.from; // replaced below, once the ticket id (its seq) is known
    }
    // The insert and the pre-queue stamp's update run without yielding (the draw is synchronous), so no
    // sync or count ever sees the placeholder.
    const { seq } = this.#sql
      .exec<{ seq: number }>(
        "INSERT INTO tickets (person, jkt, a, joined_at) VALUES (?, ?, ?, ?) RETURNING seq",
        req.person,
        req.jkt,
        a,
        now,
      )
      .one();
    if (stamp.kind === "prequeue") {
      a = lotteryStamp(stamp.seed, req.shard, seq, stamp.from, stamp.to);
      this.#sql.exec("UPDATE tickets SET a = ? WHERE seq = ?", a, seq);
    }
    this.#lastStamp = Math.max(this.#lastStamp, a);
    this.#total++;
    this.#maxSeq = seq;
    const unsyncedAhead = this.#countBetween(req.syncedSeq, seq);
    return { seq, key: { a, b: tieBreaker(req.shard, seq) }, joinedAt: now, created: true, unsyncedAhead };
  }

  /**
   * Tickets of this shard the caller's snapshot does not count yet (seq > syncedSeq) that stand ahead of
   * `key`: a primary-key range scan over the unsynced rows only, which are few.
   */
  countUnsyncedAhead(shard: number, syncedSeq: number, key: OrderKey): number {
    // Ahead means a smaller order key (a, shard·2³² + seq): with equal stamps, a lower shard is ahead.
    const floor = seqFloor(shard, key);
    return this.#sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE seq > ? AND (a, seq) < (?, ?)", syncedSeq, key.a, floor)
      .one().n;
  }

  /** Tickets with seq strictly between `after` and `before` (an index range count, usually tiny). */
  #countBetween(after: number, before: number): number {
    if (before - after <= 1) return 0;
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM tickets WHERE seq > ? AND seq < ?", after, before).one().n;
  }

  /**
   * The pre-queue's entrants in this shard: tickets stamped inside [from, to), as a seq range and the
   * seqs inside it that are not entrants (a FIFO join that landed between two late entrants; rare, and
   * capped). Published with the revealed seed so anyone can recompute the draw.
   */
  entrants(shard: number, from: number, to: number): ShardEntrants {
    const r = this.#sql
      .exec<{ first: number | null; last: number | null; n: number }>(
        "SELECT min(seq) AS first, max(seq) AS last, count(*) AS n FROM tickets WHERE a >= ? AND a < ?",
        from,
        to,
      )
      .one();
    if (r.first === null || r.last === null) return { shard, first: 1, last: 0, excluded: [], count: 0 };
    const excluded = this.#sql
      .exec<{ seq: number }>(
        "SELECT seq FROM tickets WHERE seq BETWEEN ? AND ? AND NOT (a >= ? AND a < ?) LIMIT 10000",
        r.first,
        r.last,
        from,
        to,
      )
      .toArray()
      .map((x) => x.seq);
    return { shard, first: r.first, last: r.last, excluded, count: r.n };
  }

  sync(req: SyncRequest): SyncReport {
    // Keys after the frontier, within this shard: (a, seq) > (frontier.a, seq floor derived from b).
    const heads = this.#sql
      .exec<{ a: number; seq: number }>(
        "SELECT a, seq FROM tickets WHERE (a, seq) > (?, ?) AND a < ? ORDER BY a, seq LIMIT ?",
        req.after.a,
        seqFloor(req.shard, req.after),
        req.eligibleBefore,
        req.limit,
      )
      .toArray()
      .map((r) => ({ a: r.a, b: tieBreaker(req.shard, r.seq) }));
    const arrivals = this.#sql
      .exec<{ s: number; n: number }>("SELECT a / 1000 AS s, count(*) AS n FROM tickets WHERE seq > ? GROUP BY s", req.since)
      .toArray()
      .map((r) => ({ second: r.s, count: r.n }));
    return { heads, arrivals, cursor: this.#maxSeq, total: this.#total };
  }
}

/** The seq bound inside this shard that corresponds to an order key's tie-breaker `b`. */
function seqFloor(shard: number, key: OrderKey): number {
  return Math.min(SHARD_STRIDE, Math.max(-1, key.b - shard * SHARD_STRIDE));
}
