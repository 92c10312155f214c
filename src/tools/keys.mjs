#!/usr/bin/env node
// `npm run keys`: every key and certificate a deployment needs, generated locally with Node's WebCrypto
// and @peculiar/x509 (nothing leaves this machine).
//
//   IACA root       self-signed, P-256/ES256, CA pathLen 0, keyCertSign+cRLSign, ~9 years (ISO 18013-5
//                   Annex B allows 20). Wallets and verifiers trust this one certificate.
//   Document Signer signed by the IACA, digitalSignature, EKU 1.0.18013.5.1.2 (mdlDS), ~1 year (Annex B
//                   allows 457 days). Signs every mDL's MSO; its C= must equal the mDL's issuing_country.
//   SIGNING_KEYS    ES256 JWK with kid (SD-JWT VC and admission tokens).
//   TICKET_KEYS     32-byte HMAC key with kid (queue tickets).
//
// Usage:
//   npm run keys [-- --out FILE] [--iaca FILE] [--issuer-url URL]
//       Writes the Worker secrets to FILE (default ./antichambre-keys.json, `wrangler secret bulk` format)
//       and the IACA private key to FILE with .iaca.json (keep it offline: it is only needed to sign the
//       next Document Signer, with --iaca). Prints one `wrangler secret put` per secret.
//   npm run keys -- --dev-module > src/config/dev-credentials.ts
//       Prints the embedded development defaults instead (public by design; writes nothing).
import { writeFileSync, readFileSync } from "node:fs";
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

const { values: args } = parseArgs({
  options: {
    out: { type: "string", default: "./antichambre-keys.json" },
    iaca: { type: "string" },
    "issuer-url": { type: "string" },
    "dev-module": { type: "boolean", default: false },
  },
});

const now = new Date(Math.floor(Date.now() / 1000) * 1000);
const today = now.toISOString().slice(0, 10).replaceAll("-", "");
const dev = args["dev-module"];
const suffix = dev ? " (development)" : "";
const altName = args["issuer-url"] ? [new x509.IssuerAlternativeNameExtension([{ type: "url", value: args["issuer-url"] }])] : [];

const iaca = args.iaca ? await loadIaca(args.iaca) : await createIaca();
const ds = await createDocumentSigner(iaca);

