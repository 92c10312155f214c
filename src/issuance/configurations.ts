import type { KeyAttestationPolicy, Settings } from "../config/settings";
import { DRIVING_LICENCE_VCT } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import { keyAttestationsRequiredMetadata, MDL_KEY_REQUIREMENT, type KeyAttestationRequirement } from "./key-attestation";

/**
 * The credentials this issuer offers, and how its metadata describes them (OpenID4VCI 1.0 section 12.2,
 * appendix A.2 for mso_mdoc, A.3 for dc+sd-jwt). Claim names and display text in French and English.
 */
export const MDL_DOCTYPE = "org.iso.18013.5.1.mDL";
export const MDL_NAMESPACE = "org.iso.18013.5.1";

export const CREDENTIAL_CONFIGURATIONS = {
  mdl_mso_mdoc: "fr.antichambre.mdl.mso_mdoc",
  mdl_sd_jwt: "fr.antichambre.mdl.dc_sd_jwt",
} as const;
export type CredentialConfigurationId = (typeof CREDENTIAL_CONFIGURATIONS)[keyof typeof CREDENTIAL_CONFIGURATIONS];

export type CredentialConfigurationKey = keyof typeof CREDENTIAL_CONFIGURATIONS;

export function isCredentialConfigurationId(id: string): id is CredentialConfigurationId {
  return (Object.values(CREDENTIAL_CONFIGURATIONS) as string[]).includes(id);
}

/**
 * The OAuth scope of each configuration (OpenID4VCI 1.0 §12.2.4): a wallet in the authorization code
 * flow asks for a credential by it (or by authorization_details).
 */
const SCOPES: Record<CredentialConfigurationId, string> = {
  [CREDENTIAL_CONFIGURATIONS.mdl_mso_mdoc]: "mdl_mso_mdoc",
  [CREDENTIAL_CONFIGURATIONS.mdl_sd_jwt]: "mdl_dc_sd_jwt",
};

export function scopeOfConfiguration(id: CredentialConfigurationId): string {
  return SCOPES[id];
}

/** The short key of a configuration (what its settings are named after: KEY_ATTESTATION_MDL_SD_JWT...). */
export function configurationKey(id: CredentialConfigurationId): CredentialConfigurationKey {
  return (Object.keys(CREDENTIAL_CONFIGURATIONS) as CredentialConfigurationKey[]).find((k) => CREDENTIAL_CONFIGURATIONS[k] === id)!;
}

/** [claim, French, English] for every element both formats carry. */
const CLAIMS: readonly [string, string, string][] = [
  ["family_name", "Nom", "Family name"],
  ["given_name", "Prénom", "Given name"],
  ["birth_date", "Date de naissance", "Date of birth"],
  ["issue_date", "Date de délivrance", "Date of issue"],
  ["expiry_date", "Date de fin de validité", "Date of expiry"],
  ["issuing_country", "Pays de délivrance", "Issuing country"],
  ["issuing_authority", "Autorité de délivrance", "Issuing authority"],
  ["document_number", "Numéro du permis", "Licence number"],
  ["portrait", "Photographie", "Portrait"],
  ["driving_privileges", "Catégories de permis", "Driving privileges"],
  ["un_distinguishing_sign", "Signe distinctif", "Distinguishing sign"],
];

const display = (fr: string, en: string) => [
  { name: fr, locale: "fr-FR" },
  { name: en, locale: "en-US" },
];

const CREDENTIAL_DISPLAY = [
  { name: "Permis de conduire", locale: "fr-FR", description: "Permis de conduire numérique (développement)" },
  { name: "Driving licence", locale: "en-US", description: "Digital driving licence (development)" },
];

/**
 * The `jwt` proof type (with `key_attestations_required` when the configuration requires them) and the
 * `attestation` proof type, which is a key attestation and so always meets the same requirement.
 */
function proofTypes(policy: KeyAttestationPolicy) {
  return {
    jwt: { proof_signing_alg_values_supported: ["ES256"], ...keyAttestationsRequiredMetadata(policy, MDL_KEY_REQUIREMENT) },
    attestation: { proof_signing_alg_values_supported: ["ES256"], ...keyAttestationsRequiredMetadata("required", MDL_KEY_REQUIREMENT) },
  };
}

/** Which key requirement each configuration has (both formats carry the same licence, so the same one). */
export const KEY_REQUIREMENTS: Record<CredentialConfigurationKey, KeyAttestationRequirement> = {
  mdl_mso_mdoc: MDL_KEY_REQUIREMENT,
  mdl_sd_jwt: MDL_KEY_REQUIREMENT,
};

export function credentialConfigurationsSupported(keyAttestations: Settings["keyAttestations"]): Record<string, unknown> {
  return {
    [CREDENTIAL_CONFIGURATIONS.mdl_mso_mdoc]: {
      format: "mso_mdoc",
      doctype: MDL_DOCTYPE,
      scope: SCOPES[CREDENTIAL_CONFIGURATIONS.mdl_mso_mdoc],
      cryptographic_binding_methods_supported: ["cose_key"],
      credential_signing_alg_values_supported: [-7],
      proof_types_supported: proofTypes(keyAttestations.mdl_mso_mdoc),
      credential_metadata: {
        display: CREDENTIAL_DISPLAY,
        claims: CLAIMS.map(([name, fr, en]) => ({ path: [MDL_NAMESPACE, name], mandatory: true, display: display(fr, en) })),
      },
    },
    [CREDENTIAL_CONFIGURATIONS.mdl_sd_jwt]: {
      format: "dc+sd-jwt",
      vct: DRIVING_LICENCE_VCT,
      scope: SCOPES[CREDENTIAL_CONFIGURATIONS.mdl_sd_jwt],
      cryptographic_binding_methods_supported: ["jwk"],
      credential_signing_alg_values_supported: ["ES256"],
      proof_types_supported: proofTypes(keyAttestations.mdl_sd_jwt),
      credential_metadata: {
        display: CREDENTIAL_DISPLAY,
        claims: CLAIMS.map(([name, fr, en]) => ({ path: [name], display: display(fr, en) })),
      },
    },
  };
}
