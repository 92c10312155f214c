import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/config/env";
import { clock } from "../src/lib/clock";

/**
 * ReplayGuard: "has this one-time value been used?" for DPoP proof `jti`s, c_nonces and handoff offer
 * references, "how many times has this been tried?" for the approvals of a handoff, and the handoff's
 * own state: which wallet keys wait for approval, which one the admitted page approved
 * (src/issuance/handoff.ts).
 *
 * Values are spread over REPLAY_SHARDS objects by hash, so no single object takes every check. A value
 * is remembered until its own expiry (after which the value is refused anyway for being stale), then
 * an alarm deletes it: storage stays proportional to the values alive in their window.
 *
 * Storage schema (SQLite):
 * | table    | row                                 | written when                        |
 * |----------|-------------------------------------|-------------------------------------|
 * | seen     | id (primary key), expires_at        | a value is claimed the first time   |
 * | attempts | id (primary key), n, expires_at     | an attempt is reserved (`reserve`)  |
 * | handoff_pending  | handoff, jkt (primary key), code, seq, expires_at     | a wallet asks a handoff's token (`handoffRequest`) |
 * | handoff_approved | handoff (primary key), jkt, code, expires_at         | the page approves a wallet (`handoffApprove`)      |
 */
export class ReplayGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen (expires_at);
      CREATE TABLE IF NOT EXISTS attempts (id TEXT PRIMARY KEY, n INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS handoff_pending (handoff TEXT NOT NULL, jkt TEXT NOT NULL, code TEXT NOT NULL, seq INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (handoff, jkt));
      CREATE TABLE IF NOT EXISTS handoff_approved (handoff TEXT PRIMARY KEY, jkt TEXT NOT NULL, code TEXT NOT NULL, expires_at INTEGER NOT NULL);
    `);
  }

  /** True the first time `id` is claimed (until `expiresAt`), false on every later claim. */
  async claim(id: string, expiresAt: number): Promise<boolean> {
    const now = clock.now();
    const existing = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE id = ?", id).toArray()[0];
    if (existing && existing.expires_at > now) return false;
    this.sql.exec("INSERT OR REPLACE INTO seen (id, expires_at) VALUES (?, ?)", id, expiresAt);
    await this.ensureAlarm();
    return true;
  }

  /**
   * Reserves one of `limit` attempts at `id` (until `expiresAt`): the attempt's number (1…limit), or null
   * once all are taken. Read and write run with no await between them, so concurrent attempts each get
   * their own number and no more than `limit` ever get one: the caller reserves before it compares.
   */
  async reserve(id: string, limit: number, expiresAt: number): Promise<number | null> {
    const now = clock.now();
    const row = this.sql.exec<{ n: number; expires_at: number }>("SELECT n, expires_at FROM attempts WHERE id = ?", id).toArray()[0];
    const live = row !== undefined && row.expires_at > now;
    const used = live ? row.n : 0;
    if (used >= limit) return null;
    this.sql.exec("INSERT OR REPLACE INTO attempts (id, n, expires_at) VALUES (?, ?, ?)", id, used + 1, live ? Math.max(row.expires_at, expiresAt) : expiresAt);
    await this.ensureAlarm();
    return used + 1;
  }

  /**
   * A wallet key `jkt` asks for the token of handoff `handoff`: approved (the page approved this very
   * key), or pending with its confirmation code. A pending key is (re)recorded with `code` and the next
   * sequence number (not the time: requests in the same millisecond, or under a frozen test clock, must
   * still have an order); only the `keep` most recently seen keys are kept, so strangers holding the handoff code
   * cannot grow this table without bound. A wallet that keeps retrying stays among the most recent; if
   * a flood evicts it anyway, its next retry records it again with the same code (derived from its key).
   * No await between reads and writes: concurrent requests see each other's rows.
   */
  async handoffRequest(handoff: string, jkt: string, code: string, now: number, pendingUntil: number, keep: number): Promise<{ approved: true } | { approved: false; code: string }> {
    const approved = this.sql.exec<{ jkt: string }>("SELECT jkt FROM handoff_approved WHERE handoff = ? AND expires_at > ?", handoff, now).toArray()[0];
    if (approved?.jkt === jkt) return { approved: true };
    const held = this.sql.exec<{ code: string }>("SELECT code FROM handoff_pending WHERE handoff = ? AND jkt = ? AND expires_at > ?", handoff, jkt, now).toArray()[0];
    const shown = held?.code ?? code;
    this.sql.exec(
      "INSERT OR REPLACE INTO handoff_pending (handoff, jkt, code, seq, expires_at) VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM handoff_pending WHERE handoff = ?), ?)",
      handoff,
      jkt,
      shown,
      handoff,
      pendingUntil,
    );
    this.sql.exec(
      "DELETE FROM handoff_pending WHERE handoff = ? AND (expires_at <= ? OR jkt NOT IN (SELECT jkt FROM handoff_pending WHERE handoff = ? AND expires_at > ? ORDER BY seq DESC LIMIT ?))",
      handoff,
      now,
      handoff,
      now,
      keep,
    );
    await this.ensureAlarm();
    return { approved: false, code: shown };
  }

  /**
   * The admitted page approves the pending wallet showing `code`: that one key becomes the handoff's
   * approved key (replacing an earlier approval: the person changed wallets). The approved key's own
   * code again (a retry after a lost answer) approves it again. No key with that code: no_match. Two
   * pending keys (a collision): ambiguous, nothing approved.
   */
  async handoffApprove(handoff: string, code: string, now: number, approvedUntil: number): Promise<{ ok: true; jkt: string } | { ok: false; reason: "no_match" | "ambiguous" }> {
    const matches = this.sql.exec<{ jkt: string }>("SELECT jkt FROM handoff_pending WHERE handoff = ? AND code = ? AND expires_at > ?", handoff, code, now).toArray();
    if (matches.length === 0) {
      const approved = this.sql.exec<{ jkt: string }>("SELECT jkt FROM handoff_approved WHERE handoff = ? AND code = ? AND expires_at > ?", handoff, code, now).toArray()[0];
      return approved ? { ok: true, jkt: approved.jkt } : { ok: false, reason: "no_match" };
    }
    if (matches.length > 1) return { ok: false, reason: "ambiguous" };
    const jkt = matches[0]!.jkt;
    this.sql.exec("INSERT OR REPLACE INTO handoff_approved (handoff, jkt, code, expires_at) VALUES (?, ?, ?, ?)", handoff, jkt, code, approvedUntil);
    this.sql.exec("DELETE FROM handoff_pending WHERE handoff = ? AND jkt = ?", handoff, jkt);
    await this.ensureAlarm();
    return { ok: true, jkt };
  }

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }

  override async alarm(): Promise<void> {
    this.sql.exec("DELETE FROM seen WHERE expires_at <= ?", clock.now());
    this.sql.exec("DELETE FROM attempts WHERE expires_at <= ?", clock.now());
    this.sql.exec("DELETE FROM handoff_pending WHERE expires_at <= ?", clock.now());
    this.sql.exec("DELETE FROM handoff_approved WHERE expires_at <= ?", clock.now());
    const left = this.sql
      .exec<{ n: number }>("SELECT (SELECT count(*) FROM seen) + (SELECT count(*) FROM attempts) + (SELECT count(*) FROM handoff_pending) + (SELECT count(*) FROM handoff_approved) AS n")
      .one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }
}
