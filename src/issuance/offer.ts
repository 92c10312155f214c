import { CREDENTIAL_CONFIGURATIONS } from "./configurations";

/**
 * The credential offer an admitted person receives (OpenID4VCI 1.0 section 4.1): pre-authorized code
 * grant, no transaction code (the person already proved who they are to join the queue, and the code
 * is bound to their device key). `credential_offer_uri` is the same offer by value, as a wallet deep
 * link. The handoff offer for a wallet on another device (handoff.ts) is offered by reference instead
 * (`credentialOfferReferenceLink`): a short, single-use URL of this service that answers the offer.
 */
export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  /** `interval`: seconds between token requests while the issuer answers `authorization_pending` (the handoff). */
  grants: { [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": string; interval?: number } };
}

export function credentialOffer(issuer: string, code: string, options: { interval?: number } = {}): CredentialOffer {
  return {
    credential_issuer: issuer,
    credential_configuration_ids: Object.values(CREDENTIAL_CONFIGURATIONS),
    grants: {
      [PRE_AUTHORIZED_GRANT]: { "pre-authorized_code": code, ...(options.interval !== undefined ? { interval: options.interval } : {}) },
    },
  };
}

export function credentialOfferLink(offer: CredentialOffer): string {
  return `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`;
}

/** The offer by reference (OpenID4VCI 1.0 section 4.1.3): the wallet fetches `url` for the offer. */
export function credentialOfferReferenceLink(url: string): string {
  return `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(url)}`;
}
