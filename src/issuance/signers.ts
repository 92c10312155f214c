import type { JWK } from "jose";
import { required, type Env } from "../config/env";
import type { MdlSigner } from "../credentials/mdoc/issue-mdl";
import type { SdJwtVcSigner } from "../credentials/sd-jwt/issue-sd-jwt-vc";
import { bytesToBase64 } from "../lib/base64";
import { certifiedSigner } from "./certified-signer";

/**
 * The credential signers (development: the embedded keys of src/config/dev-credentials.ts, which
 * `npm run keys` regenerates), each loaded once per isolate and checked valid at signing
 * (certified-signer.ts).
 */

/** The Document Signer: its certificate goes in the MSO's `x5chain`. */
export async function mdocSigner(env: Env, now: number): Promise<MdlSigner> {
  const { key, certificateDer } = await certifiedSigner(env, { key: "MDOC_DS_KEY", cert: "MDOC_DS_CERT" }, "mdoc_document_signer", now);
  return { key, certificateDer };
}

/**
 * SD-JWT VCs are signed by their own key (SD_JWT_SIGNER_KEY), whose certificate (SD_JWT_SIGNER_CERT) the
 * IACA issued, like the Document Signer's: the credential's `x5c` header carries that certificate (the
 * chain without the root, HAIP), and `kid` names the key in the JWT VC issuer metadata for verifiers
 * that resolve keys from the issuer instead (/.well-known/jwt-vc-issuer).
 */
export async function sdJwtSigner(env: Env, issuer: string, now: number): Promise<SdJwtVcSigner> {
  const { key, kid, certificateDer } = await certifiedSigner(
    env,
    { key: "SD_JWT_SIGNER_KEY", cert: "SD_JWT_SIGNER_CERT" },
    "sd_jwt_signer",
    now,
  );
  return { key, kid: kid!, x5c: [bytesToBase64(certificateDer)], issuer };
}

/** The SD-JWT VC signer's public JWK (with kid), for the JWT VC issuer metadata. */
export function sdJwtSignerPublicJwk(env: Env): JWK {
  const { kid, kty, crv, x, y } = JSON.parse(required(env, "SD_JWT_SIGNER_KEY")) as Record<string, string>;
  return { kid, kty, crv, x, y, alg: "ES256", use: "sig" };
}
