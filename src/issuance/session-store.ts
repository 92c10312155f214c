import { base64url, type JWK } from "jose";
import { migrate, type Migration } from "../storage/migrations";
import type { SessionEndReason, SessionLimits, SessionRecord } from "./session-rules";

/**
 * The IssuanceSessions object's storage: issuance sessions and the one-time values that belong to them
 * (pre-authorized code ids, DPoP proof ids, notification ids).
 *
 * Storage schema (SQLite):
 * | table    | row                                   | written when                                    |
 * |----------|---------------------------------------|-------------------------------------------------|
 * | sessions | one per session: room, ticket, bound  | the token endpoint opens it; every credential   |
 * |          | key, end, limits, reads, issued (JSON)| request and the ending notification update it   |
 * |          | and what ended it                     | (ended_by, end_confirmed: IssuanceSessions.notify)|
 * | used     | one per one-time value, until expiry  | a code, DPoP proof or notification id is used   |
 * | person_  | one per (room, person pseudonym): the | a token endpoint or the authorization flow's    |
 * | claims   | admission whose session the person's  | identity step claims the person (claimPerson);  |
 * |          | one session is, its key once known    | forgotten once past its session's end           |
 * | deferred | one per deferred credential request:  | the credential endpoint defers (register busy); |
 * |          | configuration, proof keys (JSON),     | leased by a deferred poll, deleted when issued  |
 * |          | lease end                             | or denied, or with its session                  |
 * A session row is forgotten a minute after its end time: its access tokens expire with it, and a fresh
 * code for the same admission is refused by the coordinator (its admission is spent).
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY, room TEXT NOT NULL, ticket_id TEXT NOT NULL, jkt TEXT NOT NULL,
     ends_at INTEGER NOT NULL, ended_at INTEGER, end_reason TEXT,
     per_configuration INTEGER NOT NULL, max_reads INTEGER NOT NULL, reads INTEGER NOT NULL, issued TEXT NOT NULL,
     ended_by TEXT, end_confirmed INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX sessions_by_end ON sessions (ends_at);
   CREATE TABLE used (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
   CREATE INDEX used_by_expiry ON used (expires_at);`,
  `CREATE TABLE deferred (
     id TEXT PRIMARY KEY, session_id TEXT NOT NULL, configuration TEXT NOT NULL, keys TEXT NOT NULL,
     count INTEGER NOT NULL, leased_until INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX deferred_by_session ON deferred (session_id);`,
  // v3: one person, one session per room across both flows (these objects are also sharded by person
  // pseudonym for this table: src/issuance/person-claim.ts).
  `CREATE TABLE person_claims (
     room TEXT NOT NULL, person TEXT NOT NULL, ticket_id TEXT NOT NULL, a INTEGER NOT NULL, b INTEGER NOT NULL,
     jkt TEXT, expires_at INTEGER NOT NULL, PRIMARY KEY (room, person)
   );
   CREATE INDEX person_claims_by_expiry ON person_claims (expires_at);`,
];

/** The admission a person's one session belongs to (IssuanceSessions.claimPerson). */
export interface PersonClaim {
  readonly ticketId: string;
  readonly key: { readonly a: number; readonly b: number };
  /** The key the session is bound to, once a token endpoint has seen it (or a PAR's dpop_jkt named it). */
  readonly jkt: string | null;
  readonly expiresAt: number;
}

interface ClaimRow {
  ticket_id: string;
  a: number;
  b: number;
  jkt: string | null;
  expires_at: number;
  [key: string]: SqlStorageValue;
}

/** How long a session row outlives its end time (so late calls hear "ended", not "unknown"). */
const FORGET_AFTER_MS = 60_000;

interface SessionRow {
  id: string;
  room: string;
  ticket_id: string;
  jkt: string;
  ends_at: number;
  ended_at: number | null;
  end_reason: string | null;
  per_configuration: number;
  max_reads: number;
  reads: number;
  issued: string;
  ended_by: string | null;
  end_confirmed: number;
  [key: string]: SqlStorageValue;
}

