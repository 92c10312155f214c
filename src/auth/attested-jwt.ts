import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { ok, refuse, type Result } from "../lib/result";
import { parseAnchors, verifyX5c, type ChainFailure } from "./x509-chain";

/**
 * A JWT signed by a wallet provider: its `x5c` header chains to one of the configured anchors
 * (src/auth/x509-chain.ts) and the leaf certificate's key signed it. Both wallet attestations (client
 * authentication) and key attestations (OpenID4VCI appendix D) are such JWTs; the caller checks the
 * claims that give each its meaning.
 */
export type AttestedJwtFailure = ChainFailure | "missing" | "malformed" | "wrong_type" | "bad_signature" | "expired" | "missing_claims";

/** Long enough for a three-certificate chain; far below the 8 KiB a header may carry (src/http/input-limits.ts). */
const MAX_ATTESTATION_LENGTH = 8 * 1024;

export interface AttestedJwtOptions {
  /** The `typ` the JWT must carry; several when a spec renamed it and wallets still send the old name. */
  typ: string | readonly string[];
  /** PEM text of the trust anchors (WALLET_PROVIDER_ANCHORS). */
  anchors: string | undefined;
  now: number;
  requiredClaims: string[];
}

export async function verifyAttestedJwt(
  jwt: string | undefined,
  options: AttestedJwtOptions,
): Promise<Result<{ payload: JWTPayload; header: Record<string, unknown> }, AttestedJwtFailure>> {
  if (!jwt) return refuse("missing");
  if (jwt.length > MAX_ATTESTATION_LENGTH) return refuse("malformed");
  let header: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(jwt);
  } catch {
    return refuse("malformed");
  }
  const types: readonly string[] = typeof options.typ === "string" ? [options.typ] : options.typ;
  if (typeof header.typ !== "string" || !types.includes(header.typ)) return refuse("wrong_type");
  if (header.alg !== "ES256") return refuse("unsupported_algorithm");
  const chain = await verifyX5c(header.x5c, parseAnchors(options.anchors), options.now);
  if (!chain.ok) return chain;
  if (chain.value.leaf.curve !== "P-256") return refuse("unsupported_algorithm");
  try {
    const { payload } = await jwtVerify(jwt, chain.value.leafKey, {
      typ: header.typ,
      algorithms: ["ES256"],
      currentDate: new Date(options.now),
      clockTolerance: 60,
      requiredClaims: options.requiredClaims,
    });
    return ok({ payload, header });
  } catch (e) {
    if (e instanceof errors.JWTExpired) return refuse("expired");
    if (e instanceof errors.JWTClaimValidationFailed) return refuse("missing_claims");
    if (e instanceof errors.JWSSignatureVerificationFailed) return refuse("bad_signature");
    return refuse("malformed");
  }
}
