import type { JWK } from "jose";
import { verifyAttestedJwt } from "../auth/attested-jwt";
import type { KeyAttestationPolicy } from "../config/settings";
import { ok, refuse, type Result } from "../lib/result";

/**
 * Key attestation (OpenID4VCI 1.0 appendix D): a `key-attestation+jwt` by the wallet provider, carried
 * in the `key_attestation` header of a `jwt` key proof, saying which keys (`attested_keys`) live in a
 * key store resisting which attack potential (`key_storage`, `user_authentication`, ISO 18045 levels).
 * A proof's key is accepted only if it is one of the attested keys, the attestation chains to one of
 * WALLET_PROVIDER_ANCHORS (wallet providers attest both the wallet and its keys, so the anchors are
 * shared), its levels are among those the configuration accepts, it has not expired, and its `nonce`,
 * when it has one, is the proof's c_nonce (a fresh attestation made for this request).
 *
 * An attestation without `nonce` is accepted: wallet providers commonly attest a key once, when it is
 * made, and the proof that accompanies it carries the c_nonce anyway (checked and consumed as for any
 * proof), so the request is fresh even if the attestation is not. `exp` bounds how long such an
 * attestation is good for.
 *
 * One credential per proof, as without attestation: the proof's key is bound, not every attested key
 * (the specification's SHOULD); a wallet wanting a batch sends one proof per key, each with the same
 * attestation, which is verified once per request.
 */
export interface KeyAttestationRequirement {
  readonly key_storage: readonly string[];
  readonly user_authentication: readonly string[];
}

/**
 * What a driving licence's keys must resist: attack potential moderate or high (a phone's secure
 * element or a certified keystore), both for the key store and for the user authentication guarding
 * it. Enhanced-basic and basic (a software keystore) are refused.
 */
export const MDL_KEY_REQUIREMENT: KeyAttestationRequirement = {
  key_storage: ["iso_18045_high", "iso_18045_moderate"],
  user_authentication: ["iso_18045_high", "iso_18045_moderate"],
};

export type KeyAttestationFailure =
  | "key_attestation_missing"
  | "key_attestation_malformed"
  | "untrusted_chain"
  | "bad_signature"
  | "expired"
  | "key_not_attested"
  | "key_storage_too_weak"
  | "user_authentication_too_weak"
  | "nonce_mismatch"
  // The `attestation` proof type only:
  | "missing_nonce"
  | "unsupported_key";

export interface KeyAttestationCheck {
  policy: KeyAttestationPolicy;
  requirement: KeyAttestationRequirement;
  /** PEM text of WALLET_PROVIDER_ANCHORS. */
  anchors: string | undefined;
  now: number;
}

/** The verified content of an attestation, to check each proof of a request against without re-verifying. */
export interface AttestedKeys {
  readonly keys: readonly JWK[];
  readonly nonce: string | undefined;
}

/** Attestations verified during one request, by their text: a batch's proofs usually share one. */
export type VerifiedAttestations = Map<string, Promise<Result<AttestedKeys, KeyAttestationFailure>>>;

/**
 * Check the key proof's `key_attestation` header (undefined when it has none) for the proof's key and
 * c_nonce. `verified` caches verified attestations by their text for the length of one request.
 */
export async function checkKeyAttestation(
  attestation: unknown,
  proof: { jwk: JWK; nonce: string },
  check: KeyAttestationCheck,
  verified: VerifiedAttestations = new Map(),
): Promise<Result<null, KeyAttestationFailure>> {
  if (attestation === undefined) return check.policy === "required" ? refuse("key_attestation_missing") : ok(null);
  if (typeof attestation !== "string") return refuse("key_attestation_malformed");
  let attested = verified.get(attestation);
  if (!attested) {
    attested = verifyKeyAttestation(attestation, check);
    verified.set(attestation, attested);
  }
  const result = await attested;
  if (!result.ok) return result;
  if (!result.value.keys.some((k) => sameKey(k, proof.jwk))) return refuse("key_not_attested");
  if (result.value.nonce !== undefined && result.value.nonce !== proof.nonce) return refuse("nonce_mismatch");
  return ok(null);
}

