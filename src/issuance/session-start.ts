import { sessionLimits as roomSessionLimits } from "../admission/room-view";
import { ApiError } from "../http/problem";
import { admissionOf } from "./admission-check";
import { coordinatorRefusal } from "../http/refusals";
import { recordIssuance } from "../metrics/analytics";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { secret, type Env } from "../config/env";
import { claimPersonSession, freeAdmission, releasePersonClaim, type AdmissionRef } from "./person-claim";
import { sessionIdOf, sessionLimits, sessionObject, sessionRefusal } from "./sessions";

/**
 * What both token grants share once their code is checked (src/issuance/token.ts for the pre-authorized
 * code, src/issuance/authorization-code.ts for the authorization code): the person's one session is
 * claimed, the admission checked live from the room's snapshot, the code and proof taken by the
 * session's object (which opens or resumes the admission's one session), and a DPoP-bound access token
 * sealed. Both flows therefore share the admission,
 * the session bounds and the quotas.
 *
 * Order: the person claim first, because it may say that this person's session belongs to another
 * admission (same key: resume it; another key: refuse, and free this admission's slot). Then whether
 * the admission is live is read from the room's snapshot at the edge (the poll path's own decision, no
 * coordinator call: docs/scaling-past-one-coordinator.md), and the session's object keeps one session
 * per admission, bound to the key that started it, taking the code and the proof in the same call that
 * opens or finds the session: a failure before that call burns nothing.
 */
export interface SessionOpening {
  readonly admission: AdmissionRef;
  /** The person identifier the register knows (sealed into the access token). */
  readonly personId: string;
  readonly admissionExpiresAt: number;
  readonly jkt: string;
  readonly codeId: string;
  readonly codeExpiresAt: number;
  readonly proofId: string;
  readonly proofExpiresAt: number;
  /** The credential configurations the access token is good for (authorization code: those authorized); all when absent. */
  readonly configurations?: readonly string[];
}

export interface OpenedSession {
  access_token: string;
  token_type: "DPoP";
  expires_in: number;
}

export async function openIssuanceSession(env: Env, o: SessionOpening, now: number): Promise<OpenedSession> {
  const claimed = await claimPersonSession(env, {
    admission: o.admission,
    personId: o.personId,
    jkt: o.jkt,
    admissionExpiresAt: o.admissionExpiresAt,
    now,
  });
  if (!claimed.ok) {
    await freeAdmission(env, o.admission);
    throw personHasSession();
  }
  const target = claimed.admission;
  if (claimed.resumed) await freeAdmission(env, o.admission);

  const sessionId = sessionIdOf(target.room, target.ticketId);
  const sessions = await sessionObject(env, sessionId);
  const live = await admissionOf(env, target.room, target.key, now);
  if (!live.ok) {
    // An admission that expired or was never admitted and never opened a session: its fresh claim must
    // not hold the person back from their next admission. One that did open a session keeps the claim
    // (a session outlives its admission's TTL): releasing it would let a second wallet open a second one.
    if (!claimed.resumed && (live.reason === "expired" || live.reason === "not_admitted") && !(await sessions.hasSession(sessionId)))
      await releasePersonClaim(env, target, o.personId);
    throw coordinatorRefusal(live.reason, target.room, "token");
  }
  const { admission, config } = live.value;
  const session = await sessions.redeem(sessionId, {
    codeId: o.codeId,
    codeExpiresAt: o.codeExpiresAt,
    jkt: o.jkt,
    proofId: o.proofId,
    proofExpiresAt: o.proofExpiresAt,
    room: target.room,
    ticketId: target.ticketId,
    endsAt: now + config.session_duration_seconds * 1000,
    limits: sessionLimits(env, roomSessionLimits(config)),
    admittedAt: admission.admittedAt,
    admissionExpiresAt: admission.expiresAt,
  });
  if (!session.ok) throw sessionRefusal(session.reason, "token");

  recordIssuance(env, "token_issued", { room: target.room });
  const endsAt = session.value.endsAt;
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const accessToken = await seal(
    ring,
    "access-token",
    {
      pid: o.personId,
      jkt: o.jkt,
      room: target.room,
      tid: target.ticketId,
      ...(o.configurations ? { cfg: [...o.configurations] } : {}),
    },
    now,
    endsAt,
  );
  return { access_token: accessToken, token_type: "DPoP", expires_in: Math.floor((endsAt - now) / 1000) };
}

/** The person already has this room's one session, bound to another wallet key. */
export function personHasSession(): ApiError {
  return new ApiError(
    "invalid_grant",
    "this person already has an issuance session in this room, bound to another wallet key: one person gets one session, continue it from that wallet",
    { extras: { reason: "person_has_session" } },
  );
}
