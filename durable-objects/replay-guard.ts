import { DurableObject } from "cloudflare:workers";
import type { HandoffApproveRefusal } from "../src/admission/protocol";
import type { Env } from "../src/config/env";
import { ReplayStore } from "../src/edge/replay-store";
import { clock } from "../src/lib/clock";
import { ok, refuse, type Result } from "../src/lib/result";

/**
 * ReplayGuard: "has this one-time value been used?" for DPoP proof `jti`s, c_nonces and handoff offer
 * references, "how many times has this been tried?" for the approvals of a handoff, and the handoff's
 * own state: which wallet keys wait for approval, which one the admitted page approved
 * (src/issuance/handoff.ts). Storage: src/edge/replay-store.ts.
 *
 * Values are spread over REPLAY_SHARDS objects by hash (src/edge/replay.ts), so no single object takes
 * every check. A value is remembered until its own expiry (after which the value is refused anyway for
 * being stale), then an alarm deletes it: storage stays proportional to the values alive in their window.
 *
 * Every method reads and writes with no await in between, so concurrent calls see each other's rows.
 */
const SWEEP_EVERY_MS = 60_000;

export class ReplayGuard extends DurableObject<Env> {
  readonly #store: ReplayStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new ReplayStore(ctx.storage);
  }

  /** Claims `id` until `expiresAt`: refused as `used` on every claim after the first. */
  async claim(id: string, expiresAt: number): Promise<Result<null, "used">> {
    if (this.#store.isSeen(id, clock.now())) return refuse("used");
    this.#store.markSeen(id, expiresAt);
    await this.#sweepLater();
    return ok(null);
  }

  /**
   * Reserves one of `limit` attempts at `id` (until `expiresAt`): the attempt's number (1…limit), or
   * `exhausted` once all are taken. Read and write run with no await between them, so concurrent
   * attempts each get their own number and no more than `limit` ever get one: the caller reserves
   * before it compares.
   */
  async reserve(id: string, limit: number, expiresAt: number): Promise<Result<number, "exhausted">> {
    const live = this.#store.attempts(id, clock.now());
    const used = live?.n ?? 0;
    if (used >= limit) return refuse("exhausted");
    this.#store.saveAttempts(id, used + 1, live ? Math.max(live.expiresAt, expiresAt) : expiresAt);
    await this.#sweepLater();
    return ok(used + 1);
  }

  /**
   * A wallet key `jkt` asks for the token of handoff `handoff`: approved (the page approved this very
   * key), or pending with its confirmation code. A pending key is (re)recorded with `code`; only the
   * `keep` most recently seen keys are kept, so strangers holding the handoff code cannot grow this
   * table without bound. A wallet that keeps retrying stays among the most recent; if a flood evicts it
   * anyway, its next retry records it again with the same code (derived from its key).
   */
  async handoffRequest(
    handoff: string,
    jkt: string,
    code: string,
    now: number,
    pendingUntil: number,
    keep: number,
  ): Promise<{ approved: true } | { approved: false; code: string }> {
    if (this.#store.approvedKey(handoff, now) === jkt) return { approved: true };
    const shown = this.#store.pendingCode(handoff, jkt, now) ?? code;
    this.#store.addPending(handoff, jkt, shown, now, pendingUntil, keep);
    await this.#sweepLater();
    return { approved: false, code: shown };
  }

  /**
   * The admitted page approves the pending wallet showing `code`: that one key becomes the handoff's
   * approved key (replacing an earlier approval: the person changed wallets). The approved key's own
   * code again (a retry after a lost answer) approves it again. No key with that code: no_match. Two
   * pending keys (a collision): ambiguous, nothing approved.
   */
  async handoffApprove(
    handoff: string,
    code: string,
    now: number,
    approvedUntil: number,
  ): Promise<Result<{ jkt: string }, HandoffApproveRefusal>> {
    const matches = this.#store.pendingWithCode(handoff, code, now);
    if (matches.length === 0) {
      const approved = this.#store.approvedKey(handoff, now, code);
      return approved !== null ? ok({ jkt: approved }) : refuse("no_match");
    }
    if (matches.length > 1) return refuse("ambiguous");
    const jkt = matches[0]!;
    this.#store.approve(handoff, jkt, code, approvedUntil);
    await this.#sweepLater();
    return ok({ jkt });
  }

  async #sweepLater(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }

  override async alarm(): Promise<void> {
    if (this.#store.sweep(clock.now()) > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }
}
