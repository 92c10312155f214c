import { importJWK, SignJWT } from "jose";
import { DEV_IDENTITY_ISSUER, DEV_IDENTITY_KEY } from "../config/dev-defaults";

/**
 * The development stand-in for the national identity service: mints an identity assertion for any
 * demo person. Reachable only through the dev router, which answers 404 outside development.
 */
let key: Promise<CryptoKey> | null = null;

/** `jkt`: bind the assertion to that device key (`cnf.jkt`), as a binding identity service would. */
export async function mintDevIdentityAssertion(
  personId: string,
  audience: string,
  nowMs: number,
  lifetimeSeconds = 300,
  jkt?: string,
): Promise<string> {
  key ??= importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256") as Promise<CryptoKey>;
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT(jkt === undefined ? {} : { cnf: { jkt } })
    .setProtectedHeader({ alg: "ES256", kid: DEV_IDENTITY_KEY.kid, typ: "JWT" })
    .setIssuer(DEV_IDENTITY_ISSUER)
    .setSubject(personId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetimeSeconds)
    .sign(await key);
}
