import { importJWK } from "jose";
import { required, type Env } from "../config/env";
import type { SecretName } from "../config/settings";
import { pemToDer } from "../credentials/mdoc/pem";
import { certificateValidity, type CertificateValidity } from "../credentials/x509-validity";
import { assertCertificateCurrent, type SignerName } from "./signer-validity";

/**
 * A signer the IACA certified: its ES256 private JWK (with kid) and its certificate, both secrets (the
 * Document Signer, the SD-JWT VC signer, the status list signer; `npm run keys` makes them). Imported once
 * per isolate (keyed by the secrets' values, so a rotation is picked up at once), and refused (503,
 * signer-validity.ts) whenever its certificate is not valid at the moment of signing.
 */
export interface CertifiedSigner {
  readonly key: CryptoKey;
  readonly kid: string | undefined;
  readonly certificateDer: Uint8Array;
}

const loaded = new Map<string, Promise<CertifiedSigner & { validity: CertificateValidity }>>();

export async function certifiedSigner(
  env: Env,
  secrets: { readonly key: SecretName; readonly cert: SecretName },
  name: SignerName,
  now: number,
): Promise<CertifiedSigner> {
  const keyJson = required(env, secrets.key);
  const certPem = required(env, secrets.cert);
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = loaded.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const { kid, ...jwk } = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      const certificateDer = pemToDer(certPem);
      return { key, kid, certificateDer, validity: certificateValidity(certificateDer) };
    })();
    loaded.set(cacheKey, signer);
    signer.catch(() => loaded.delete(cacheKey));
  }
  const { validity, ...ready } = await signer;
  assertCertificateCurrent(name, validity, now);
  return ready;
}