export class SessionStore {
  readonly #sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    migrate(sql, MIGRATIONS);
  }

  get(id: string): SessionRecord | null {
    const row = this.#sql.exec<SessionRow>("SELECT * FROM sessions WHERE id = ?", id).toArray()[0];
    return row ? fromRow(row) : null;
  }

  create(s: { id: string; room: string; ticketId: string; jkt: string; endsAt: number; limits: SessionLimits }): SessionRecord {
    this.#sql.exec(
      `INSERT INTO sessions (id, room, ticket_id, jkt, ends_at, ended_at, end_reason, per_configuration, max_reads, reads, issued)
       VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, 0, '{}')`,
      s.id,
      s.room,
      s.ticketId,
      s.jkt,
      s.endsAt,
      s.limits.credentialsPerConfiguration,
      s.limits.registerReads,
    );
    return this.get(s.id)!;
  }

  /** Writes the counters of a decided session (reads, issued). */
  saveCounters(s: SessionRecord): void {
    this.#sql.exec("UPDATE sessions SET reads = ?, issued = ? WHERE id = ?", s.registerReads, JSON.stringify(s.issued), s.id);
  }

  end(id: string, reason: SessionEndReason, at: number, byNotification: string | null): void {
    this.#sql.exec(
      "UPDATE sessions SET ended_at = ?, end_reason = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL",
      at,
      reason,
      byNotification,
      id,
    );
  }

  confirmEnd(id: string): void {
    this.#sql.exec("UPDATE sessions SET end_confirmed = 1 WHERE id = ?", id);
  }

  /** Whether a one-time value is taken (and not yet past its expiry). */
  isUsed(id: string, now: number): boolean {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM used WHERE id = ? AND expires_at > ?", id, now).one().n > 0;
  }

  markUsed(id: string, expiresAt: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO used (id, expires_at) VALUES (?, ?)", id, expiresAt);
  }

  /** The person's live claim in `room`, if any. */
  claimOf(room: string, person: string, now: number): PersonClaim | null {
    const row = this.#sql
      .exec<ClaimRow>(
        "SELECT ticket_id, a, b, jkt, expires_at FROM person_claims WHERE room = ? AND person = ? AND expires_at > ?",
        room,
        person,
        now,
      )
      .toArray()[0];
    return row ? { ticketId: row.ticket_id, key: { a: row.a, b: row.b }, jkt: row.jkt, expiresAt: row.expires_at } : null;
  }

  /** Writes the person's claim (a new one replaces an expired row). */
  putClaim(room: string, person: string, c: PersonClaim): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO person_claims (room, person, ticket_id, a, b, jkt, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      room,
      person,
      c.ticketId,
      c.key.a,
      c.key.b,
      c.jkt,
      c.expiresAt,
    );
  }

  /** A deferred credential request of `sessionId`, under a fresh random id. */
  addDeferred(d: { sessionId: string; configuration: string; keys: readonly JWK[] }): string {
    const id = base64url.encode(crypto.getRandomValues(new Uint8Array(18)));
    this.#sql.exec(
      "INSERT INTO deferred (id, session_id, configuration, keys, count, leased_until) VALUES (?, ?, ?, ?, ?, 0)",
      id,
      d.sessionId,
      d.configuration,
      JSON.stringify(d.keys),
      d.keys.length,
    );
    return id;
  }

  /** The deferred request `id` if it belongs to `sessionId` (another session's id is not found). */
  getDeferred(sessionId: string, id: string): DeferredRecord | null {
    const row = this.#sql.exec<DeferredRow>("SELECT * FROM deferred WHERE id = ? AND session_id = ?", id, sessionId).toArray()[0];
    return row
      ? {
          id: row.id,
          configuration: row.configuration,
          keys: JSON.parse(row.keys) as JWK[],
          count: row.count,
          leasedUntil: row.leased_until,
        }
      : null;
  }

  leaseDeferred(id: string, until: number): void {
    this.#sql.exec("UPDATE deferred SET leased_until = ? WHERE id = ?", until, id);
  }

  deleteDeferred(id: string): void {
    this.#sql.exec("DELETE FROM deferred WHERE id = ?", id);
  }

  /** Drops what can no longer matter; the number of rows left (0: the alarm can stop). */
  sweep(now: number): number {
    this.#sql.exec("DELETE FROM used WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM sessions WHERE ends_at + ? <= ?", FORGET_AFTER_MS, now);
    this.#sql.exec("DELETE FROM deferred WHERE session_id NOT IN (SELECT id FROM sessions)");
    this.#sql.exec("DELETE FROM person_claims WHERE expires_at <= ?", now);
    return this.#sql
      .exec<{ n: number }>(
        "SELECT (SELECT count(*) FROM used) + (SELECT count(*) FROM sessions) + (SELECT count(*) FROM deferred) + (SELECT count(*) FROM person_claims) AS n",
      )
      .one().n;
  }
}

export interface DeferredRecord {
  readonly id: string;
  readonly configuration: string;
  readonly keys: readonly JWK[];
  readonly count: number;
  /** Until when a poll holds it (reading the register); 0 when free. */
  readonly leasedUntil: number;
}

interface DeferredRow {
  id: string;
  session_id: string;
  configuration: string;
  keys: string;
  count: number;
  leased_until: number;
  [key: string]: SqlStorageValue;
}

function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id,
    room: r.room,
    ticketId: r.ticket_id,
    jkt: r.jkt,
    endsAt: r.ends_at,
    endedAt: r.ended_at,
    endReason: r.end_reason as SessionEndReason | null,
    endedBy: r.ended_by,
    endConfirmed: r.end_confirmed === 1,
    limits: { credentialsPerConfiguration: r.per_configuration, registerReads: r.max_reads },
    registerReads: r.reads,
    issued: JSON.parse(r.issued) as Record<string, number>,
  };
}
