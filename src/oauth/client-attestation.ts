import { calculateJwkThumbprint, errors, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import { verifyAttestedJwt, type AttestedJwtFailure } from "../auth/attested-jwt";
import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";

/**
 * Wallet attestation as OAuth client authentication: `attest_jwt_client_auth`
 * (draft-ietf-oauth-attestation-based-client-auth), what HAIP 1.0 requires at the PAR and token
 * endpoints. Two headers:
 * - `OAuth-Client-Attestation`: a JWT (`typ: oauth-client-attestation+jwt`) by the wallet provider,
 *   signed by the leaf of an `x5c` chain to one of WALLET_PROVIDER_ANCHORS, saying that the wallet
 *   instance holding `cnf.jwk` is the client `sub`, until `exp`;
 * - `OAuth-Client-Attestation-PoP`: a JWT (`typ: oauth-client-attestation-pop+jwt`) signed by that
 *   `cnf` key, for this issuer (`aud`), fresh (`iat`), used once (`jti`).
 *
 * Order: everything checked in the isolate first (chain, signatures, claims), the PoP's `jti` claimed
 * last, so a request refused for any other reason burns nothing and costs no Durable Object call.
 *
 * No `challenge_endpoint`: freshness comes from `iat` within PROOF_MAX_AGE_SECONDS plus the single-use
 * `jti`, which the replay guard remembers for as long as the PoP could be accepted. A `challenge` claim
 * a wallet sends anyway is ignored (we never issued one to compare it with).
 */
export const ATTESTATION_HEADER = "oauth-client-attestation";
export const ATTESTATION_POP_HEADER = "oauth-client-attestation-pop";
export const ATTESTATION_AUTH_METHOD = "attest_jwt_client_auth";

/** How old a PoP may be (its `iat`), and how far in the future a phone's clock may put it. */
export const POP_MAX_AGE_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 60;
const MAX_POP_LENGTH = 4096;

export type ClientAttestationFailure =
  | `attestation_${AttestedJwtFailure}`
  | "attestation_bad_key"
  | "client_id_mismatch"
  | "pop_missing"
  | "pop_malformed"
  | "pop_wrong_type"
  | "pop_bad_signature"
  | "pop_wrong_audience"
  | "pop_wrong_issuer"
  | "pop_stale"
  | "pop_missing_claims"
  | "pop_replayed";

export interface AuthenticatedClient {
  /** The attestation's `sub`: the OAuth client_id of this wallet. */
  clientId: string;
  /** RFC 7638 thumbprint of the wallet instance key (`cnf.jwk`), e.g. to compare with a DPoP key. */
  walletKeyJkt: string;
}

/**
 * Authenticate the wallet by its attestation headers, or throw ApiError `invalid_client` (401) with a
 * `reason`. `ctx.clientId`: the `client_id` the request names, when it names one; the attestation's
 * `sub` must then be it.
 */
export async function authenticateClient(
  env: Env,
  headers: { attestation?: string; pop?: string },
  ctx: { issuer: string; now: number; clientId?: string },
): Promise<AuthenticatedClient> {
  const result = await checkClientAttestation(env, headers, ctx);
  if ("reason" in result) throw clientRefusal(result.reason);
  return result;
}

/** The headers as a Hono/Fetch request carries them. */
export function attestationHeaders(get: (name: string) => string | undefined): { attestation?: string; pop?: string } {
  const attestation = get(ATTESTATION_HEADER);
  const pop = get(ATTESTATION_POP_HEADER);
  return { ...(attestation ? { attestation } : {}), ...(pop ? { pop } : {}) };
}

/** Whether the request carries either attestation header (a half-present pair is refused, not ignored). */
export function hasAttestationHeaders(headers: { attestation?: string; pop?: string }): boolean {
  return headers.attestation !== undefined || headers.pop !== undefined;
}

async function checkClientAttestation(
  env: Env,
  headers: { attestation?: string; pop?: string },
  ctx: { issuer: string; now: number; clientId?: string },
): Promise<AuthenticatedClient | { reason: ClientAttestationFailure }> {
  const attested = await verifyAttestedJwt(headers.attestation, {
    typ: "oauth-client-attestation+jwt",
    anchors: settingsOf(env).secrets.WALLET_PROVIDER_ANCHORS,
    now: ctx.now,
    requiredClaims: ["iss", "sub", "exp", "cnf"],
  });
  if (!attested.ok) return { reason: `attestation_${attested.reason}` };
  const claims = attested.value.payload;
  const clientId = claims.sub;
  if (typeof clientId !== "string" || clientId.length === 0 || clientId.length > 256 || typeof claims.iss !== "string")
    return { reason: "attestation_missing_claims" };
  if (ctx.clientId !== undefined && ctx.clientId !== clientId) return { reason: "client_id_mismatch" };
  const walletJwk = publicEcJwk(claims);
  if (!walletJwk) return { reason: "attestation_bad_key" };

  if (!headers.pop) return { reason: "pop_missing" };
  const pop = await verifyPop(headers.pop, walletJwk, ctx.issuer, ctx.now);
  if ("reason" in pop) return pop;
  if (pop.iss !== undefined && pop.iss !== clientId) return { reason: "pop_wrong_issuer" };

  const walletKeyJkt = await calculateJwkThumbprint(walletJwk, "sha256");
  // Per wallet key: one wallet's jti never blocks another's.
  const fresh = await claimOnce(
    env,
    "client_attestation",
    `${walletKeyJkt}:${pop.jti}`,
    (pop.iat + POP_MAX_AGE_SECONDS + 2 * CLOCK_SKEW_SECONDS) * 1000,
  );
  if (!fresh) return { reason: "pop_replayed" };
  return { clientId, walletKeyJkt };
}

/** `cnf.jwk` as a P-256 public key (ES256 is all HAIP asks for); null for anything else, private keys included. */
function publicEcJwk(claims: JWTPayload): JWK | null {
  const jwk = (claims.cnf as { jwk?: Record<string, unknown> } | undefined)?.jwk;
  if (!jwk || typeof jwk !== "object" || jwk.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk) return null;
  if (typeof jwk.x !== "string" || typeof jwk.y !== "string") return null;
  return { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
}

async function verifyPop(
  pop: string,
  walletJwk: JWK,
  issuer: string,
  now: number,
): Promise<{ jti: string; iat: number; iss: string | undefined } | { reason: ClientAttestationFailure }> {
  if (pop.length > MAX_POP_LENGTH) return { reason: "pop_malformed" };
  let key: CryptoKey;
  try {
    key = (await importJWK({ ...walletJwk, alg: "ES256" }, "ES256")) as CryptoKey;
  } catch {
    return { reason: "attestation_bad_key" };
  }
  try {
    const { payload } = await jwtVerify(pop, key, {
      typ: "oauth-client-attestation-pop+jwt",
      algorithms: ["ES256"],
      audience: issuer,
      currentDate: new Date(now),
      maxTokenAge: POP_MAX_AGE_SECONDS,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["iat", "jti", "aud"],
    });
    if (typeof payload.jti !== "string" || payload.jti.length < 8 || payload.jti.length > 256) return { reason: "pop_missing_claims" };
    if (payload.iss !== undefined && typeof payload.iss !== "string") return { reason: "pop_wrong_issuer" };
    return { jti: payload.jti, iat: payload.iat!, iss: payload.iss };
  } catch (e) {
    if (e instanceof errors.JWTExpired || (e instanceof errors.JWTClaimValidationFailed && e.claim === "iat"))
      return { reason: "pop_stale" };
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === "aud") return { reason: "pop_wrong_audience" };
      if (e.claim === "typ") return { reason: "pop_wrong_type" };
      return { reason: "pop_missing_claims" };
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return { reason: "pop_bad_signature" };
    return { reason: "pop_malformed" };
  }
}

const DESCRIPTIONS: Partial<Record<ClientAttestationFailure, string>> = {
  attestation_missing: "the OAuth-Client-Attestation header is missing",
  attestation_no_trust_anchor: "this issuer trusts no wallet provider (WALLET_PROVIDER_ANCHORS is not configured)",
  attestation_untrusted_chain: "the wallet attestation's certificate chain does not lead to a trusted wallet provider",
  attestation_leaf_is_ca: "the wallet attestation is signed by a CA certificate, not a wallet provider's signing certificate",
  attestation_expired: "the wallet attestation has expired",
  attestation_certificate_expired: "a certificate of the wallet attestation's chain has expired",
  client_id_mismatch: "the wallet attestation was issued to another client_id",
  pop_missing: "the OAuth-Client-Attestation-PoP header is missing",
  pop_bad_signature: "the attestation PoP is not signed by the attested wallet key",
  pop_wrong_audience: "the attestation PoP is for another issuer",
  pop_replayed: "the attestation PoP was already used",
  pop_stale: "the attestation PoP is too old (or dated in the future)",
};

export function clientRefusal(reason: ClientAttestationFailure): ApiError {
  const detail = DESCRIPTIONS[reason] ?? `the wallet attestation was refused (${reason.replaceAll("_", " ")})`;
  return new ApiError("invalid_client", detail, { extras: { reason } });
}
