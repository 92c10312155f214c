import { importJWK } from "jose";
import { required, type Env } from "../config/env";
import { pemToDer } from "../credentials/mdoc/pem";
import { certificateValidity, type CertificateValidity } from "../credentials/x509-validity";
import { assertCertificateCurrent } from "../issuance/signer-validity";

/**
 * The status list signer: its own ES256 key and certificate (STATUS_LIST_KEY, STATUS_LIST_CERT, made by
 * `npm run keys`, signed by the IACA), distinct from the Document Signer and the SD-JWT VC key. A key
 * that signs a list every few minutes, served to millions of verifiers, is kept apart from the keys that
 * sign credentials: rotating or revoking one never touches the other (issue 16, "distinct keys").
 * Imported once per isolate; its certificate must be valid whenever it signs (signer-validity.ts).
 */
export interface StatusListSigner {
  readonly key: CryptoKey;
  readonly certificateDer: Uint8Array;
}

const loaded = new Map<string, Promise<StatusListSigner & { validity: CertificateValidity }>>();

export async function statusListSigner(env: Env, now: number): Promise<StatusListSigner> {
  const keyJson = required(env, "STATUS_LIST_KEY");
  const certPem = required(env, "STATUS_LIST_CERT");
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = loaded.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const jwk = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      const certificateDer = pemToDer(certPem);
      return { key, certificateDer, validity: certificateValidity(certificateDer) };
    })();
    loaded.set(cacheKey, signer);
    signer.catch(() => loaded.delete(cacheKey));
  }
  const ready = await signer;
  assertCertificateCurrent("status_list_signer", ready.validity, now);
  return ready;
}
