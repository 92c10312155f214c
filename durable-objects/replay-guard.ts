import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/config/env";
import { clock } from "../src/lib/clock";

/**
 * ReplayGuard: "has this one-time value been used?" for DPoP proof `jti`s and c_nonces, and "how many
 * times has this been tried?" for the attempts at a handoff's transaction code.
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

  private async ensureAlarm(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }

  override async alarm(): Promise<void> {
    this.sql.exec("DELETE FROM seen WHERE expires_at <= ?", clock.now());
    this.sql.exec("DELETE FROM attempts WHERE expires_at <= ?", clock.now());
    const left = this.sql.exec<{ n: number }>("SELECT (SELECT count(*) FROM seen) + (SELECT count(*) FROM attempts) AS n").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }
}
