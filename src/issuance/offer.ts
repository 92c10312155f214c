import { CREDENTIAL_CONFIGURATIONS } from "./configurations";

/**
 * The credential offer an admitted person receives (OpenID4VCI 1.0 section 4.1): pre-authorized code
 * grant, no transaction code (the person already proved who they are to join the queue, and the code
 * is bound to their device key). The handoff offer for a wallet on another device (handoff.ts) carries
 * a transaction code instead. `credential_offer_uri` is the same offer by value, as a wallet deep
 * link / QR code content.
 */
export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/** OpenID4VCI 1.0 section 4.1.1: the wallet must ask its user for this code and send it as `tx_code`. */
export interface TxCodeDescriptor {
  input_mode: "numeric";
  length: number;
  description: string;
}

export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  grants: { [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": string; tx_code?: TxCodeDescriptor } };
}

export function credentialOffer(issuer: string, code: string, txCode?: TxCodeDescriptor): CredentialOffer {
  return {
    credential_issuer: issuer,
    credential_configuration_ids: Object.values(CREDENTIAL_CONFIGURATIONS),
    grants: { [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": code, ...(txCode ? { tx_code: txCode } : {}) } },
  };
}

export function credentialOfferLink(offer: CredentialOffer): string {
  return `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`;
}
