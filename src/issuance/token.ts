import { z } from "zod";
import { proofReplayWindowEnd, verifyDpopProof } from "../auth/dpop";
import { secret, type Env } from "../config/env";
import { enforceRateLimit } from "../edge/rate-limits";
import { ApiError } from "../http/problem";
import { requireDpopNonce } from "../oauth/dpop-nonce";
import { hmacKeyring } from "../tickets/keyring";
import { authenticateClient, hasAttestationHeaders } from "../oauth/client-attestation";
import { openGrant, PreAuthorizedCodeSchema } from "./grants";
import { requireHandoffApproval } from "./handoff";
import { issuerOrigin } from "./issuer-url";
import { PRE_AUTHORIZED_GRANT } from "./offer";
import { openIssuanceSession, type OpenedSession } from "./session-start";

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
 *
 * Wallet attestation (src/oauth/client-attestation.ts): a wallet that sends the attestation headers is
 * authenticated by them, and a bad attestation is refused (401 invalid_client) rather than ignored; a
 * request without them stays accepted, because this grant's code is already bound to the admitted
 * device's key and the app has no wallet provider. HAIP's requirement is for the authorization code
 * flow, where the client is otherwise unknown.
 */
export const TokenRequestSchema = z.object({
  grant_type: z.string(),
  "pre-authorized_code": z.string().min(1).max(4096).optional(),
  /** With wallet attestation: must be the attestation's `sub`. */
  client_id: z.string().min(1).max(256).optional(),
});
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

export type TokenResponse = OpenedSession;

export async function redeemPreAuthorizedCode(
  env: Env,
  request: TokenRequest,
  dpop: string | undefined,
  url: string,
  now: number,
  clientAttestation: { attestation?: string; pop?: string } = {},
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
  // Last of the isolate's checks, since it claims the PoP's jti (a Durable Object call).
  if (hasAttestationHeaders(clientAttestation)) {
    const clientId = request.client_id;
    await authenticateClient(env, clientAttestation, { issuer: issuerOrigin(env, url), now, ...(clientId ? { clientId } : {}) });
  }
  // Per admission, once only its key (or a handoff wallet) gets here; the handoff's count is apart, so
  // whoever saw the QR code cannot stall the device's own redemption (docs/threats/rate-limits.md).
  await enforceRateLimit(env, "token_code", `${code.room}/${code.tid}${code.handoff ? "/handoff" : ""}`);
  // A wallet on another device: only once the waiting page (the ticket's key) approved this wallet key.
  if (code.handoff) await requireHandoffApproval(env, { room: code.room, tid: code.tid, jkt: proof.jkt, now });

  // The person's one session (src/issuance/session-start.ts), then the admission's session at the
  // coordinator and in the session's object. The session is bound to the key that redeemed the code:
  // the device's, or for a handoff the wallet's.
  return openIssuanceSession(
    env,
    {
      admission: { room: code.room, ticketId: code.tid, key: { a: code.ord[0], b: code.ord[1] } },
      personId: code.pid,
      admissionExpiresAt: code.exp * 1000,
      jkt: proof.jkt,
      codeId: code.cid,
      // Remembered a minute past the code's own expiry, after which the code is refused as expired anyway.
      codeExpiresAt: code.exp * 1000 + 60_000,
      proofId: proof.jti,
      proofExpiresAt: proofReplayWindowEnd(proof.iat),
    },
    now,
  );
}