async function verifyKeyAttestation(jwt: string, check: KeyAttestationCheck): Promise<Result<AttestedKeys, KeyAttestationFailure>> {
  const verified = await verifyAttestedJwt(jwt, {
    // OpenID4VCI 1.0's name, and the drafts' (`keyattestation+jwt`), which wallet libraries still make
    // (@openid4vc/openid4vci 0.4): the same object either way.
    typ: ["key-attestation+jwt", "keyattestation+jwt"],
    anchors: check.anchors,
    now: check.now,
    requiredClaims: ["iat", "exp", "attested_keys"],
  });
  if (!verified.ok) {
    switch (verified.reason) {
      case "expired":
      case "certificate_expired":
        return refuse("expired");
      case "bad_signature":
        return refuse("bad_signature");
      case "missing":
      case "malformed":
      case "wrong_type":
      case "missing_claims":
        return refuse("key_attestation_malformed");
      // A chain we cannot follow to an anchor, for whatever reason (none configured, a CA misused, an
      // unsupported algorithm): one public reason; the detail is the operator's, in the logs if needed.
      case "malformed_chain":
      case "unsupported_algorithm":
      case "certificate_not_yet_valid":
      case "issuer_not_ca":
      case "leaf_is_ca":
      case "untrusted_chain":
      case "no_trust_anchor":
        return refuse("untrusted_chain");
    }
  }
  const claims = verified.value.payload;
  const keys = claims.attested_keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 100 || !keys.every(isPublicEcKey))
    return refuse("key_attestation_malformed");
  if (claims.nonce !== undefined && typeof claims.nonce !== "string") return refuse("key_attestation_malformed");
  if (!meets(claims.key_storage, check.requirement.key_storage)) return refuse("key_storage_too_weak");
  if (!meets(claims.user_authentication, check.requirement.user_authentication)) return refuse("user_authentication_too_weak");
  return ok({ keys, nonce: claims.nonce });
}

/**
 * The `attestation` proof type (OpenID4VCI 1.0 appendix F.3): the key attestation alone, no proof of
 * possession; a credential for each attested key. Its `nonce` must be a c_nonce (the caller consumes
 * it like a jwt proof's), since nothing else makes the request fresh; the attested keys must be
 * P-256, the keys the credentials here bind to.
 */
export async function verifyAttestationProof(
  jwt: string,
  check: KeyAttestationCheck,
): Promise<Result<{ keys: JWK[]; nonce: string }, KeyAttestationFailure>> {
  const verified = await verifyKeyAttestation(jwt, check);
  if (!verified.ok) return verified;
  const { keys, nonce } = verified.value;
  if (nonce === undefined) return refuse("missing_nonce");
  if (!keys.every((k) => k.crv === "P-256")) return refuse("unsupported_key");
  const distinct = new Set(keys.map((k) => `${k.x}.${k.y}`));
  if (distinct.size !== keys.length) return refuse("key_attestation_malformed");
  return ok({ keys: keys.map(({ kty, crv, x, y }) => ({ kty, crv, x, y })), nonce });
}

/** The attestation asserts at least one of the accepted levels (absent asserts none). */
function meets(asserted: unknown, accepted: readonly string[]): boolean {
  if (accepted.length === 0) return true;
  return Array.isArray(asserted) && asserted.some((level) => typeof level === "string" && accepted.includes(level));
}

function isPublicEcKey(jwk: unknown): jwk is JWK {
  if (!jwk || typeof jwk !== "object") return false;
  const k = jwk as Record<string, unknown>;
  return k.kty === "EC" && typeof k.crv === "string" && typeof k.x === "string" && typeof k.y === "string" && !("d" in k);
}

function sameKey(a: JWK, b: JWK): boolean {
  return a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y;
}

/** The `key_attestations_required` member of a configuration's `jwt` proof type (absent when optional, as the specification asks). */
export function keyAttestationsRequiredMetadata(policy: KeyAttestationPolicy, requirement: KeyAttestationRequirement) {
  return policy === "required"
    ? {
        key_attestations_required: { key_storage: [...requirement.key_storage], user_authentication: [...requirement.user_authentication] },
      }
    : {};
}
