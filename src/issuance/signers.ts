import { importJWK } from "jose";
import { required, secret, type Env } from "../config/env";
import type { MdlSigner } from "../credentials/mdoc/issue-mdl";
import { pemToDer } from "../credentials/mdoc/pem";
import type { SdJwtVcSigner } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import { certificateValidity, type CertificateValidity } from "../credentials/x509-validity";
import { ecKeyring } from "../tickets/keyring";
import { assertCertificateCurrent } from "./signer-validity";

/**
 * The credential signers, imported once per isolate from their secrets (development: the embedded
 * keys of src/config/dev-credentials.ts, which `npm run keys` regenerates).
 */
const mdocSigners = new Map<string, Promise<MdlSigner & { validity: CertificateValidity }>>();

/** The Document Signer, refused (503) when its certificate is not valid at `now` (signer-validity.ts). */
export async function mdocSigner(env: Env, now: number): Promise<MdlSigner> {
  const signer = await loadMdocSigner(env);
  assertCertificateCurrent("mdoc_document_signer", signer.validity, now);
  return signer;
}

function loadMdocSigner(env: Env): Promise<MdlSigner & { validity: CertificateValidity }> {
  const keyJson = required(env, "MDOC_DS_KEY");
  const certPem = required(env, "MDOC_DS_CERT");
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = mdocSigners.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const jwk = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      const certificateDer = pemToDer(certPem);
      return { key, certificateDer, validity: certificateValidity(certificateDer) };
    })();
    mdocSigners.set(cacheKey, signer);
    signer.catch(() => mdocSigners.delete(cacheKey));
  }
  return signer;
}

/** SD-JWT VCs are signed with the service's ES256 keys (SIGNING_KEYS), published in the JWKS. */
export async function sdJwtSigner(env: Env, issuer: string): Promise<SdJwtVcSigner> {
  const ring = await ecKeyring(secret(env, "SIGNING_KEYS"));
  return { key: ring.signing.key, kid: ring.signing.kid, issuer };
}
