/**
 * Why the issuer refuses a person a licence credential (`credential_request_denied` with `reason`), and
 * what to tell them, in French and English. One place for the words: the credential endpoint's
 * `error_description` (in the language the wallet asks for, so a third-party wallet that scanned the
 * waiting page's QR code shows it), the client SDK (CredentialDeniedError.licenceReason and
 * denialText, for the app) and the waiting page's strings (src/pages/i18n.ts) all read it. No
 * dependency: the SDK bundles it.
 */
export const LICENCE_DENIAL_REASONS = ["no_licence", "licence_expired", "licence_suspended", "licence_withdrawn"] as const;
export type LicenceDenialReason = (typeof LICENCE_DENIAL_REASONS)[number];

export function isLicenceDenialReason(value: unknown): value is LicenceDenialReason {
  return (LICENCE_DENIAL_REASONS as readonly unknown[]).includes(value);
}

const TEXT: Record<"fr" | "en", Record<LicenceDenialReason, string>> = {
  fr: {
    no_licence: "Aucun permis de conduire n'est enregistré à votre nom.",
    licence_expired: "Le permis de conduire enregistré à votre nom a expiré : renouvelez-le avant de le demander ici.",
    licence_suspended:
      "Votre permis de conduire est suspendu : il ne peut pas être délivré tant que dure la suspension. Un permis déjà reçu est suspendu lui aussi.",
    licence_withdrawn: "Votre permis de conduire a été retiré (annulé) : il ne peut plus être délivré.",
  },
  en: {
    no_licence: "No driving licence is registered for this person.",
    licence_expired: "The driving licence registered for this person has expired: renew it before asking for it here.",
    licence_suspended:
      "This person's driving licence is suspended: it cannot be issued while the suspension lasts. A licence already received is suspended too.",
    licence_withdrawn: "This person's driving licence has been withdrawn (cancelled): it can no longer be issued.",
  },
};

/** What to tell the person, in `lang` (French for anything else: the service's language). */
export function denialText(lang: string, reason: LicenceDenialReason): string {
  return TEXT[lang === "en" ? "en" : "fr"][reason];
}
