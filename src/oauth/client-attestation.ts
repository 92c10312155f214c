import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from "jose";
import type { Env } from "../config/env";
import { claimOnce } from "../edge/replay";
import { ApiError } from "../http/problem";

/**
 * PLACEHOLDER owned by the `attest` branch (r3-shared.md fixes this interface): OAuth 2.0
 * Attestation-Based Client Authentication. This stand-in checks only the proof of possession (signed by
 * the attestation's `cnf.jwk`, `aud` = issuer, fresh `iat`, `jti` once) and the attestation's claims;
 * it does NOT check the attestation's signature chain to a trusted wallet provider. The `attest`
 * branch's file replaces it when merged: nothing here may ship.
 */
export async function authenticateClient(
  env: Env,
  headers: { attestation?: string; pop?: string },
  ctx: { issuer: string; now: number },
): Promise<{ clientId: string; walletKeyJkt: string }> {
  const refuse = (reason: string) =>
    new ApiError("invalid_client", `the wallet attestation was refused (${reason.replaceAll("_", " ")})`, { extras: { reason } });
  if (!headers.attestation || !headers.pop) throw refuse("missing_attestation");
  let claims;
  try {
    if (decodeProtectedHeader(headers.attestation).typ !== "oauth-client-attestation+jwt") throw refuse("wrong_type");
    claims = decodeJwt(headers.attestation);
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw refuse("malformed");
  }
  const cnf = (claims.cnf as { jwk?: JWK } | undefined)?.jwk;
  if (typeof claims.sub !== "string" || !cnf || typeof claims.exp !== "number" || claims.exp * 1000 <= ctx.now) throw refuse("bad_claims");
  try {
    const { payload } = await jwtVerify(headers.pop, await importJWK({ ...cnf, alg: "ES256" }, "ES256"), {
      typ: "oauth-client-attestation-pop+jwt",
      audience: ctx.issuer,
      issuer: claims.sub,
      currentDate: new Date(ctx.now),
      maxTokenAge: 300,
      requiredClaims: ["jti", "iat"],
    });
    if (!(await claimOnce(env, "dpop", `attestation-pop:${String(payload.jti)}`, ctx.now + 600_000))) throw refuse("pop_replayed");
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw refuse("bad_pop");
  }
  return { clientId: claims.sub, walletKeyJkt: await calculateJwkThumbprint(cnf, "sha256") };
}
