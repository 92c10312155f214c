import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/config/env";
import { clock } from "../src/lib/clock";

/**
 * ReplayGuard: "has this one-time value been used?" for DPoP proof `jti`s, c_nonces and the failure
 * slots of handoff transaction codes.
 *
 * Values are spread over REPLAY_SHARDS objects by hash, so no single object takes every check. A value
 * is remembered until its own expiry (after which the value is refused anyway for being stale), then
 * an alarm deletes it: storage stays proportional to the values alive in their window.
 *
 * Storage schema (SQLite):
 * | table | row                              | written when                      |
 * |-------|----------------------------------|-----------------------------------|
 * | seen  | id (primary key), expires_at     | a value is claimed the first time |
 */
export class ReplayGuard extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS seen_by_expiry ON seen (expires_at);
    `);
  }

  /** True the first time `id` is claimed (until `expiresAt`), false on every later claim. */
  async claim(id: string, expiresAt: number): Promise<boolean> {
    const now = clock.now();
    const existing = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE id = ?", id).toArray()[0];
    if (existing && existing.expires_at > now) return false;
    this.sql.exec("INSERT OR REPLACE INTO seen (id, expires_at) VALUES (?, ?)", id, expiresAt);
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + 60_000);
    return true;
  }

  /** Whether `id` is currently claimed (read only). */
  async claimed(id: string): Promise<boolean> {
    const existing = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM seen WHERE id = ?", id).toArray()[0];
    return existing !== undefined && existing.expires_at > clock.now();
  }

  override async alarm(): Promise<void> {
    this.sql.exec("DELETE FROM seen WHERE expires_at <= ?", clock.now());
    const left = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM seen").one().n;
    if (left > 0) await this.ctx.storage.setAlarm(Date.now() + 60_000);
  }
}
