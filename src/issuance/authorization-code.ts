import { z } from "zod";
import { proofReplayWindowEnd, verifyDpopProof } from "../auth/dpop";
import { secret, type Env } from "../config/env";
import { enforceRateLimit } from "../edge/rate-limits";
import { ApiError } from "../http/problem";
import { AuthorizationCodeSchema } from "../oauth/authorization";
import { authenticateClient } from "../oauth/client-attestation";
import { requireDpopNonce } from "../oauth/dpop-nonce";
import { verifierMatches } from "../oauth/pkce";
import { hmacKeyring } from "../tickets/keyring";
import { openGrant } from "./grants";
import { openIssuanceSession, type OpenedSession } from "./session-start";

/**
 * The token endpoint with the authorization code grant (RFC 6749 §4.1.3, OpenID4VCI 1.0 §6, HAIP 1.0):
 * the code from the authorization flow (src/oauth/authorization.ts), the PKCE verifier, the wallet
 * attestation and a DPoP proof carrying the server's nonce in; a DPoP-bound access token to the
 * person's one issuance session out, started exactly as the pre-authorized grant starts it
 * (src/issuance/session-start.ts), so both flows share the admission, the session bounds and the quotas.
 *
 * Order, cheapest refusal first and nothing spent on a request that will fail: the DPoP proof and its
 * nonce (no storage; checked before the attestation so that a use_dpop_nonce retry does not burn the
 * attestation PoP's one-time jti), then the wallet attestation, then the code, redirect_uri and PKCE,
 * and only then the Durable Objects. The code's id is taken by the session's object when the session
 * opens (single use, as the pre-authorized code's).
 */
export const AUTHORIZATION_CODE_GRANT = "authorization_code";

export const AuthorizationCodeTokenRequestSchema = z.object({
  grant_type: z.literal(AUTHORIZATION_CODE_GRANT),
  code: z.string().min(1).max(4096),
  redirect_uri: z.string().min(1).max(512),
  code_verifier: z.string().max(256).optional(),
  client_id: z.string().max(256).optional(),
});
export type AuthorizationCodeTokenRequest = z.infer<typeof AuthorizationCodeTokenRequestSchema>;

export interface AuthorizationCodeTokenResponse extends OpenedSession {
  /** OpenID4VCI 1.0 §6.2: when the request used authorization_details, the credentials they name. */
  authorization_details?: { type: "openid_credential"; credential_configuration_id: string; credential_identifiers: string[] }[];
}

export async function redeemAuthorizationCode(
  env: Env,
  request: AuthorizationCodeTokenRequest,
  headers: { dpop?: string; attestation?: string; pop?: string },
  context: { url: string; issuer: string; now: number },
): Promise<AuthorizationCodeTokenResponse> {
  const { now } = context;
  const proof = await verifyDpopProof(headers.dpop, { method: "POST", url: context.url }, now);
  const badProof = (reason: string) =>
    new ApiError("invalid_dpop_proof", `the DPoP proof was refused (${reason.replaceAll("_", " ")})`, { status: 400, extras: { reason } });
  if (!proof.ok) throw badProof(proof.reason);
  await requireDpopNonce(env, proof.nonce, now, "token");

  const client = await authenticateClient(env, { attestation: headers.attestation, pop: headers.pop }, { issuer: context.issuer, now });

  const opened = await openGrant(
    await hmacKeyring(secret(env, "TICKET_KEYS")),
    "authorization-code",
    AuthorizationCodeSchema,
    request.code,
    now,
  );
  if (!opened.ok) throw new ApiError("invalid_grant", `the authorization code is not valid (${opened.reason.replaceAll("_", " ")})`);
  const code = opened.claims;
  const grantRefused = (detail: string, reason: string) => new ApiError("invalid_grant", detail, { extras: { reason } });
  // RFC 6749 §4.1.3: the code was issued to this client, for this redirect_uri.
  if (code.req.cid !== client.clientId || (request.client_id !== undefined && request.client_id !== client.clientId))
    throw grantRefused("the authorization code was issued to another client", "client_mismatch");
  if (request.redirect_uri !== code.req.ru)
    throw grantRefused("redirect_uri differs from the authorization request's", "redirect_uri_mismatch");
  if (!(await verifierMatches(request.code_verifier, code.req.cc)))
    throw grantRefused("the PKCE code_verifier does not match the code_challenge", "pkce_mismatch");
  // RFC 9449 §10: a code bound at PAR (dpop_jkt or a proof there) only for that key.
  if (code.req.jkt !== undefined && code.req.jkt !== proof.jkt) throw badProof("key_not_bound_to_code");
  await enforceRateLimit(env, "token_code", `${code.room}/${code.tid}`);

  const session = await openIssuanceSession(
    env,
    {
      admission: { room: code.room, ticketId: code.tid, key: { a: code.ord[0], b: code.ord[1] } },
      personId: code.pid,
      admissionExpiresAt: code.ax,
      jkt: proof.jkt,
      codeId: code.cid,
      codeExpiresAt: code.exp * 1000 + 60_000,
      proofId: proof.jti,
      proofExpiresAt: proofReplayWindowEnd(proof.iat),
      configurations: code.req.cfg,
    },
    now,
  );
  return {
    ...session,
    ...(code.req.ad
      ? {
          authorization_details: code.req.cfg.map((id) => ({
            type: "openid_credential" as const,
            credential_configuration_id: id,
            // One identifier per configuration, the configuration's own id (src/issuance/credential.ts).
            credential_identifiers: [id],
          })),
        }
      : {}),
  };
}
