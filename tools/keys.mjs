#!/usr/bin/env node
// @ts-check
// `npm run keys`: every secret a deployment needs, generated locally with Node's WebCrypto and
// @peculiar/x509 (nothing leaves this machine unless --put is given).
//
//   IACA root       self-signed, P-256/ES256, CA pathLen 0, keyCertSign+cRLSign, ~9 years (ISO 18013-5
//                   Annex B allows 20). Wallets and verifiers trust this one certificate.
//   Document Signer signed by the IACA, digitalSignature, EKU 1.0.18013.5.1.2 (mdlDS), ~1 year (Annex B
//                   allows 457 days). Signs every mDL's MSO; its C= must equal the mDL's issuing_country.
//   SD-JWT signer   signed by the IACA, digitalSignature, ~1 year: signs SD-JWT VCs, whose x5c header
//                   carries its certificate (HAIP: the chain to the issuing CA, without the root).
//   Status list     signed by the IACA, digitalSignature, ~1 year: signs the Token Status Lists
//   signer          (STATUS_LIST_KEY, STATUS_LIST_CERT), a key of its own, apart from the credential signers.
//   SIGNING_KEYS    ES256 JWK with kid (admission tokens).
//   TICKET_KEYS     32-byte HMAC key with kid (queue tickets).
//   ADMIN_TOKEN     32 random bytes, base64url (the admin API and dashboard).
//   PSEUDONYM_KEY   32 random bytes, base64url (keys the pseudonyms of people in queue storage).
//
// Usage:
//   npm run keys [-- --out FILE] [--iaca FILE] [--issuer-url URL] [--put]
//       Writes the Worker secrets to FILE (default ./antichambre-keys.json, `wrangler secret bulk` format)
//       and the IACA private key to FILE with .iaca.json (keep it offline: it is only needed to sign the
//       next Document Signer, with --iaca). Both are created with mode 0600, and never over an existing
//       file. The terminal gets the paths and the commands to run, never a secret: terminals are
//       scrolled back, logged, screen-shared and pasted into tickets.
//       --put also pipes each secret into `npx wrangler secret put NAME` on its standard input.
//   npm run keys -- --dev-module [--not-before ISO-DATE] > src/config/dev-credentials.ts
//       Prints the embedded development defaults instead (public by design; writes nothing).
//   npm run keys -- --dev-wallet-provider > src/config/dev-wallet-provider.ts
//       Prints the development wallet provider (its CA, the anchor development trusts, and a signing
//       certificate with its key) that src/dev/wallet-provider.ts attests wallets and keys with.
//       --not-before dates the certificates from then (the tests' fixed clock must lie inside them).
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, fchmodSync, openSync, readFileSync, writeSync } from "node:fs";
import { parseArgs } from "node:util";

// @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load without the Reflect
// metadata API. It only stores and reads metadata, so a WeakMap-backed subset is all it needs; it must
// exist before the module is evaluated, hence the dynamic import below.
installReflectMetadata();
const x509 = await import("@peculiar/x509");
x509.cryptoProvider.set(globalThis.crypto);

const EC = { name: "ECDSA", namedCurve: "P-256" };
const ES256 = { name: "ECDSA", hash: "SHA-256" };
const MDL_DS_EKU = "1.0.18013.5.1.2"; // ISO/IEC 18013-5 Annex B: id-mdl-kp-mdlDS
const DAY_MS = 86_400_000;

/**
 * A key pair with its certificate and its private JWK as the Worker reads it.
 * @typedef {{ keys: import("node:crypto").webcrypto.CryptoKeyPair, cert: import("@peculiar/x509").X509Certificate, jwk: Record<string, unknown> }} Signer
 */

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: "./antichambre-keys.json" },
    iaca: { type: "string" },
    "issuer-url": { type: "string" },
    "dev-module": { type: "boolean", default: false },
    "dev-wallet-provider": { type: "boolean", default: false },
    "not-before": { type: "string" },
    put: { type: "boolean", default: false },
  },
});

const now = new Date(Math.floor((args["not-before"] ? Date.parse(args["not-before"]) : Date.now()) / 1000) * 1000);
if (Number.isNaN(now.getTime())) {
  console.error("keys: --not-before must be an ISO date such as 2026-11-27T11:20:53Z");
  process.exit(1);
}
const today = now.toISOString().slice(0, 10).replaceAll("-", "");
const dev = args["dev-module"];
const suffix = dev ? " (development)" : "";
const altName = args["issuer-url"] ? [new x509.IssuerAlternativeNameExtension([{ type: "url", value: args["issuer-url"] }])] : [];

if (args["dev-wallet-provider"]) {
  process.stdout.write(await devWalletProviderModule());
  process.exit(0);
}

