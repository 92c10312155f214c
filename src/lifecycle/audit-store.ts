import { migrate, type Migration } from "../storage/migrations";

/**
 * The LifecycleLog object's storage (durable-objects/lifecycle-log.ts): the operators' audit log and the
 * cursor of the register's change log.
 *
 * - audit: seq (autoincrement), at, actor, action, target_kind, pseudonym, list, idx, count, reason; one
 *   row per change (of a person's credentials, or of one credential).
 * - sync: one row (id = 1): cursor (the last register change applied), lease_id, lease_until; written
 *   when a register sync starts and ends.
 *
 * No personal data: a person appears only as their ledger pseudonym (HMAC under PSEUDONYM_KEY), a
 * credential as its status list and index, an operator as a label of the admin token's hash or of the
 * dashboard login (src/http/admin-auth.ts). Kept for good: an audit log is not swept.
 */
const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE audit (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target_kind TEXT NOT NULL,
     pseudonym TEXT,
     list TEXT,
     idx INTEGER,
     count INTEGER NOT NULL,
     reason TEXT
   );
   CREATE TABLE sync (id INTEGER PRIMARY KEY CHECK (id = 1), cursor INTEGER NOT NULL, lease_id TEXT, lease_until INTEGER NOT NULL DEFAULT 0);
   INSERT INTO sync (id, cursor) VALUES (1, 0);`,
];

export type AuditAction = "suspend" | "reinstate" | "revoke";

export type AuditTarget =
  { readonly kind: "person"; readonly pseudonym: string } | { readonly kind: "credential"; readonly list: string; readonly idx: number };

/** One change as recorded (what GET /v1/admin/audit lists). */
export interface AuditEntry {
  readonly seq: number;
  /** ISO 8601. */
  readonly at: string;
  readonly actor: string;
  readonly action: AuditAction;
  readonly target: AuditTarget;
  /** Credentials whose status this change set. */
  readonly count: number;
  readonly reason: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, "seq" | "at"> & { readonly at: number };

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target_kind: string;
  pseudonym: string | null;
  list: string | null;
  idx: number | null;
  count: number;
  reason: string | null;
  [column: string]: SqlStorageValue;
}

export class AuditStore {
  readonly #sql: SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.#sql = storage.sql;
    storage.transactionSync(() => migrate(this.#sql, MIGRATIONS));
  }

  append(entries: readonly NewAuditEntry[]): number[] {
    return entries.map((e) => {
      const t = e.target;
      return this.#sql
        .exec<{ seq: number }>(
          `INSERT INTO audit (at, actor, action, target_kind, pseudonym, list, idx, count, reason)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
          e.at,
          e.actor,
          e.action,
          t.kind,
          t.kind === "person" ? t.pseudonym : null,
          t.kind === "credential" ? t.list : null,
          t.kind === "credential" ? t.idx : null,
          e.count,
          e.reason,
        )
        .one().seq;
    });
  }

  /** Newest first: the `limit` entries before `before` (a seq; null: from the newest). */
  page(before: number | null, limit: number): AuditEntry[] {
    return this.#sql
      .exec<AuditRow>("SELECT * FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?", before ?? Number.MAX_SAFE_INTEGER, limit)
      .toArray()
      .map(entryOf);
  }

  /**
   * Starts a register sync: the cursor to read from and a lease that keeps a second run (a slow one
   * overlapping the next minute's) from applying the same changes out of order. Null while another
   * run's lease lasts.
   */
  beginSync(leaseId: string, now: number, leaseMs: number): number | null {
    const row = this.#sql.exec<{ cursor: number; lease_until: number }>("SELECT cursor, lease_until FROM sync WHERE id = 1").one();
    if (row.lease_until > now) return null;
    this.#sql.exec("UPDATE sync SET lease_id = ?, lease_until = ? WHERE id = 1", leaseId, now + leaseMs);
    return row.cursor;
  }

  /** Ends the lease `leaseId` (if still its own), moving the cursor to `cursor`. False if the lease was lost. */
  endSync(leaseId: string, cursor: number): boolean {
    const changed = this.#sql.exec(
      "UPDATE sync SET cursor = max(cursor, ?), lease_id = NULL, lease_until = 0 WHERE id = 1 AND lease_id = ?",
      cursor,
      leaseId,
    );
    return changed.rowsWritten > 0;
  }

  cursor(): number {
    return this.#sql.exec<{ cursor: number }>("SELECT cursor FROM sync WHERE id = 1").one().cursor;
  }
}

function entryOf(row: AuditRow): AuditEntry {
  const target: AuditTarget =
    row.target_kind === "person"
      ? { kind: "person", pseudonym: row.pseudonym ?? "" }
      : { kind: "credential", list: row.list ?? "", idx: row.idx ?? 0 };
  return {
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action as AuditAction,
    target,
    count: row.count,
    reason: row.reason,
  };
}
