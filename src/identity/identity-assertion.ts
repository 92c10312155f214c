import { isJkt } from "../auth/jkt";
import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

/**
 * Identity assertions from the national identity service (the France Connect / France Identité side):
 * ES256 JWTs with `iss`, `sub` (the person identifier), `aud`, `iat`, `exp`, verified at the edge
 * against the configured JWKS. The JWKS is a variable, parsed once per isolate: no call per request,
 * and a key rotation on their side is a `wrangler secret put IDENTITY_JWKS` on ours.
 *
 * Key binding: an assertion may carry `cnf.jkt`, the RFC 7638 thumbprint of the device key the identity
 * service saw (RFC 7800 confirmation). The join then accepts it only with a DPoP proof by that key, so
 * an assertion captured in transit or from a log is worth nothing on another device. IDENTITY_BINDING
 * says what to do with assertions that carry none: "optional" (the default: accepted, a bearer token
 * for their 10 minutes) or "required" (refused), for when the identity service binds every assertion.
 */
export const MAX_ASSERTION_AGE_SECONDS = 600;
const MAX_ASSERTION_LENGTH = 4096;

export type AssertionFailure =
  | "missing"
  | "too_large"
  | "malformed"
  | "bad_signature"
  | "unknown_key"
  | "expired"
  | "wrong_issuer"
  | "wrong_audience"
  | "bad_claims"
  | "key_not_bound"
  | "bound_to_another_key";

export type AssertionResult = { ok: true; personId: string } | { ok: false; reason: AssertionFailure };

export type IdentityBinding = "optional" | "required";

const keySets = new Map<string, JWTVerifyGetKey>();

function keySet(jwksJson: string): JWTVerifyGetKey {
  let set = keySets.get(jwksJson);
  if (!set) {
    set = createLocalJWKSet(JSON.parse(jwksJson) as JSONWebKeySet);
    keySets.set(jwksJson, set);
  }
  return set;
}

/** `device.jkt`: the thumbprint of the key whose DPoP proof came with the assertion. */
export async function verifyIdentityAssertion(
  assertion: string,
  trust: { jwks: string; issuer: string; audience: string; binding?: IdentityBinding },
  nowMs: number,
  device: { jkt: string },
): Promise<AssertionResult> {
  if (!assertion) return { ok: false, reason: "missing" };
  if (assertion.length > MAX_ASSERTION_LENGTH) return { ok: false, reason: "too_large" };
  try {
    const { payload } = await jwtVerify(assertion, keySet(trust.jwks), {
      algorithms: ["ES256"],
      issuer: trust.issuer,
      audience: trust.audience,
      currentDate: new Date(nowMs),
      maxTokenAge: MAX_ASSERTION_AGE_SECONDS,
      clockTolerance: 60,
      requiredClaims: ["sub", "iat", "exp"],
    });
    const sub = payload.sub;
    if (typeof sub !== "string" || sub.length < 1 || sub.length > 128) return { ok: false, reason: "bad_claims" };
    if (payload.cnf !== undefined) {
      const jkt = (payload.cnf as { jkt?: unknown } | null)?.jkt;
      if (!isJkt(jkt)) return { ok: false, reason: "bad_claims" };
      if (jkt !== device.jkt) return { ok: false, reason: "bound_to_another_key" };
    } else if (trust.binding === "required") {
      return { ok: false, reason: "key_not_bound" };
    }
    return { ok: true, personId: sub };
  } catch (e) {
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === "iss") return { ok: false, reason: "wrong_issuer" };
      if (e.claim === "aud") return { ok: false, reason: "wrong_audience" };
      return { ok: false, reason: e.claim === "iat" ? "expired" : "bad_claims" };
    }
    if (e instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: "unknown_key" };
    if (e instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad_signature" };
    return { ok: false, reason: "malformed" };
  }
}