const iaca = args.iaca ? await loadIaca(args.iaca) : await createIaca();
const ds = await createIacaLeaf(iaca, { name: "Document Signer", kid: "mdoc-ds", eku: [MDL_DS_EKU] });
const sdJwt = await createIacaLeaf(iaca, { name: "SD-JWT VC Signer", kid: "sd-jwt" });
const statusList = await createIacaLeaf(iaca, { name: "Status List Signer", kid: "status-list" });

if (dev) {
  process.stdout.write(devModule(iaca, ds, sdJwt, statusList));
} else {
  const signing = await privateJwk(await generateEc(), "signing");
  const ticket = { kid: `ticket-${today}-${hex(random(4))}`, k: base64url(random(32)) };
  /** @type {Record<string, string>} */
  const secrets = {
    ADMIN_TOKEN: base64url(random(32)),
    PSEUDONYM_KEY: base64url(random(32)),
    MDOC_DS_KEY: JSON.stringify(ds.jwk),
    MDOC_DS_CERT: ds.cert.toString("pem"),
    IACA_CERT: iaca.cert.toString("pem"),
    SD_JWT_SIGNER_KEY: JSON.stringify(sdJwt.jwk),
    SD_JWT_SIGNER_CERT: sdJwt.cert.toString("pem"),
    STATUS_LIST_KEY: JSON.stringify(statusList.jwk),
    STATUS_LIST_CERT: statusList.cert.toString("pem"),
    SIGNING_KEYS: JSON.stringify([signing]),
    TICKET_KEYS: JSON.stringify([ticket]),
  };
  const iacaFile = args.iaca ? null : args.out.replace(/(\.json)?$/, ".iaca.json");
  // Both checked before either is written: a refusal leaves nothing half-done.
  for (const file of [args.out, iacaFile]) {
    if (file && existsSync(file)) {
      console.error(`keys: ${file} exists; not overwriting it (it may hold the keys a deployment uses). Choose another --out.`);
      process.exit(1);
    }
  }
  writePrivate(args.out, `${JSON.stringify(secrets, null, 2)}\n`);
  if (iacaFile) writePrivate(iacaFile, `${JSON.stringify({ IACA_KEY: iaca.jwk, IACA_CERT: secrets.IACA_CERT }, null, 2)}\n`);
  console.log(`# Wrote ${args.out} (Worker secrets)${iacaFile ? ` and ${iacaFile} (IACA private key: keep offline)` : ""}, mode 0600.`);
  console.log("# They hold private keys: never commit them (.gitignore covers antichambre-keys*.json), delete once put.");
  console.log(`# IACA ${iaca.cert.subject}, valid to ${iaca.cert.notAfter.toISOString()}`);
  console.log(`# Document Signer ${ds.cert.subject}, valid to ${ds.cert.notAfter.toISOString()}`);
  console.log(`# SD-JWT VC signer ${sdJwt.cert.subject}, valid to ${sdJwt.cert.notAfter.toISOString()}`);
  console.log(`# Status list signer ${statusList.cert.subject}, valid to ${statusList.cert.notAfter.toISOString()}`);
  if (args.put) {
    for (const [name, value] of Object.entries(secrets)) putSecret(name, value);
  } else {
    console.log(`# Put them all at once:\nnpx wrangler secret bulk ${args.out}`);
    console.log("# or one at a time (each prompts for the value; paste it from the file):");
    for (const name of Object.keys(secrets)) console.log(`npx wrangler secret put ${name}`);
  }
  console.log("# Also set PUBLIC_ORIGIN (a var, not a secret) to the issuer's https origin: without it issuance answers 503.");
}

/**
 * Creates `file` (never over an existing one) readable by its owner only, whatever the umask.
 * @param {string} file
 * @param {string} text
 */
