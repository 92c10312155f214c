import type { Env } from "../config/env";
import { certifiedSigner, type CertifiedSigner } from "../issuance/certified-signer";

/**
 * The status list signer: its own ES256 key and certificate (STATUS_LIST_KEY, STATUS_LIST_CERT, made by
 * `npm run keys`, signed by the IACA), distinct from the Document Signer and the SD-JWT VC key. A key
 * that signs a list every few minutes, served to millions of verifiers, is kept apart from the keys that
 * sign credentials: rotating or revoking one never touches the other (issue 16, "distinct keys").
 * Imported once per isolate; its certificate must be valid whenever it signs (signer-validity.ts).
 */
export type StatusListSigner = Pick<CertifiedSigner, "key" | "certificateDer">;

export function statusListSigner(env: Env, now: number): Promise<StatusListSigner> {
  return certifiedSigner(env, { key: "STATUS_LIST_KEY", cert: "STATUS_LIST_CERT" }, "status_list_signer", now);
}
