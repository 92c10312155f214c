import { importJWK, type JWK } from "jose";
import { required, type Env } from "../config/env";
import type { MdlSigner } from "../credentials/mdoc/issue-mdl";
import { pemToDer } from "../credentials/mdoc/pem";
import type { SdJwtVcSigner } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import { certificateValidity, type CertificateValidity } from "../credentials/x509-validity";
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

/**
 * SD-JWT VCs are signed by their own key (SD_JWT_SIGNER_KEY), whose certificate (SD_JWT_SIGNER_CERT) the
 * IACA issued, like the Document Signer's: the credential's `x5c` header carries that certificate (the
 * chain without the root, HAIP), and `kid` names the key in the JWT VC issuer metadata for verifiers
 * that resolve keys from the issuer instead (/.well-known/jwt-vc-issuer).
 */
const sdJwtSigners = new Map<string, Promise<Omit<SdJwtVcSigner, "issuer"> & { validity: CertificateValidity }>>();

/** Refused (503) when its certificate is not valid at `now`, as the Document Signer is (signer-validity.ts). */
export async function sdJwtSigner(env: Env, issuer: string, now: number): Promise<SdJwtVcSigner> {
  const keyJson = required(env, "SD_JWT_SIGNER_KEY");
  const certPem = required(env, "SD_JWT_SIGNER_CERT");
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = sdJwtSigners.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const { kid, ...jwk } = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      const certificateDer = pemToDer(certPem);
      return { key, kid: kid!, x5c: [derBase64(certificateDer)], validity: certificateValidity(certificateDer) };
    })();
    sdJwtSigners.set(cacheKey, signer);
    signer.catch(() => sdJwtSigners.delete(cacheKey));
  }
  const { validity, ...loaded } = await signer;
  assertCertificateCurrent("sd_jwt_signer", validity, now);
  return { ...loaded, issuer };
}

/** The SD-JWT VC signer's public JWK (with kid), for the JWT VC issuer metadata. */
export function sdJwtSignerPublicJwk(env: Env): JWK {
  const { kid, kty, crv, x, y } = JSON.parse(required(env, "SD_JWT_SIGNER_KEY")) as Record<string, string>;
  return { kid, kty, crv, x, y, alg: "ES256", use: "sig" };
}

function derBase64(der: Uint8Array): string {
  let bin = "";
  for (const b of der) bin += String.fromCharCode(b);
  return btoa(bin);
}
