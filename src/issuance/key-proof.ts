import { EmbeddedJWK, errors, jwtVerify, type JWK } from "jose";

/**
 * OpenID4VCI 1.0 key proofs of type `jwt` (appendix F.1): `typ: openid4vci-proof+jwt`, the holder's
 * public key in the `jwk` header, signed by it; `aud` the credential issuer, a recent `iat`, and the
 * `nonce` the issuer handed out. Each valid proof yields one credential bound to its key.
 */
export const PROOF_MAX_AGE_SECONDS = 300;
export const MAX_PROOF_LENGTH = 8 * 1024;

export type KeyProofFailure =
  "malformed" | "bad_signature" | "wrong_type" | "unsupported_key" | "wrong_audience" | "stale" | "missing_nonce";
/** `keyAttestation`: the proof's `key_attestation` header, unverified (src/issuance/key-attestation.ts checks it). */
export type KeyProofResult = { ok: true; jwk: JWK; nonce: string; keyAttestation: unknown } | { ok: false; reason: KeyProofFailure };

export async function verifyKeyProof(proof: string, issuer: string, nowMs: number): Promise<KeyProofResult> {
  // A key attestation in the header (a certificate chain and the attested keys) makes proofs longer.
  if (proof.length > MAX_PROOF_LENGTH) return { ok: false, reason: "malformed" };
  try {
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      typ: "openid4vci-proof+jwt",
      algorithms: ["ES256"],
      audience: issuer,
      currentDate: new Date(nowMs),
      maxTokenAge: PROOF_MAX_AGE_SECONDS,
      clockTolerance: 60,
      requiredClaims: ["iat"],
    });
    const jwk = protectedHeader.jwk!;
    if (jwk.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk) return { ok: false, reason: "unsupported_key" };
    if (typeof payload.nonce !== "string" || payload.nonce.length === 0) return { ok: false, reason: "missing_nonce" };
    return {
      ok: true,
      jwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y },
      nonce: payload.nonce,
      keyAttestation: protectedHeader.key_attestation,
    };
  } catch (e) {
    if (e instanceof errors.JWTExpired || (e instanceof errors.JWTClaimValidationFailed && e.claim === "iat"))
      return { ok: false, reason: "stale" };
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === "aud") return { ok: false, reason: "wrong_audience" };
      if (e.claim === "typ") return { ok: false, reason: "wrong_type" };
      return { ok: false, reason: "malformed" };
    }
    if (e instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad_signature" };
    if (e instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: "unsupported_key" };
    return { ok: false, reason: "malformed" };
  }
}
