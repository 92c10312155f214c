import { DurableObject } from "cloudflare:workers";
import type { JWK } from "jose";
import type { Env } from "../src/config/env";
import { SessionStore, type PersonClaim } from "../src/issuance/session-store";
import {
  releaseReservation,
  remaining,
  reserveIssuance,
  usable,
  type SessionEndReason,
  type SessionLimits,
  type SessionRefusal,
} from "../src/issuance/session-rules";
import { clock } from "../src/lib/clock";
import { ok, refuse, type Result } from "../src/lib/result";

/**
 * IssuanceSessions: the issuance sessions of admitted people, spread over ISSUANCE_SESSION_SHARDS
 * objects by session id (src/issuance/sessions.ts picks the object).
 *
 * Why here and not in the room's coordinator: every credential and notification call must check that
 * its session is still open and count what it takes, and those calls run at the admission rate times
 * a few per person. One RPC to the session's own object does it, together with the DPoP replay check
 * the call needed anyway (a proof id is claimed in the object of the session whose token it hashes), so
 * the check adds no round trip and none reaches the coordinator. The coordinator hears of a session
 * twice: when the token endpoint starts it (the admission must be live, one session per admission) and
 * when it ends (its slot is freed).
 *
 * Each method decides and writes with no await in between: concurrent calls of one session are decided
 * one after the other, so a quota cannot be overdrawn by a burst and a one-time value is taken once.
 */

/** Everything an RPC here may refuse: the session's own refusals and the one-time values'. */
export type SessionCallRefusal =
  SessionRefusal | "code_used" | "replayed" | "notification_used" | "unknown_transaction" | "transaction_in_progress";
export type SessionCall<T> = Result<T, SessionCallRefusal>;

/** A DPoP proof's id, claimed for its key until the proof could no longer be accepted anyway. */
export interface ProofUse {
  readonly jkt: string;
  readonly proofId: string;
  readonly proofExpiresAt: number;
}

const SWEEP_EVERY_MS = 60_000;
/**
 * How long a deferred poll holds its transaction while it reads the register: past the register's
 * longest read (its timeout is seconds), so a poll that died mid-read frees it for the next one.
 */
export const DEFERRED_LEASE_MS = 30_000;

