import { DurableObject } from "cloudflare:workers";
import type { JWK } from "jose";
import type { SessionCounts } from "../src/admission/sessions";
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
 * the check adds no round trip and none reaches the coordinator. Starting and ending a session do not
 * reach it either (docs/scaling-past-one-coordinator.md): the token endpoint decides from the room's
 * snapshot that the admission is live, this object keeps one session per admission and binds it to its
 * key, and the coordinator pulls each room's counts (`sessionCounts`) once per admission tick, so its
 * work grows with the number of these objects, not with sessions.
 *
 * Each method decides and writes with no await in between: concurrent calls of one session are decided
 * one after the other, so a quota cannot be overdrawn by a burst and a one-time value is taken once.
 */

/**
 * Everything an RPC here may refuse: the session's own refusals and the one-time values'.
 * `admission_used`: the admission's session is over and forgotten, but the admission was redeemed.
 */
export type SessionCallRefusal =
  SessionRefusal | "code_used" | "replayed" | "notification_used" | "admission_used" | "unknown_transaction" | "transaction_in_progress";

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
   * The token endpoint, once the room's snapshot showed the admission live: the pre-authorized code
   * `codeId` is taken (single use), the proof's id claimed, and the admission's one session created with
   * its end time and the room's limits (its admission recorded for the room's active count), or, for
   * the key that started it and while it is open, found again with what it has already used. Any other
   * key, a session that is over, or an admission whose session is over and forgotten is refused.
   * Nothing is written on a refusal, so a retry of the same code after a failure of this call reaches
   * the same decision.
   */
  async redeem(
    sessionId: string,
    r: ProofUse & {
      codeId: string;
      codeExpiresAt: number;
      room: string;
      ticketId: string;
      endsAt: number;
      limits: SessionLimits;
      /** The admission's tick time and when its TTL runs out (from the room's snapshot). */
      admittedAt: number;
      admissionExpiresAt: number;
    },
  ): Promise<SessionCall<{ endsAt: number }>> {
    const now = clock.now();
    if (this.#store.isUsed(proofKey(r), now)) return refuse("replayed");
    if (this.#store.isUsed(`code:${r.codeId}`, now)) return refuse("code_used");
    const existing = this.#store.get(sessionId);
    if (existing) {
      const live = usable(existing, r.jkt, now);
      if (!live.ok) return live;
    } else if (this.#store.admissionUsed(sessionId)) return refuse("admission_used");
    const session = existing ?? this.#open(sessionId, r);
    this.#store.markUsed(`code:${r.codeId}`, r.codeExpiresAt);
    this.#store.markUsed(proofKey(r), r.proofExpiresAt);
    await this.#sweepLater();
    return ok({ endsAt: session.endsAt });
  }

  #open(
    sessionId: string,
    r: {
      room: string;
      ticketId: string;
      jkt: string;
      endsAt: number;
      limits: SessionLimits;
      admittedAt: number;
      admissionExpiresAt: number;
    },
  ) {
    this.#store.recordAdmission({
      sessionId,
      room: r.room,
      admittedAt: r.admittedAt,
      admissionExpiresAt: r.admissionExpiresAt,
      endsAt: r.endsAt,
    });
    return this.#store.create({ id: sessionId, room: r.room, ticketId: r.ticketId, jkt: r.jkt, endsAt: r.endsAt, limits: r.limits });
  }

  /** Whether this admission ever opened a session (open, ended or forgotten: its admission row outlives it). */
  async hasSession(sessionId: string): Promise<boolean> {
    return this.#store.get(sessionId) !== null || this.#store.admissionUsed(sessionId);
  }

  /**
   * An admission that gives its place back without a session of its own (its person's one session is
   * another admission's: src/issuance/person-claim.ts freeAdmission): recorded as a session that started
   * and ended now, so the room's count no longer has it and no code for it opens a session later.
   * Nothing happens if the admission already has a session.
   */
  async forfeit(sessionId: string, a: { room: string; admittedAt: number; admissionExpiresAt: number }): Promise<void> {
    if (this.#store.get(sessionId) || this.#store.admissionUsed(sessionId)) return;
    const now = clock.now();
    this.#store.recordAdmission({
      sessionId,
      room: a.room,
      admittedAt: a.admittedAt,
      admissionExpiresAt: a.admissionExpiresAt,
      endsAt: now,
    });
    this.#store.endAdmission(sessionId, now);
    await this.#sweepLater();
  }

  /**
   * A room's sessions here, counted at the coordinator's tick time `now` against its admission TTL:
   * what the room's active count needs (src/admission/sessions.ts). Called by the coordinator's tick,
   * once per tick for each of these objects, and by its statistics.
   */
  async sessionCounts(room: string, now: number, ttlMs: number): Promise<SessionCounts> {
    return this.#store.roomCounts(room, now - ttlMs, now);
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
    r: { ticketId: string; key: { a: number; b: number }; jkt?: string; admissionExpiresAt: number; expiresAt: number },
  ): Promise<Result<{ ticketId: string; key: { a: number; b: number }; resumed: boolean }, "person_has_session">> {
    const now = clock.now();
    let held = this.#store.claimOf(room, person, now);
    // An identity step whose wallet never came to the token endpoint (no key bound) past its admission's
    // end: no session can start from it any more, so it no longer holds the person.
    if (held && held.jkt === null && held.admissionExpiresAt <= now && held.ticketId !== r.ticketId) held = null;
    if (!held) {
      const claim: PersonClaim = {
        ticketId: r.ticketId,
        key: r.key,
        jkt: r.jkt ?? null,
        admissionExpiresAt: r.admissionExpiresAt,
        expiresAt: r.expiresAt,
      };
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
   * The token endpoint could not start the session of the admission that claims the person (it expired
   * or was never admitted, so no session exists for it): the claim goes, so the person's next admission
   * is not held back by one that opened nothing. Only that admission's claim is dropped.
   */
  async releasePerson(room: string, person: string, ticketId: string): Promise<void> {
    this.#store.dropClaim(room, person, ticketId);
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
   * deleted credentials end the session at once (its tokens stop working) and free its slot: the room's
   * count, which the coordinator pulls at its next tick, no longer has it open. A failure leaves the
   * session open, so the wallet can try again within its limits. (Sessions ended before sessions left
   * the coordinator may still wait for `endConfirmed`: a retry of their ending notification is answered.)
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
    if (reason) this.#endNow(sessionId, reason, now, r.notificationId);
    await this.#sweepLater();
    return ok({ ended: reason !== null });
  }

  /** An operator ends a session: its tokens stop working at once. False when no open session exists. */
  async end(sessionId: string, reason: SessionEndReason): Promise<boolean> {
    const now = clock.now();
    const session = this.#store.get(sessionId);
    if (!session || session.endedAt !== null || session.endsAt <= now) return false;
    this.#endNow(sessionId, reason, now, null);
    return true;
  }

  /** Ended here is ended for the room too: nothing else needs telling, so the end is confirmed at once. */
  #endNow(sessionId: string, reason: SessionEndReason, now: number, byNotification: string | null): void {
    this.#store.end(sessionId, reason, now, byNotification);
    this.#store.confirmEnd(sessionId);
    this.#store.endAdmission(sessionId, now);
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
