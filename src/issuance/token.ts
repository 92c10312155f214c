import { z } from "zod";
import { proofReplayWindowEnd, verifyDpopProof } from "../auth/dpop";
import { secret, type Env } from "../config/env";
import { enforceRateLimit } from "../edge/rate-limits";
import { liveAdmission, type LiveAdmission } from "../admission/live-admission";
import type { OrderKey } from "../admission/order-key";
import type { SessionStartRefusal } from "../admission/protocol";
import { sessionLimits as roomSessionLimits } from "../admission/room-view";
import type { RoomConfig } from "../config/room-config";
import { refreshRoomSnapshot, roomSnapshot } from "../edge/snapshot-cache";
import { ok, refuse, type Result } from "../lib/result";
import { coordinatorRefusal } from "../http/refusals";
import { ApiError } from "../http/problem";
import { recordIssuance } from "../metrics/analytics";
import { requireDpopNonce } from "../oauth/dpop-nonce";
import { hmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { openGrant, PreAuthorizedCodeSchema } from "./grants";
import { requireHandoffApproval } from "./handoff";
import { PRE_AUTHORIZED_GRANT } from "./offer";
import { sessionIdOf, sessionLimits, sessionObject, sessionRefusal } from "./sessions";

/**
 * The token endpoint's use case (OpenID4VCI 1.0 §6 with the pre-authorized code grant, RFC 9449):
 * a pre-authorized code and a DPoP proof in, a DPoP-bound access token to the admission's one issuance
 * session out.
 *
 * Single use: the code's id is taken by the session's object when the session is opened, so the same
 * code never yields a second token (RFC 6749 §4.1.2). A device whose answer was lost polls its
 * ticket again and redeems the fresh code it gets with the same key: that reaches the same session
 * (the session's object keeps one session per admission and resumes it only for the key that started
 * it), with what it has already used, so the new token buys nothing the first did not.
 */
export const TokenRequestSchema = z.object({
  grant_type: z.string(),
  "pre-authorized_code": z.string().min(1).max(4096).optional(),
});
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export interface TokenResponse {
  access_token: string;
  token_type: "DPoP";
  expires_in: number;
}

export async function redeemPreAuthorizedCode(
  env: Env,
  request: TokenRequest,
  dpop: string | undefined,
  url: string,
  now: number,
): Promise<TokenResponse> {
  if (request.grant_type !== PRE_AUTHORIZED_GRANT)
    throw new ApiError("unsupported_grant_type", `only ${PRE_AUTHORIZED_GRANT} is supported`);
  if (!request["pre-authorized_code"]) throw new ApiError("invalid_request", "pre-authorized_code is required");

  const proof = await verifyDpopProof(dpop, { method: "POST", url }, now);
  // RFC 9449 section 5: at the token endpoint an unusable proof is a 400 invalid_dpop_proof.
  const badProof = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, { status: 400, extras: { reason } });
  if (!proof.ok) throw badProof(proof.reason);
  // Only a proof made after the server's recent nonce (RFC 9449 §8); checked in the isolate, before any state.
  await requireDpopNonce(env, proof.nonce, now, "token");

  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const opened = await openGrant(ring, "pre-authorized-code", PreAuthorizedCodeSchema, request["pre-authorized_code"], now);
  if (!opened.ok) throw new ApiError("invalid_grant", `the pre-authorized code is not valid (${opened.reason.replaceAll("_", " ")})`);
  const code = opened.claims;
  // The code was issued to one device: another key cannot redeem it, even with a valid proof.
  if (!code.handoff && proof.jkt !== code.jkt) throw badProof("key_not_bound_to_code");
  // Per admission, once only its key (or a handoff wallet) gets here; the handoff's count is apart, so
  // whoever saw the QR code cannot stall the device's own redemption (docs/threats/rate-limits.md).
  await enforceRateLimit(env, "token_code", `${code.room}/${code.tid}${code.handoff ? "/handoff" : ""}`);
  // A wallet on another device: only once the waiting page (the ticket's key) approved this wallet key.
  if (code.handoff) await requireHandoffApproval(env, { room: code.room, tid: code.tid, jkt: proof.jkt, now });

  // Whether the admission is live is read from the room's snapshot, at the edge (no coordinator call):
  // the poll path's own decision. Then the session's object keeps one session per admission, bound to
  // the key that started it, and takes the code and the proof in the same call that opens or finds the
  // session: a failure before that call burns nothing.
  const live = await admissionOf(env, code.room, { a: code.ord[0], b: code.ord[1] }, now);
  if (!live.ok) throw coordinatorRefusal(live.reason, code.room, "token");
  const { admission, config } = live.value;
  const sessionId = sessionIdOf(code.room, code.tid);
  const session = await (
    await sessionObject(env, sessionId)
  ).redeem(sessionId, {
    codeId: code.cid,
    // Remembered a minute past the code's own expiry, after which the code is refused as expired anyway.
    codeExpiresAt: code.exp * 1000 + 60_000,
    jkt: proof.jkt,
    proofId: proof.jti,
    proofExpiresAt: proofReplayWindowEnd(proof.iat),
    room: code.room,
    ticketId: code.tid,
    endsAt: now + config.session_duration_seconds * 1000,
    limits: sessionLimits(env, roomSessionLimits(config)),
    admittedAt: admission.admittedAt,
    admissionExpiresAt: admission.expiresAt,
  });
  if (!session.ok) throw sessionRefusal(session.reason, "token");

  recordIssuance(env, "token_issued", { room: code.room });
  // The session is bound to the key that redeemed the code: the device's, or for a handoff the wallet's.
  const endsAt = session.value.endsAt;
  const accessToken = await seal(ring, "access-token", { pid: code.pid, jkt: proof.jkt, room: code.room, tid: code.tid }, now, endsAt);
  return { access_token: accessToken, token_type: "DPoP", expires_in: Math.floor((endsAt - now) / 1000) };
}

/**
 * The admission the code names, live, and the room's settings, from the room's snapshot. The code was
 * sealed only for an admission some snapshot showed; if this isolate's copy is older than that one (it
 * does not show the admission yet), the coordinator is read once, directly.
 */
async function admissionOf(
  env: Env,
  room: string,
  key: OrderKey,
  now: number,
): Promise<Result<{ admission: LiveAdmission; config: RoomConfig }, SessionStartRefusal>> {
  let snapshot = await roomSnapshot(env, room);
  let live = snapshot ? liveAdmission(snapshot, key, now) : null;
  if (!live?.ok && live?.reason !== "expired") {
    snapshot = await refreshRoomSnapshot(env, room);
    live = snapshot ? liveAdmission(snapshot, key, now) : null;
  }
  if (!snapshot || !live) return refuse("no_room");
  return live.ok ? ok({ admission: live.value, config: snapshot.config }) : live;
}