export class IssuanceSessions extends DurableObject<Env> {
  readonly #store: SessionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#store = new SessionStore(ctx.storage.sql);
  }

  /**
   * The token endpoint, after the coordinator has started (or, for the same key, resumed) the
   * admission's session: the pre-authorized code `codeId` is taken (single use), the proof's id claimed,
   * and the session created with the coordinator's end time and the room's limits, or found again with
   * what it has already used. Nothing is written on a refusal, so a failure before this call (the
   * coordinator unreachable) burns nothing, and a retry of the same code after a failure of this call
   * reaches the same decision.
   */
  async redeem(
    sessionId: string,
    r: ProofUse & { codeId: string; codeExpiresAt: number; room: string; ticketId: string; endsAt: number; limits: SessionLimits },
  ): Promise<SessionCall<{ endsAt: number }>> {
    const now = clock.now();
    if (this.#store.isUsed(proofKey(r), now)) return refuse("replayed");
    if (this.#store.isUsed(`code:${r.codeId}`, now)) return refuse("code_used");
    const existing = this.#store.get(sessionId);
    if (existing) {
      const live = usable(existing, r.jkt, now);
      if (!live.ok) return live;
    }
    const session =
      existing ?? this.#store.create({ id: sessionId, room: r.room, ticketId: r.ticketId, jkt: r.jkt, endsAt: r.endsAt, limits: r.limits });
    this.#store.markUsed(`code:${r.codeId}`, r.codeExpiresAt);
    this.#store.markUsed(proofKey(r), r.proofExpiresAt);
    await this.#sweepLater();
    return ok({ endsAt: session.endsAt });
  }

  /**
   * One person, one issuance session per room, whatever the flow, browser, wallet or device
   * (src/issuance/person-claim.ts; these objects hold the claims sharded by person pseudonym). The
   * admission `ticketId` asks to hold the person's session:
   * - nobody holds it: this admission does, until `expiresAt` (past its session's possible end);
   * - this admission already holds it: granted again (a retry), the key recorded if it was not known;
   * - another admission holds it and `jkt` is the key bound to that one: that admission is the answer
   *   (`resumed`): the caller continues the person's existing session with it, and frees its own slot;
   * - another admission holds it otherwise (another wallet, or no key known yet): refused.
   * Decided and written with no await in between, so two browsers of one person racing here are
   * decided one after the other and only one of them gets the session.
   */
  async claimPerson(
    room: string,
    person: string,
    r: { ticketId: string; key: { a: number; b: number }; jkt?: string; expiresAt: number },
  ): Promise<Result<{ ticketId: string; key: { a: number; b: number }; resumed: boolean }, "person_has_session">> {
    const now = clock.now();
    const held = this.#store.claimOf(room, person, now);
    if (!held) {
      const claim: PersonClaim = { ticketId: r.ticketId, key: r.key, jkt: r.jkt ?? null, expiresAt: r.expiresAt };
      this.#store.putClaim(room, person, claim);
      await this.#sweepLater();
      return ok({ ticketId: r.ticketId, key: r.key, resumed: false });
    }
    if (held.ticketId === r.ticketId) {
      const jkt = held.jkt ?? r.jkt ?? null;
      if (jkt !== held.jkt || r.expiresAt > held.expiresAt)
        this.#store.putClaim(room, person, { ...held, jkt, expiresAt: Math.max(held.expiresAt, r.expiresAt) });
      return ok({ ticketId: held.ticketId, key: held.key, resumed: false });
    }
    if (r.jkt !== undefined && held.jkt === r.jkt) return ok({ ticketId: held.ticketId, key: held.key, resumed: true });
    return refuse("person_has_session");
  }

  /**
   * A credential request: the session open and bound to the proof's key, the proof never seen, one
   * register read and `count` credentials of `configuration` within the limits. Returns how many of
   * that configuration remain after this request.
   */
  async spend(sessionId: string, r: ProofUse & { configuration: string; count: number }): Promise<SessionCall<{ remaining: number }>> {
    const now = clock.now();
    if (this.#store.isUsed(proofKey(r), now)) return refuse("replayed");
    const decided = reserveIssuance(this.#store.get(sessionId), r.jkt, r.configuration, r.count, now);
    if (!decided.ok) return decided;
    this.#store.saveCounters(decided.value);
    this.#store.markUsed(proofKey(r), r.proofExpiresAt);
    return ok({ remaining: remaining(decided.value, r.configuration) });
  }

  /**
   * What `spend` reserved and was then not used is given back: the credentials, and the register read
   * too when the request stopped before reading (a used nonce), not when the register was read.
   */
  async release(sessionId: string, configuration: string, count: number, readSpent: boolean): Promise<void> {
    const session = this.#store.get(sessionId);
    if (session) this.#store.saveCounters(releaseReservation(session, configuration, count, readSpent));
  }

  /**
   * A credential request the register could not take (deferred issuance, src/issuance/deferred.ts):
   * stored with its proof keys under a fresh transaction id. The reservation `spend` made stays: the
   * transaction owns it until it is issued or denied.
   */
  async defer(sessionId: string, r: { jkt: string; configuration: string; keys: JWK[] }): Promise<SessionCall<{ transactionId: string }>> {
    const live = usable(this.#store.get(sessionId), r.jkt, clock.now());
    if (!live.ok) return live;
    const transactionId = this.#store.addDeferred({ sessionId, configuration: r.configuration, keys: r.keys });
    await this.#sweepLater();
    return ok({ transactionId });
  }

  /**
   * A deferred poll: the session open and bound to the proof's key, the proof never seen, the
   * transaction this session's and not held by another poll. It is leased to this poll (DEFERRED_LEASE_MS)
   * until `settleDeferred`.
   */
  async takeDeferred(
    sessionId: string,
    r: ProofUse & { transactionId: string },
  ): Promise<SessionCall<{ configuration: string; keys: readonly JWK[] }>> {
    const now = clock.now();
    if (this.#store.isUsed(proofKey(r), now)) return refuse("replayed");
    const live = usable(this.#store.get(sessionId), r.jkt, now);
    if (!live.ok) return live;
    const deferred = this.#store.getDeferred(sessionId, r.transactionId);
    if (!deferred) return refuse("unknown_transaction");
    if (deferred.leasedUntil > now) return refuse("transaction_in_progress");
    this.#store.markUsed(proofKey(r), r.proofExpiresAt);
    this.#store.leaseDeferred(deferred.id, now + DEFERRED_LEASE_MS);
    return ok({ configuration: deferred.configuration, keys: deferred.keys });
  }

  /**
   * How a leased transaction ended: `issued` (gone; its reservation was used), `denied` (gone; its
   * credentials given back, the register read stays spent), `pending` (the register still busy: free
   * for the next poll).
   */
  async settleDeferred(sessionId: string, transactionId: string, outcome: "issued" | "denied" | "pending"): Promise<void> {
    const deferred = this.#store.getDeferred(sessionId, transactionId);
    if (!deferred) return;
    if (outcome === "pending") {
      this.#store.leaseDeferred(deferred.id, 0);
      return;
    }
    this.#store.deleteDeferred(deferred.id);
    const session = this.#store.get(sessionId);
    if (outcome === "denied" && session)
      this.#store.saveCounters(releaseReservation(session, deferred.configuration, deferred.count, true));
  }

  /**
   * A notification: accepted once per notification id, only while the session is open. Accepted or
   * deleted credentials end the session at once (its tokens stop working); the caller then frees the
   * coordinator's slot and confirms it (`confirmEnd`). Until confirmed, a retry of that same ending
   * notification is answered again, so a coordinator that failed to hear it can be told on the retry;
   * once confirmed, the session is over for every call. A failure leaves the session open, so the wallet
   * can try again within its limits.
   */
  async notify(
    sessionId: string,
    r: ProofUse & {
      notificationId: string;
      notificationExpiresAt: number;
      event: "credential_accepted" | "credential_failure" | "credential_deleted";
    },
  ): Promise<SessionCall<{ ended: boolean }>> {
    const now = clock.now();
    if (this.#store.isUsed(proofKey(r), now)) return refuse("replayed");
    const session = this.#store.get(sessionId);
    if (session && session.endedBy === r.notificationId && !session.endConfirmed && session.jkt === r.jkt) {
      this.#store.markUsed(proofKey(r), r.proofExpiresAt);
      return ok({ ended: true });
    }
    const live = usable(session, r.jkt, now);
    if (!live.ok) return live;
    if (this.#store.isUsed(`notification:${r.notificationId}`, now)) return refuse("notification_used");
    this.#store.markUsed(proofKey(r), r.proofExpiresAt);
    this.#store.markUsed(`notification:${r.notificationId}`, r.notificationExpiresAt);
    const reason: SessionEndReason | null =
      r.event === "credential_accepted" ? "accepted" : r.event === "credential_deleted" ? "deleted" : null;
    if (reason) this.#store.end(sessionId, reason, now, r.notificationId);
    await this.#sweepLater();
    return ok({ ended: reason !== null });
  }

  /** The coordinator has freed the ended session's slot: no retry of its notification is answered now. */
  async confirmEnd(sessionId: string): Promise<void> {
    this.#store.confirmEnd(sessionId);
  }

  /** An operator ends a session: its tokens stop working at once. False when no open session exists. */
  async end(sessionId: string, reason: SessionEndReason): Promise<boolean> {
    const now = clock.now();
    const session = this.#store.get(sessionId);
    if (!session || session.endedAt !== null || session.endsAt <= now) return false;
    this.#store.end(sessionId, reason, now, null);
    return true;
  }

  async #sweepLater(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }

  override async alarm(): Promise<void> {
    if (this.#store.sweep(clock.now()) > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_EVERY_MS);
  }
}

function proofKey(r: ProofUse): string {
  return `dpop:${r.jkt}:${r.proofId}`;
}