if (dev) {
  process.stdout.write(devModule(iaca, ds));
} else {
  const signing = await privateJwk(await generateEc(), "signing");
  const ticket = { kid: `ticket-${today}-${hex(random(4))}`, k: base64url(random(32)) };
  const secrets = {
    MDOC_DS_KEY: JSON.stringify(ds.jwk),
    MDOC_DS_CERT: ds.cert.toString("pem"),
    IACA_CERT: iaca.cert.toString("pem"),
    SIGNING_KEYS: JSON.stringify([signing]),
    TICKET_KEYS: JSON.stringify([ticket]),
  };
  const iacaFile = args.out.replace(/(\.json)?$/, ".iaca.json");
  writeFileSync(args.out, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  if (!args.iaca) {
    const iacaSecrets = { IACA_KEY: iaca.jwk, IACA_CERT: secrets.IACA_CERT };
    writeFileSync(iacaFile, `${JSON.stringify(iacaSecrets, null, 2)}\n`, { mode: 0o600 });
  }
  console.log(`# Wrote ${args.out} (Worker secrets)${args.iaca ? "" : ` and ${iacaFile} (IACA private key: keep offline)`}.`);
  console.log("# Both hold private keys and are not covered by .gitignore: never commit them.");
  console.log(`# IACA ${iaca.cert.subject}, valid to ${iaca.cert.notAfter.toISOString()}`);
  console.log(`# Document Signer ${ds.cert.subject}, valid to ${ds.cert.notAfter.toISOString()}`);
  console.log(`# Either: npx wrangler secret bulk ${args.out}`);
  console.log("# or one at a time:\n");
  for (const [name, value] of Object.entries(secrets)) {
    console.log(`npx wrangler secret put ${name} <<'EOF'\n${value.trimEnd()}\nEOF\n`);
  }
}

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

async function loadIaca(file) {
  const { IACA_KEY, IACA_CERT } = JSON.parse(readFileSync(file, "utf8"));
  const cert = new x509.X509Certificate(IACA_CERT);
  const { kid: _kid, ...jwk } = IACA_KEY;
  const privateKey = await crypto.subtle.importKey("jwk", jwk, EC, false, ["sign"]);
  const publicKey = await cert.publicKey.export(EC, ["verify"]);
  return { keys: { privateKey, publicKey }, cert, jwk: IACA_KEY };
}

async function createDocumentSigner(iaca) {
  const keys = await generateEc();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `C=FR, O=Antichambre, CN=Antichambre Document Signer${suffix}`,
    issuer: iaca.cert.subjectName,
    notBefore: now,
    // Never outlive the IACA (possible when --iaca reuses one near the end of its life).
    notAfter: new Date(Math.min(now.getTime() + 365 * DAY_MS, iaca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: iaca.keys.privateKey,
    signingAlgorithm: ES256,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([MDL_DS_EKU], true),
      await x509.AuthorityKeyIdentifierExtension.create(iaca.keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...altName,
    ],
  });
  if (!(await cert.verify({ publicKey: iaca.keys.publicKey, signatureOnly: true }))) {
    throw new Error("Document Signer certificate does not verify against the IACA");
  }
  return { keys, cert, jwk: await privateJwk(keys, "mdoc-ds") };
}

function devModule(iaca, ds) {
  return `/**
 * DEVELOPMENT ONLY, AND PUBLIC: these keys are in the repository, so anyone can sign "mDLs" with them.
 * Used only when ENVIRONMENT is "development"; a deployment takes MDOC_DS_KEY, MDOC_DS_CERT and
 * IACA_CERT from \`wrangler secret put\` (\`npm run keys\`). No wallet or verifier should trust this IACA.
 *
 * Generated by \`npm run keys -- --dev-module > src/config/dev-credentials.ts\` on ${now.toISOString()}.
 * The Document Signer certificate expires on ${ds.cert.notAfter.toISOString()}: regenerate before then.
 */

/** Self-signed IACA root (trust anchor): ${iaca.cert.subject}. */
export const DEV_IACA_CERT_PEM = ${pemLiteral(iaca.cert)};

/** Document Signer certificate, signed by the IACA: ${ds.cert.subject}. */
export const DEV_MDOC_DS_CERT_PEM = ${pemLiteral(ds.cert)};

/** The Document Signer's ES256 private JWK (with kid), as a JSON string like the MDOC_DS_KEY secret. */
export const DEV_MDOC_DS_KEY = ${JSON.stringify(JSON.stringify(ds.jwk))};
`;
}

/** A PEM as a template literal, one base64 line per source line (PEM never contains ` or ${). */
function pemLiteral(cert) {
  return `\`${cert.toString("pem").trimEnd()}\n\``;
}

function generateEc() {
  return crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
}

/** The private JWK trimmed to what the Worker reads, with a kid naming its purpose, date and key. */
async function privateJwk(keys, purpose) {
  const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", keys.privateKey);
  const thumbprint = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  return { kid: `${purpose}-${today}-${base64url(new Uint8Array(thumbprint)).slice(0, 8)}`, kty, crv, x, y, d };
}

/** 16 random bytes, positive and without a leading zero byte: a minimal DER INTEGER of 128 bits. */
function serialNumber() {
  const bytes = random(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return hex(bytes);
}

function random(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base64url(bytes) {
  return Buffer.from(bytes).toString("base64url");
}

function installReflectMetadata() {
  if (typeof Reflect.getMetadata === "function") return;
  const store = new WeakMap();
  const own = (target) => store.get(target);
  Reflect.defineMetadata = (key, value, target) => {
    if (!store.has(target)) store.set(target, new Map());
    store.get(target).set(key, value);
  };
  Reflect.getOwnMetadata = (key, target) => own(target)?.get(key);
  Reflect.hasOwnMetadata = (key, target) => own(target)?.has(key) ?? false;
  Reflect.getMetadata = (key, target) => {
    for (let t = target; t; t = Object.getPrototypeOf(t)) if (own(t)?.has(key)) return own(t).get(key);
    return undefined;
  };
  Reflect.hasMetadata = (key, target) => Reflect.getMetadata(key, target) !== undefined;
}