function writePrivate(file, text) {
  const fd = openSync(file, "wx", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/**
 * `npx wrangler secret put NAME`, the value on its standard input (never on a command line or the terminal).
 * @param {string} name
 * @param {string} value
 */
function putSecret(name, value) {
  console.log(`npx wrangler secret put ${name}`);
  const r = spawnSync("npx", ["wrangler", "secret", "put", name], { input: value, stdio: ["pipe", "inherit", "inherit"] });
  if (r.status !== 0) {
    console.error(`keys: putting ${name} failed (exit ${r.status ?? r.signal ?? r.error?.message}); the rest are in ${args.out}`);
    process.exit(1);
  }
}

/** @returns {Promise<Signer>} */
async function createIaca() {
  const keys = await generateEc();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `C=FR, O=Antichambre, CN=Antichambre IACA${suffix}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + 9 * 365 * DAY_MS),
    keys,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...altName,
    ],
  });
  return { keys, cert, jwk: await privateJwk(keys, "iaca") };
}

/**
 * @param {string} file
 * @returns {Promise<Signer>}
 */
async function loadIaca(file) {
  const { IACA_KEY, IACA_CERT } = JSON.parse(readFileSync(file, "utf8"));
  const cert = new x509.X509Certificate(IACA_CERT);
  const { kid: _kid, ...jwk } = IACA_KEY;
  const privateKey = await crypto.subtle.importKey("jwk", jwk, EC, false, ["sign"]);
  const publicKey = await cert.publicKey.export(EC, ["verify"]);
  return { keys: { privateKey, publicKey }, cert, jwk: IACA_KEY };
}

/**
 * A signer certified by the IACA (digitalSignature, ~1 year, never outliving the IACA: possible when
 * --iaca reuses one near the end of its life). One function for the three leaves:
 * - the Document Signer, with the mdlDS extended key usage (it signs MSOs);
 * - the SD-JWT VC signer, without it (it signs SD-JWT VCs), so one trust anchor covers both formats;
 * - the Token Status List signer, a key of its own that a verifier trusting the IACA for the mDL checks
 *   with the same anchor; no extended key usage: the draft's id-kp-oauthStatusSigning has no OID yet.
 * @param {Signer} iaca
 * @param {{ name: string, kid: string, eku?: string[] }} leaf  `name` ends the CN and names it in errors
 * @returns {Promise<Signer>}
 */
async function createIacaLeaf(iaca, leaf) {
  const keys = await generateEc();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `C=FR, O=Antichambre, CN=Antichambre ${leaf.name}${suffix}`,
    issuer: iaca.cert.subjectName,
    notBefore: now,
    notAfter: new Date(Math.min(now.getTime() + 365 * DAY_MS, iaca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: iaca.keys.privateKey,
    signingAlgorithm: ES256,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(leaf.eku ? [new x509.ExtendedKeyUsageExtension(leaf.eku, true)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(iaca.keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...altName,
    ],
  });
  if (!(await cert.verify({ publicKey: iaca.keys.publicKey, signatureOnly: true }))) {
    throw new Error(`${leaf.name} certificate does not verify against the IACA`);
  }
  return { keys, cert, jwk: await privateJwk(keys, leaf.kid) };
}

/**
 * @param {Signer} iaca
 * @param {Signer} ds
 * @param {Signer} sdJwt
 * @param {Signer} statusList
 */
function devModule(iaca, ds, sdJwt, statusList) {
  return `/**
 * DEVELOPMENT ONLY, AND PUBLIC: these keys are in the repository, so anyone can sign "mDLs" with them.
 * Used only when ENVIRONMENT is "development"; a deployment takes MDOC_DS_KEY, MDOC_DS_CERT, IACA_CERT,
 * SD_JWT_SIGNER_KEY, SD_JWT_SIGNER_CERT, STATUS_LIST_KEY and STATUS_LIST_CERT from \`wrangler secret put\` (\`npm run keys\`). No wallet or
 * verifier should trust this IACA.
 *
 * Generated by \`npm run keys -- --dev-module --not-before ${now.toISOString()} > src/config/dev-credentials.ts\`.
 * The Document Signer certificate expires on ${ds.cert.notAfter.toISOString()}: regenerate before then.
 */

/** Self-signed IACA root (trust anchor): ${iaca.cert.subject}. */
export const DEV_IACA_CERT_PEM = ${pemLiteral(iaca.cert)};

/** Document Signer certificate, signed by the IACA: ${ds.cert.subject}. */
export const DEV_MDOC_DS_CERT_PEM = ${pemLiteral(ds.cert)};

/** The Document Signer's ES256 private JWK (with kid), as a JSON string like the MDOC_DS_KEY secret. */
export const DEV_MDOC_DS_KEY = ${JSON.stringify(JSON.stringify(ds.jwk))};

/** SD-JWT VC signer certificate, signed by the IACA: ${sdJwt.cert.subject}. */
export const DEV_SD_JWT_SIGNER_CERT_PEM = ${pemLiteral(sdJwt.cert)};

/** The SD-JWT VC signer's ES256 private JWK (with kid), as a JSON string like the SD_JWT_SIGNER_KEY secret. */
export const DEV_SD_JWT_SIGNER_KEY = ${JSON.stringify(JSON.stringify(sdJwt.jwk))};

/** Status list signer certificate, signed by the IACA: ${statusList.cert.subject}. */
export const DEV_STATUS_LIST_CERT_PEM = ${pemLiteral(statusList.cert)};

/** The status list signer's ES256 private JWK (with kid), as a JSON string like the STATUS_LIST_KEY secret. */
export const DEV_STATUS_LIST_KEY = ${JSON.stringify(JSON.stringify(statusList.jwk))};
`;
}

/**
 * The development wallet provider: a CA (the anchor WALLET_PROVIDER_ANCHORS defaults to in development)
 * and one signing certificate under it, whose private key is embedded so the development routes and the
 * tests can attest wallets and keys. Valid from 30 days back: the tests run on a manual clock set a few
 * days before the date these were made (test/helpers/api.ts).
 */
async function devWalletProviderModule() {
  const from = new Date(now.getTime() - 30 * DAY_MS);
  const caKeys = await generateEc();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: "C=FR, O=Antichambre, CN=Antichambre Wallet Provider CA (development)",
    notBefore: from,
    notAfter: new Date(now.getTime() + 9 * 365 * DAY_MS),
    keys: caKeys,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const signerKeys = await generateEc();
  const signer = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: "C=FR, O=Antichambre, CN=Antichambre Wallet Provider (development)",
    issuer: ca.subjectName,
    notBefore: from,
    notAfter: new Date(now.getTime() + 2 * 365 * DAY_MS),
    publicKey: signerKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ES256,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(signerKeys.publicKey),
    ],
  });
  const signerJwk = await privateJwk(signerKeys, "wallet-provider");
  return `/**
 * DEVELOPMENT ONLY, AND PUBLIC: the development wallet provider's keys are in the repository, so anyone
 * can make wallet and key attestations with them. Trusted only when ENVIRONMENT is "development" (the
 * default of WALLET_PROVIDER_ANCHORS there, src/dev/secrets.ts); a deployment configures real wallet
 * providers' anchors instead. The CA's private key was discarded once the signing certificate was made.
 *
 * Generated by \`npm run keys -- --dev-wallet-provider > src/config/dev-wallet-provider.ts\` on ${now.toISOString()}.
 * The signing certificate expires on ${signer.notAfter.toISOString()}: regenerate before then.
 */

/** Self-signed wallet provider CA (trust anchor): ${ca.subject}. */
export const DEV_WALLET_PROVIDER_CA_PEM = ${pemLiteral(ca)};

/** The wallet provider's signing certificate, under the CA: ${signer.subject}. */
export const DEV_WALLET_PROVIDER_CERT_PEM = ${pemLiteral(signer)};

/** The signing certificate's ES256 private JWK (with kid). */
export const DEV_WALLET_PROVIDER_KEY = ${JSON.stringify(signerJwk, null, 2)} as const;
`;
}

/**
 * A PEM as a template literal, one base64 line per source line (PEM never contains ` or ${).
 * @param {import("@peculiar/x509").X509Certificate} cert
 */
function pemLiteral(cert) {
  return `\`${cert.toString("pem").trimEnd()}\n\``;
}

/** @returns {Promise<import("node:crypto").webcrypto.CryptoKeyPair>} */
function generateEc() {
  return crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
}

/**
 * The private JWK trimmed to what the Worker reads, with a kid naming its purpose, date and key.
 * @param {import("node:crypto").webcrypto.CryptoKeyPair} keys
 * @param {string} purpose
 */
async function privateJwk(keys, purpose) {
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", keys.privateKey);
  const thumbprint = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  return { kid: `${purpose}-${today}-${base64url(new Uint8Array(thumbprint)).slice(0, 8)}`, kty, crv, x, y, d };
}

/** 16 random bytes, positive and without a leading zero byte: a minimal DER INTEGER of 128 bits. */
function serialNumber() {
  const bytes = random(16);
  const first = bytes[0] ?? 0;
  bytes[0] = (first & 0x7f) | 0x40;
  return hex(bytes);
}

/** @param {number} n */
function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** @param {Uint8Array} bytes */
function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

function installReflectMetadata() {
  /**
   * The subset of the Reflect metadata API tsyringe calls (not in the standard library's types).
   * @type {typeof Reflect & {
   *   defineMetadata?: (key: unknown, value: unknown, target: object) => void,
   *   getOwnMetadata?: (key: unknown, target: object) => unknown,
   *   hasOwnMetadata?: (key: unknown, target: object) => boolean,
   *   getMetadata?: (key: unknown, target: object) => unknown,
   *   hasMetadata?: (key: unknown, target: object) => boolean,
   * }}
   */
  const reflect = Reflect;
  if (typeof reflect.getMetadata === "function") return;
  /** @type {WeakMap<object, Map<unknown, unknown>>} */
  const store = new WeakMap();
  const own = (/** @type {object} */ target) => store.get(target);
  reflect.defineMetadata = (key, value, target) => {
    let map = store.get(target);
    if (!map) store.set(target, (map = new Map()));
    map.set(key, value);
  };
  reflect.getOwnMetadata = (key, target) => own(target)?.get(key);
  reflect.hasOwnMetadata = (key, target) => own(target)?.has(key) ?? false;
  const getMetadata = (/** @type {unknown} */ key, /** @type {object} */ target) => {
    for (let t = target; t; t = Object.getPrototypeOf(t)) {
      const map = own(t);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
  reflect.getMetadata = getMetadata;
  reflect.hasMetadata = (key, target) => getMetadata(key, target) !== undefined;
}
