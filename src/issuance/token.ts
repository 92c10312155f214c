import { z } from "zod";
import { proofReplayWindowEnd, verifyDpopProof } from "../auth/dpop";
import { secret, type Env } from "../config/env";
import { reserveAttempt } from "../edge/replay";
import { ApiError } from "../http/problem";
import { recordIssuance } from "../metrics/analytics";
import { hmacKeyring, type HmacKeyring } from "../tickets/keyring";
import { seal } from "../tickets/sealed";
import { openGrant, PreAuthorizedCodeSchema } from "./grants";
import { MAX_TX_CODE_ATTEMPTS, txCodeMatches } from "./handoff";
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
 * (the coordinator keeps one session per admission and resumes it only for the key that started it),
 * with what it has already used, so the new token buys nothing the first did not.
 */
export const TokenRequestSchema = z.object({
  grant_type: z.string(),
  "pre-authorized_code": z.string().min(1).max(4096).optional(),
  tx_code: z.string().optional(),
});
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export interface TokenResponse {
  access_token: string;
  token_type: "DPoP";
  expires_in: number;
}

export async function redeemPreAuthorizedCode(env: Env, request: TokenRequest, dpop: string | undefined, url: string, now: number): Promise<TokenResponse> {
  if (request.grant_type !== PRE_AUTHORIZED_GRANT) throw new ApiError("unsupported_grant_type", `only ${PRE_AUTHORIZED_GRANT} is supported`);
  if (!request["pre-authorized_code"]) throw new ApiError("invalid_request", "pre-authorized_code is required");

  const proof = await verifyDpopProof(dpop, { method: "POST", url }, now);
  // RFC 9449 section 5: at the token endpoint an unusable proof is a 400 invalid_dpop_proof.
  const badProof = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, { status: 400, extras: { reason } });
  if (!proof.ok) throw badProof(proof.reason);

  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const opened = await openGrant(ring, "pre-authorized-code", PreAuthorizedCodeSchema, request["pre-authorized_code"], now);
  if (!opened.ok) throw new ApiError("invalid_grant", `the pre-authorized code is not valid (${opened.reason.replaceAll("_", " ")})`);
  const code = opened.claims;
  if (code.handoff) {
    await checkTxCode(env, ring, code.room, code.tid, request.tx_code, now);
  } else {
    // The code was issued to one device: another key cannot redeem it, even with a valid proof.
    if (request.tx_code !== undefined) throw new ApiError("invalid_request", "this pre-authorized code takes no transaction code");
    if (proof.jkt !== code.jkt) throw badProof("key_not_bound_to_code");
  }

  // The coordinator first: it decides whether the admission is live and whose session it is (one per
  // admission, resumed only by the key that started it). Then the session's object takes the code and
  // the proof in the same call that opens or finds the session: a failure before that call burns nothing.
  const coordinator = env.ROOM_COORDINATOR.get(env.ROOM_COORDINATOR.idFromName(code.room));
  const started = await coordinator.startSession(code.room, { ticketId: code.tid, key: { a: code.ord[0], b: code.ord[1] }, jkt: proof.jkt });
  if (!started.ok) throw new ApiError("invalid_grant", `the pre-authorized code cannot be used (${started.reason.replaceAll("_", " ")})`, { extras: { reason: started.reason } });
  const sessionId = sessionIdOf(code.room, code.tid);
  const session = await (await sessionObject(env, sessionId)).redeem(sessionId, {
    codeId: code.cid,
    // Remembered a minute past the code's own expiry, after which the code is refused as expired anyway.
    codeExpiresAt: code.exp * 1000 + 60_000,
    jkt: proof.jkt,
    proofId: proof.jti,
    proofExpiresAt: proofReplayWindowEnd(proof.iat),
    room: code.room,
    ticketId: code.tid,
    endsAt: started.endsAt,
    limits: sessionLimits(env, started.limits),
  });
  if (!session.ok) throw sessionRefusal(session.reason, "token");

  recordIssuance(env, "token_issued", { room: code.room });
  // The session is bound to the key that redeemed the code: the device's, or for a handoff the wallet's.
  const endsAt = session.value.endsAt;
  const accessToken = await seal(ring, "access-token", { pid: code.pid, jkt: proof.jkt, room: code.room, tid: code.tid }, now, endsAt);
  return { access_token: accessToken, token_type: "DPoP", expires_in: Math.floor((endsAt - now) / 1000) };
}

/**
 * A handoff code needs its transaction code. Every attempt at it, right or wrong, first reserves one of
 * MAX_TX_CODE_ATTEMPTS for this admission (one counter, taken atomically by its ReplayGuard); with none
 * left the handoff code is refused for good (the device-bound code of the same admission still works).
 * Reserving before comparing is what bounds guessing: an attacker sending a thousand guesses at once
 * gets MAX_TX_CODE_ATTEMPTS comparisons, not a thousand.
 */
async function checkTxCode(env: Env, ring: HmacKeyring, room: string, tid: string, given: string | undefined, now: number): Promise<void> {
  if (given === undefined) throw new ApiError("invalid_request", "this pre-authorized code needs the tx_code shown to its holder");
  const attempt = await reserveAttempt(env, "tx", `${room}:${tid}`, MAX_TX_CODE_ATTEMPTS, now + 24 * 3600 * 1000);
  if (attempt === null) throw new ApiError("invalid_grant", "too many wrong transaction codes: use the app on the device that waited");
  if (await txCodeMatches(ring, room, tid, given)) return;
  const left = MAX_TX_CODE_ATTEMPTS - attempt;
  throw new ApiError("invalid_grant", `wrong transaction code (${left} attempt${left === 1 ? "" : "s"} left)`);
}
