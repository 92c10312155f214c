import { importJWK, type JWK } from "jose";
import { required, type Env } from "../config/env";
import type { MdlSigner } from "../credentials/mdoc/issue-mdl";
import { pemToDer } from "../credentials/mdoc/pem";
import type { SdJwtVcSigner } from "../credentials/sd-jwt/issue-sd-jwt-vc";

/**
 * The credential signers, imported once per isolate from their secrets (development: the embedded
 * keys of src/config/dev-credentials.ts, which `npm run keys` regenerates).
 */
const mdocSigners = new Map<string, Promise<MdlSigner>>();

export function mdocSigner(env: Env): Promise<MdlSigner> {
  const keyJson = required(env, "MDOC_DS_KEY");
  const certPem = required(env, "MDOC_DS_CERT");
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = mdocSigners.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const jwk = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      return { key, certificateDer: pemToDer(certPem) };
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
const sdJwtSigners = new Map<string, Promise<Omit<SdJwtVcSigner, "issuer">>>();

export async function sdJwtSigner(env: Env, issuer: string): Promise<SdJwtVcSigner> {
  const keyJson = required(env, "SD_JWT_SIGNER_KEY");
  const certPem = required(env, "SD_JWT_SIGNER_CERT");
  const cacheKey = `${keyJson}\u0000${certPem}`;
  let signer = sdJwtSigners.get(cacheKey);
  if (!signer) {
    signer = (async () => {
      const { kid, ...jwk } = JSON.parse(keyJson) as Record<string, string>;
      const key = (await importJWK({ ...jwk, alg: "ES256" }, "ES256")) as CryptoKey;
      return { key, kid: kid!, x5c: [derBase64(pemToDer(certPem))] };
    })();
    sdJwtSigners.set(cacheKey, signer);
    signer.catch(() => sdJwtSigners.delete(cacheKey));
  }
  return { ...(await signer), issuer };
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
