import { CREDENTIAL_CONFIGURATIONS } from "./configurations";

/**
 * The credential offer an admitted person receives (OpenID4VCI 1.0 section 4.1): pre-authorized code
 * grant, no transaction code (the person already proved who they are to join the queue, and the code
 * is bound to their device key). `credential_offer_uri` is the same offer by value, as a wallet deep
 * link / QR code content.
 */
export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  grants: { [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": string } };
}

export function credentialOffer(issuer: string, code: string): CredentialOffer {
  return {
    credential_issuer: issuer,
    credential_configuration_ids: Object.values(CREDENTIAL_CONFIGURATIONS),
    grants: { [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": code } },
  };
}

export function credentialOfferLink(offer: CredentialOffer): string {
  return `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`;
}
