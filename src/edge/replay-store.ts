import { migrate, type Migration } from "../storage/migrations";

/**
 * A ReplayGuard object's storage: one-time values, attempt counters and handoff state, each row kept
 * until its own expiry and then swept.
 *
 * Storage schema (SQLite, versioned in table schema_version by src/storage/migrations.ts):
 * | table            | row                                             | written when                                       |
 * |------------------|-------------------------------------------------|----------------------------------------------------|
 * | seen             | id (primary key), expires_at                    | a value is claimed the first time                  |
 * | attempts         | id (primary key), n, expires_at                 | an attempt is reserved (`reserve`)                 |
 * | handoff_pending  | handoff, jkt (primary key), code, seq, expires_at | a wallet asks a handoff's token (`handoffRequest`) |
 * | handoff_approved | handoff (primary key), jkt, code, expires_at    | the page approves a wallet (`handoffApprove`)      |
 *
 * Guards stored before the schema was versioned have no schema_version table: step 1 only creates what
 * is missing (older guards lack the attempts and handoff tables), so they load unchanged.
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
   CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen (expires_at);
   CREATE TABLE IF NOT EXISTS attempts (id TEXT PRIMARY KEY, n INTEGER NOT NULL, expires_at INTEGER NOT NULL);
   CREATE TABLE IF NOT EXISTS handoff_pending (handoff TEXT NOT NULL, jkt TEXT NOT NULL, code TEXT NOT NULL, seq INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (handoff, jkt));
   CREATE TABLE IF NOT EXISTS handoff_approved (handoff TEXT PRIMARY KEY, jkt TEXT NOT NULL, code TEXT NOT NULL, expires_at INTEGER NOT NULL);`,
];

export class ReplayStore {
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#sql = storage.sql;
    storage.transactionSync(() => migrate(this.#sql, MIGRATIONS));
  }

  /** Whether `id` is claimed and not yet past its expiry. */
  isSeen(id: string, now: number): boolean {
    const row = this.#sql.exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE id = ?", id).toArray()[0];
    return row !== undefined && row.expires_at > now;
  }

  markSeen(id: string, expiresAt: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO seen (id, expires_at) VALUES (?, ?)", id, expiresAt);
  }

  /** The live attempt counter of `id`: how many were used, and until when it is kept (null: none live). */
  attempts(id: string, now: number): { n: number; expiresAt: number } | null {
    const row = this.#sql.exec<{ n: number; expires_at: number }>("SELECT n, expires_at FROM attempts WHERE id = ?", id).toArray()[0];
    return row !== undefined && row.expires_at > now ? { n: row.n, expiresAt: row.expires_at } : null;
  }

  saveAttempts(id: string, n: number, expiresAt: number): void {
    this.#sql.exec("INSERT OR REPLACE INTO attempts (id, n, expires_at) VALUES (?, ?, ?)", id, n, expiresAt);
  }

  /** The key the page approved for `handoff` (optionally: only if it showed `code`), if still kept. */
  approvedKey(handoff: string, now: number, code?: string): string | null {
    const row =
      code === undefined
        ? this.#sql
            .exec<{ jkt: string }>("SELECT jkt FROM handoff_approved WHERE handoff = ? AND expires_at > ?", handoff, now)
            .toArray()[0]
        : this.#sql
            .exec<{ jkt: string }>("SELECT jkt FROM handoff_approved WHERE handoff = ? AND code = ? AND expires_at > ?", handoff, code, now)
            .toArray()[0];
    return row?.jkt ?? null;
  }

  /** The code a pending wallet key was shown, if it is still pending. */
  pendingCode(handoff: string, jkt: string, now: number): string | null {
    return (
      this.#sql
        .exec<{ code: string }>("SELECT code FROM handoff_pending WHERE handoff = ? AND jkt = ? AND expires_at > ?", handoff, jkt, now)
        .toArray()[0]?.code ?? null
    );
  }

  /** The pending keys showing `code`. */
  pendingWithCode(handoff: string, code: string, now: number): string[] {
    return this.#sql
      .exec<{ jkt: string }>("SELECT jkt FROM handoff_pending WHERE handoff = ? AND code = ? AND expires_at > ?", handoff, code, now)
      .toArray()
      .map((r) => r.jkt);
  }

  /**
   * (Re)records a pending key with the next sequence number (not the time: requests in the same
   * millisecond, or under a frozen test clock, must still have an order), then keeps only the `keep`
   * most recently seen live keys of the handoff.
   */
  addPending(handoff: string, jkt: string, code: string, now: number, pendingUntil: number, keep: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO handoff_pending (handoff, jkt, code, seq, expires_at) VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM handoff_pending WHERE handoff = ?), ?)",
      handoff,
      jkt,
      code,
      handoff,
      pendingUntil,
    );
    this.#sql.exec(
      "DELETE FROM handoff_pending WHERE handoff = ? AND (expires_at <= ? OR jkt NOT IN (SELECT jkt FROM handoff_pending WHERE handoff = ? AND expires_at > ? ORDER BY seq DESC LIMIT ?))",
      handoff,
      now,
      handoff,
      now,
      keep,
    );
  }

  /** `jkt` becomes the handoff's approved key (replacing an earlier one) and stops being pending. */
  approve(handoff: string, jkt: string, code: string, approvedUntil: number): void {
    this.#sql.exec(
      "INSERT OR REPLACE INTO handoff_approved (handoff, jkt, code, expires_at) VALUES (?, ?, ?, ?)",
      handoff,
      jkt,
      code,
      approvedUntil,
    );
    this.#sql.exec("DELETE FROM handoff_pending WHERE handoff = ? AND jkt = ?", handoff, jkt);
  }

  /** Drops every row past its expiry; the number of rows left (0: the alarm can stop). */
  sweep(now: number): number {
    this.#sql.exec("DELETE FROM seen WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM attempts WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM handoff_pending WHERE expires_at <= ?", now);
    this.#sql.exec("DELETE FROM handoff_approved WHERE expires_at <= ?", now);
    return this.#sql
      .exec<{ n: number }>(
        "SELECT (SELECT count(*) FROM seen) + (SELECT count(*) FROM attempts) + (SELECT count(*) FROM handoff_pending) + (SELECT count(*) FROM handoff_approved) AS n",
      )
      .one().n;
  }
}
