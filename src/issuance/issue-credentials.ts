import type { JWK } from "jose";
import type { Env } from "../config/env";
import { encodeMdocCredential, issueMdl } from "../credentials/mdoc/issue-mdl";
import { DRIVING_LICENCE_VCT, issueDrivingLicenceSdJwtVc } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import type { LicenceHolder } from "../register/licence-holder";
import type { StatusReference } from "../status/ledger";
import type { CredentialFormat } from "../status/ledger-store";
import { CREDENTIAL_CONFIGURATIONS, type CredentialConfigurationId } from "./configurations";
import { mdocSigner, sdJwtSigner } from "./signers";

/**
 * Sign one credential per holder key, in the requested format, each with its own status list entry.
 * Credentials are valid for a year, or until the licence itself expires if that is sooner (an already
 * expired licence is refused upstream).
 */
const CREDENTIAL_LIFETIME_MS = 365 * 24 * 3600 * 1000;

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

export function credentialValidUntil(holder: LicenceHolder, nowMs: number): Date {
  const licenceEnd = Date.parse(`${holder.expiry_date}T23:59:59Z`);
  return new Date(Math.min(nowMs + CREDENTIAL_LIFETIME_MS, licenceEnd));
}

export function formatOf(configuration: CredentialConfigurationId): CredentialFormat {
  return configuration === CREDENTIAL_CONFIGURATIONS.mdl_mso_mdoc ? "mso_mdoc" : "dc+sd-jwt";
}

/**
 * The signer of `configuration`, refused (503 not_configured) when its certificate is not valid at
 * `nowMs`. The credential endpoint asks before it spends anything, and signing asks again.
 */
export async function checkSigner(env: Env, issuer: string, configuration: CredentialConfigurationId, nowMs: number): Promise<void> {
  if (formatOf(configuration) === "mso_mdoc") await mdocSigner(env, nowMs);
  else await sdJwtSigner(env, issuer);
}

export async function issueCredentials(
  env: Env,
  issuer: string,
  configuration: CredentialConfigurationId,
  holder: LicenceHolder,
  holderKeys: readonly JWK[],
  statuses: readonly StatusReference[],
  nowMs: number,
): Promise<string[]> {
  if (statuses.length !== holderKeys.length) throw new RangeError("one status entry per credential");
  const now = new Date(Math.floor(nowMs / 1000) * 1000);
  const validUntil = credentialValidUntil(holder, nowMs);
  const statusOf = (i: number) => ({ idx: statuses[i]!.idx, uri: statuses[i]!.uri });
  if (formatOf(configuration) === "mso_mdoc") {
    const signer = await mdocSigner(env, nowMs);
    return Promise.all(
      holderKeys.map(async (key, i) =>
        encodeMdocCredential(await issueMdl(holder, key, signer, { now, validUntil, random, status: statusOf(i) })),
      ),
    );
  }
  const signer = await sdJwtSigner(env, issuer);
  return Promise.all(
    holderKeys.map((key, i) =>
      issueDrivingLicenceSdJwtVc(holder, key, signer, {
        vct: DRIVING_LICENCE_VCT,
        now,
        expiresAt: validUntil,
        random,
        status: statusOf(i),
      }),
    ),
  );
}
