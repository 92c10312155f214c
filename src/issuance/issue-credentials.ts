import type { JWK } from "jose";
import type { Env } from "../config/env";
import { encodeMdocCredential, issueMdl } from "../credentials/mdoc/issue-mdl";
import { DRIVING_LICENCE_VCT, issueDrivingLicenceSdJwtVc } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import type { LicenceHolder } from "../register/licence-holder";
import { CREDENTIAL_CONFIGURATIONS, type CredentialConfigurationId } from "./configurations";
import { mdocSigner, sdJwtSigner } from "./signers";

/**
 * Sign one credential per holder key, in the requested format. Credentials are valid for a year, or
 * until the licence itself expires if that is sooner (an already expired licence is refused upstream).
 */
const CREDENTIAL_LIFETIME_MS = 365 * 24 * 3600 * 1000;

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

export function credentialValidUntil(holder: LicenceHolder, nowMs: number): Date {
  const licenceEnd = Date.parse(`${holder.expiry_date}T23:59:59Z`);
  return new Date(Math.min(nowMs + CREDENTIAL_LIFETIME_MS, licenceEnd));
}

export async function issueCredentials(
  env: Env,
  issuer: string,
  configuration: CredentialConfigurationId,
  holder: LicenceHolder,
  holderKeys: readonly JWK[],
  nowMs: number,
): Promise<string[]> {
  const now = new Date(Math.floor(nowMs / 1000) * 1000);
  const validUntil = credentialValidUntil(holder, nowMs);
  if (configuration === CREDENTIAL_CONFIGURATIONS.mdl_mso_mdoc) {
    const signer = await mdocSigner(env);
    return Promise.all(
      holderKeys.map(async (key) => encodeMdocCredential(await issueMdl(holder, key, signer, { now, validUntil, random }))),
    );
  }
  const signer = await sdJwtSigner(env, issuer);
  return Promise.all(
    holderKeys.map((key) =>
      issueDrivingLicenceSdJwtVc(holder, key, signer, { vct: DRIVING_LICENCE_VCT, now, expiresAt: validUntil, random }),
    ),
  );
}
