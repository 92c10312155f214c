import { base64url, calculateJwkThumbprint, EmbeddedJWK, errors, jwtVerify, type JWK } from "jose";

/**
 * DPoP proof verification (RFC 9449 section 4.3), as far as joining the queue needs it.
 *
 * The proof's embedded public key becomes the device key a ticket is bound to; its thumbprint (`jkt`) is
 * what later proofs (token endpoint, credential endpoint) must match. Only ES256 on P-256 is accepted:
 * that is what phones' secure enclaves and WebCrypto both offer.
 */
export const DPOP_MAX_AGE_SECONDS = 300;
/** Phones' clocks are wrong; allow this much of `iat` in the future. */
export const DPOP_CLOCK_SKEW_SECONDS = 60;
const MAX_PROOF_LENGTH = 4096;

export type DpopFailure =
  | "missing"
  | "too_large"
  | "malformed"
  | "bad_signature"
  | "wrong_type"
  | "unsupported_key"
  | "stale"
  | "wrong_method"
  | "wrong_url"
  | "missing_claims"
  | "wrong_access_token_hash";

/** `nonce`: the server nonce the proof carries, if any (checked by the endpoints that require one, src/oauth/dpop-nonce.ts). */
export type DpopResult =
  { ok: true; jkt: string; jwk: JWK; jti: string; iat: number; nonce: string | undefined } | { ok: false; reason: DpopFailure };

/** htu is compared without query and fragment (RFC 9449 section 4.3, check 9). */
export function normalizeHtu(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}

/**
 * Until when a proof's `jti` must be remembered to refuse its replay: past this the proof is refused as
 * stale anyway (its `iat` window, plus two minutes for clocks that disagree).
 */
export function proofReplayWindowEnd(iatSeconds: number): number {
  return (iatSeconds + DPOP_MAX_AGE_SECONDS + 120) * 1000;
}

/** base64url(SHA-256(access token)): the `ath` a proof must carry when it accompanies that token. */
export async function accessTokenHash(token: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

/** `accessToken`: when the proof accompanies an access token, its `ath` must be that token's hash. */
export async function verifyDpopProof(
  proof: string | undefined,
  request: { method: string; url: string },
  nowMs: number,
  accessToken?: string,
): Promise<DpopResult> {
  if (!proof) return { ok: false, reason: "missing" };
  if (proof.length > MAX_PROOF_LENGTH) return { ok: false, reason: "too_large" };
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: "dpop+jwt",
      algorithms: ["ES256"],
      currentDate: new Date(nowMs),
      maxTokenAge: DPOP_MAX_AGE_SECONDS,
      clockTolerance: DPOP_CLOCK_SKEW_SECONDS,
      requiredClaims: ["iat", "jti", "htm", "htu"],
    });
    const jwk = protectedHeader.jwk!;
    if (jwk.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk) return { ok: false, reason: "unsupported_key" };
    if (payload.htm !== request.method) return { ok: false, reason: "wrong_method" };
    if (typeof payload.htu !== "string" || normalizeHtu(payload.htu) !== normalizeHtu(request.url)) {
      return { ok: false, reason: "wrong_url" };
    }
    if (typeof payload.jti !== "string" || payload.jti.length < 8 || payload.jti.length > 256) {
      return { ok: false, reason: "missing_claims" };
    }
    if (accessToken !== undefined && payload.ath !== (await accessTokenHash(accessToken))) {
      return { ok: false, reason: "wrong_access_token_hash" };
    }
    const publicJwk: JWK = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
    return {
      ok: true,
      jkt: await calculateJwkThumbprint(publicJwk, "sha256"),
      jwk: publicJwk,
      jti: payload.jti,
      iat: payload.iat!,
      nonce: typeof payload.nonce === "string" ? payload.nonce : undefined,
    };
  } catch (e) {
    if (e instanceof errors.JWTExpired || (e instanceof errors.JWTClaimValidationFailed && e.claim === "iat")) {
      return { ok: false, reason: "stale" };
    }
    if (e instanceof errors.JWTClaimValidationFailed) {
      return { ok: false, reason: e.claim === "typ" ? "wrong_type" : "missing_claims" };
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad_signature" };
    if (e instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: "unsupported_key" };
    return { ok: false, reason: "malformed" };
  }
}
