// Independent verification of issued credentials for the Node runners (test/e2e, test/browser), with the
// libraries the vitest suites verify with: @owf/mdoc (the OpenWallet Foundation's mdoc-ts) for the mDL,
// against the development IACA root, and @sd-jwt/sd-jwt-vc for the SD-JWT VC, against the key of its
// x5c chain to the same root. The mdoc crypto context is the vitest one (test/helpers/mdoc-verifier.ts),
// bundled here with esbuild at load (TypeScript source, no build step; the same way tools/lab/sdk.mjs
// loads the client SDK), together with @owf/mdoc itself so the context and the verifier share one copy
// of its classes. The IACA root comes from the source tree (src/config/dev-credentials.ts), not from the server
// under test, so a server that published a different root would fail here.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { build } from "esbuild";
import { base64url, calculateJwkThumbprint, decodeProtectedHeader, importJWK } from "jose";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

/** @type {Promise<any> | null} */
let loaded = null;

/** The bundled mdoc verifier: { Holder, IssuerSigned, owfContext, DEV_IACA_CERT_PEM, pemToDer, x509 (@peculiar/x509) }. */
function mdocKit() {
  loaded ??= (async () => {
    const outdir = mkdtempSync(join(tmpdir(), "antichambre-verify-"));
    try {
      await build({
        stdin: {
          contents: [
            'export { Holder, IssuerSigned } from "@owf/mdoc";',
            'export { loadX509, owfContext } from "./test/helpers/mdoc-verifier";',
            'export { DEV_IACA_CERT_PEM } from "./src/config/dev-credentials";',
            'export { pemToDer } from "./src/credentials/mdoc/pem";',
          ].join("\n"),
          resolveDir: REPO,
          loader: "ts",
          sourcefile: "verify-credentials-entry.ts",
        },
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        outfile: join(outdir, "mdoc-kit.mjs"),
        logLevel: "warning",
        legalComments: "none",
      });
      const kit = await import(pathToFileURL(join(outdir, "mdoc-kit.mjs")).href);
      return { ...kit, x509: await kit.loadX509() };
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  })();
  return loaded;
}

/**
 * Verifies an mDL (base64url IssuerSigned) with @owf/mdoc against the development IACA root: every check
 * the library runs must pass, and the MSO's device key must be `holderJwk` (the key that signed the proof).
 * Returns how many checks passed.
 * @param {string} mdoc
 * @param {{ x: string, y: string }} holderJwk
 */
export async function verifyMdoc(mdoc, holderJwk) {
  const kit = await mdocKit();
  /** @type {Array<{ status: string, check: string, reason?: string }>} */
  const checks = [];
  await kit.Holder.verifyIssuerSigned(
    {
      issuerSigned: mdoc,
      trustedCertificates: [kit.pemToDer(kit.DEV_IACA_CERT_PEM)],
      now: new Date(),
      verificationCallback: (/** @type {any} */ c) => checks.push(c),
    },
    kit.owfContext(),
  );
  const failed = checks.filter((c) => c.status !== "PASSED");
  if (checks.length === 0 || failed.length > 0) throw new Error(`mdoc checks failed: ${JSON.stringify(failed).slice(0, 400)}`);
  const parsed = kit.IssuerSigned.decode(base64url.decode(mdoc));
  const deviceKey = parsed.issuerAuth.mobileSecurityObject.deviceKeyInfo.deviceKey;
  if (base64url.encode(deviceKey.x) !== holderJwk.x || base64url.encode(deviceKey.y) !== holderJwk.y)
    throw new Error("the mdoc's device key is not the proof key");
  return { checks: checks.length, docType: parsed.issuerAuth.mobileSecurityObject.docType };
}

/**
 * The SD-JWT VC issuer's public key: from its `x5c` header (HAIP's SD-JWT VC profile), each certificate
 * signed by the next and the last by the development IACA root (from the source tree), all valid now;
 * or, for an SD-JWT VC without `x5c`, the key of the service's JWKS its `kid` names.
 * @param {Record<string, unknown>} header
 * @param {{ keys: Array<Record<string, string>> }} jwks
 */
async function issuerKey(header, jwks) {
  if (Array.isArray(header.x5c)) {
    const kit = await mdocKit();
    const cert = (/** @type {Uint8Array} */ der) => new kit.x509.X509Certificate(der);
    const chain = header.x5c.map((/** @type {string} */ b64) => cert(Buffer.from(b64, "base64")));
    const root = cert(kit.pemToDer(kit.DEV_IACA_CERT_PEM));
    const now = new Date();
    for (const [i, c] of chain.entries()) {
      if (c.notBefore > now || c.notAfter < now) throw new Error(`x5c[${i}] is not valid now`);
      const issuer = chain[i + 1] ?? root;
      if (!(await c.verify({ publicKey: issuer.publicKey, signatureOnly: true })))
        throw new Error(`x5c[${i}] is not signed by ${issuer.subject}`);
    }
    if (chain.some((/** @type {any} */ c) => c.subject === root.subject))
      throw new Error("x5c carries the root (HAIP: up to the issuing CA, not the root)");
    return chain[0].publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"]);
  }
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw new Error(`no key ${String(header.kid)} in the issuer's JWKS`);
  return /** @type {Promise<CryptoKey>} */ (importJWK({ ...jwk, alg: "ES256" }, "ES256"));
}

/**
 * Verifies an SD-JWT VC with @sd-jwt/sd-jwt-vc against its issuer's key (issuerKey: the `x5c` chain to
 * the IACA root), and checks the issuer, the type and the holder binding (`cnf.jwk` = `holderJwk`).
 * Returns the disclosed claims.
 * @param {string} sdJwt
 * @param {{ issuer: string, jwks: { keys: Array<Record<string, string>> }, holderJwk: Record<string, unknown> }} expected
 */
export async function verifySdJwtVc(sdJwt, { issuer, jwks, holderJwk }) {
  const key = await issuerKey(decodeProtectedHeader(sdJwt.split("~")[0] ?? ""), jwks);
  const library = new SDJwtVcInstance({
    hasher: async (/** @type {string | ArrayBuffer} */ data) =>
      new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data)),
    verifier: async (/** @type {string} */ data, /** @type {string} */ sig) =>
      crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, base64url.decode(sig), new TextEncoder().encode(data)),
    // The credential's `status` names a Token Status List, which the library fetches from the service and
    // checks (the credential must read valid). The list has its own signer: its x5c chain to the same root.
    statusVerifier: async (/** @type {string} */ data, /** @type {string} */ sig) => {
      const listKey = await issuerKey(decodeProtectedHeader(`${data}.${sig}`), jwks);
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, listKey, base64url.decode(sig), new TextEncoder().encode(data));
    },
    loadTypeMetadataFormat: false,
  });
  const { payload } = await library.verify(sdJwt);
  if (payload.iss !== issuer) throw new Error(`SD-JWT VC iss ${payload.iss}, expected ${issuer}`);
  if (typeof payload.vct !== "string") throw new Error("SD-JWT VC without vct");
  const bound = /** @type {any} */ (payload.cnf)?.jwk;
  if (
    !bound ||
    (await calculateJwkThumbprint(bound, "sha256")) !== (await calculateJwkThumbprint(/** @type {any} */ (holderJwk), "sha256"))
  )
    throw new Error("the SD-JWT VC's cnf.jwk is not the proof key");
  return payload;
}
