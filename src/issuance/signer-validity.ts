import type { CertificateValidity } from "../credentials/x509-validity";
import { ApiError } from "../http/problem";
import { logger } from "../log/logger";

/**
 * Signing hygiene: nothing is signed under a certificate that is not valid at the moment of signing.
 * An expired Document Signer certificate is the commonest way an issuer breaks every verifier at once
 * (the EUDI issuers' trackers, REFERENCE.md §3b), and a verifier only finds out when a holder presents.
 * Refusing is a 503 (not_configured: only the operator can fix it, by putting a fresh certificate),
 * logged as an error, and asked again at every signature, so the issuer recovers as soon as the secret
 * is replaced.
 */
export type SignerName = "mdoc_document_signer" | "status_list_signer" | "sd_jwt_signer";

const LABELS: Record<SignerName, string> = {
  mdoc_document_signer: "Document Signer",
  status_list_signer: "status list signer",
  sd_jwt_signer: "SD-JWT VC signer",
};

export function assertCertificateCurrent(signer: SignerName, validity: CertificateValidity, now: number): void {
  if (now >= validity.notBefore && now <= validity.notAfter) return;
  const expired = now > validity.notAfter;
  const reason = expired ? "signer_certificate_expired" : "signer_certificate_not_yet_valid";
  const period = `${new Date(validity.notBefore).toISOString()} to ${new Date(validity.notAfter).toISOString()}`;
  logger.error("signer_certificate_invalid", { reason, error: `${signer} certificate valid ${period}` });
  throw new ApiError(
    "not_configured",
    `the ${LABELS[signer]} certificate is ${expired ? "expired" : "not valid yet"} (valid ${period}); nothing is signed until it is replaced`,
    { extras: { reason, signer } },
  );
}
