import { bitString, children, DerError, equalBytes, expectTag, oid, readOnly, readTlv, TAG, time, unsignedInteger, type Tlv } from "./der";
import { ConfigError } from "../config/config-error";
import { pemToDerAll } from "../credentials/mdoc/pem";
import { refuse, ok, type Result } from "../lib/result";

/**
 * An `x5c` chain (RFC 7515 §4.1.6: base64 DER, leaf first) checked against configured trust anchors, as
 * wallet providers sign wallet and key attestations: each certificate valid now, each signed by the
 * next, every issuer a CA allowed to sign certificates (basicConstraints cA, keyCertSign, pathLen), the
 * last signed by an anchor (HAIP: the chain does not carry the anchor; one that does is tolerated and the
 * copy dropped). The leaf must not be a CA: a wallet provider's root cannot stand in for its signing key.
 *
 * What is not checked, deliberately: revocation (CRL/OCSP would be a network fetch per request; a wallet
 * provider withdraws trust by its short attestation lifetimes and operators by removing an anchor), name
 * constraints and policies (no anchor we are given uses them: a certificate marking them critical is
 * refused as carrying an unknown critical extension, which fails closed).
 *
 * Algorithms: ECDSA with SHA-256 or SHA-384 on P-256 or P-384, what HAIP and the EUDI trust lists use.
 */
export const MAX_CHAIN_LENGTH = 4;
const MAX_CERTIFICATE_BYTES = 8 * 1024;

export type ChainFailure =
  | "malformed_chain"
  | "unsupported_algorithm"
  | "certificate_expired"
  | "certificate_not_yet_valid"
  | "issuer_not_ca"
  | "leaf_is_ca"
  | "untrusted_chain"
  | "no_trust_anchor";

export interface Certificate {
  readonly der: Uint8Array;
  readonly tbs: Uint8Array;
  readonly signatureAlgorithm: string;
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly spki: Uint8Array;
  readonly curve: Curve | null;
  /** basicConstraints: absent means not a CA. */
  readonly ca: boolean;
  readonly pathLength: number | null;
  /** keyUsage bits (bit 0 digitalSignature … bit 5 keyCertSign), null when the extension is absent. */
  readonly keyUsage: number | null;
}

type Curve = "P-256" | "P-384";

const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  ecdsaSha256: "1.2.840.10045.4.3.2",
  ecdsaSha384: "1.2.840.10045.4.3.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
} as const;

/** Extensions a certificate may mark critical: the two we enforce, and ones whose meaning only narrows use. */
const UNDERSTOOD_CRITICAL = new Set<string>([OID.basicConstraints, OID.keyUsage, "2.5.29.37" /* extKeyUsage */]);
const KEY_USAGE_DIGITAL_SIGNATURE = 1 << 0;
const KEY_USAGE_KEY_CERT_SIGN = 1 << 5;

const HASH_OF: Record<string, "SHA-256" | "SHA-384"> = { [OID.ecdsaSha256]: "SHA-256", [OID.ecdsaSha384]: "SHA-384" };

export function parseCertificate(der: Uint8Array): Certificate {
  const [tbsTlv, algTlv, sigTlv, ...rest] = children(readOnly(der, TAG.SEQUENCE));
  if (rest.length > 0) throw new DerError("certificate: extra fields");
  const tbs = expectTag(tbsTlv, TAG.SEQUENCE);
  const fields = children(tbs);
  let i = 0;
  if (fields[i]?.tag === 0xa0) i++; // [0] version
  anyInteger(fields[i++]); // serialNumber (some CAs still issue negative ones; not our concern)
  const innerAlg = algorithmOid(fields[i++]);
  const issuer = expectTag(fields[i++], TAG.SEQUENCE).encoded;
  const [nb, na, ...validityRest] = children(expectTag(fields[i++], TAG.SEQUENCE));
  if (!nb || !na || validityRest.length > 0) throw new DerError("certificate: validity");
  const subject = expectTag(fields[i++], TAG.SEQUENCE).encoded;
  const spkiTlv = expectTag(fields[i++], TAG.SEQUENCE);
  let ca = false;
  let pathLength: number | null = null;
  let keyUsage: number | null = null;
  for (; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.tag === 0x81 || field.tag === 0x82) continue; // issuer/subject unique ids
    if (field.tag !== 0xa3) throw new DerError("certificate: unexpected field");
    const seen = new Set<string>();
    for (const ext of children(readOnly(field.value, TAG.SEQUENCE))) {
      const parts = children(expectTag(ext, TAG.SEQUENCE));
      const id = oid(parts[0]!);
      if (seen.has(id)) throw new DerError("certificate: duplicate extension");
      seen.add(id);
      const critical = parts.length === 3 && expectTag(parts[1], TAG.BOOLEAN).value[0] === 0xff;
      const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING).value;
      if (id === OID.basicConstraints) {
        const bc = children(readOnly(value, TAG.SEQUENCE));
        let j = 0;
        if (bc[j]?.tag === TAG.BOOLEAN) ca = bc[j++]!.value[0] === 0xff;
        if (bc[j]) {
          const n = unsignedInteger(bc[j]!);
          if (n.length > 2) throw new DerError("certificate: pathLen");
          pathLength = n.reduce((acc, b) => acc * 256 + b, 0);
        }
      } else if (id === OID.keyUsage) {
        const bits = bitString(readOnly(value, TAG.BIT_STRING), true);
        // Named bits are numbered from the most significant bit of the first byte.
        keyUsage = 0;
        for (let bit = 0; bit < 9; bit++) if ((bits[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) keyUsage |= 1 << bit;
      } else if (critical && !UNDERSTOOD_CRITICAL.has(id)) {
        throw new UnknownCriticalExtension(id);
      }
    }
  }
  const signatureAlgorithm = algorithmOid(algTlv);
  if (signatureAlgorithm !== innerAlg) throw new DerError("certificate: algorithm mismatch");
  return {
    der,
    tbs: tbs.encoded,
    signatureAlgorithm,
    signature: bitString(expectTag(sigTlv, TAG.BIT_STRING)),
    issuer,
    subject,
    notBefore: time(nb),
    notAfter: time(na),
    spki: spkiTlv.encoded,
    curve: curveOf(spkiTlv),
    ca,
    pathLength,
    keyUsage,
  };
}

class UnknownCriticalExtension extends DerError {
  constructor(id: string) {
    super(`certificate: unknown critical extension ${id}`);
  }
}

function anyInteger(tlv: Tlv | undefined): void {
  if (expectTag(tlv, TAG.INTEGER).value.length === 0) throw new DerError("bad integer");
}

function algorithmOid(tlv: Tlv | undefined): string {
  const [id] = children(expectTag(tlv, TAG.SEQUENCE));
  return oid(id!);
}

function curveOf(spki: Tlv): Curve | null {
  const [alg] = children(spki);
  const [kind, params] = children(expectTag(alg, TAG.SEQUENCE));
  if (oid(kind!) !== OID.ecPublicKey || params?.tag !== TAG.OID) return null;
  const named = oid(params);
  return named === OID.p256 ? "P-256" : named === OID.p384 ? "P-384" : null;
}

/** The certificate's public key for verifying ECDSA signatures. */
export function publicKeyOf(cert: Certificate): Promise<CryptoKey> {
  if (!cert.curve) throw new DerError("not an EC P-256/P-384 key");
  return crypto.subtle.importKey("spki", cert.spki, { name: "ECDSA", namedCurve: cert.curve }, true, ["verify"]);
}

/** Does `issuer` sign `cert`? Names must match byte for byte (DER makes equal names equal bytes in practice). */
async function signedBy(cert: Certificate, issuer: Certificate): Promise<boolean> {
  if (!equalBytes(cert.issuer, issuer.subject) || !issuer.curve) return false;
  const hash = HASH_OF[cert.signatureAlgorithm];
  if (!hash) return false;
  const size = issuer.curve === "P-256" ? 32 : 48;
  const raw = ecdsaDerToRaw(cert.signature, size);
  if (!raw) return false;
  try {
    return await crypto.subtle.verify({ name: "ECDSA", hash }, await publicKeyOf(issuer), raw, cert.tbs);
  } catch {
    // A public key that is not a point on its curve (the import refuses it): it signs nothing.
    return false;
  }
}

/** ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } → r || s, each left-padded to the curve's size. */
function ecdsaDerToRaw(sig: Uint8Array, size: number): Uint8Array | null {
  try {
    const [r, s, ...rest] = children(readOnly(sig, TAG.SEQUENCE));
    if (rest.length > 0) return null;
    const out = new Uint8Array(size * 2);
    for (const [k, part] of [unsignedInteger(r!), unsignedInteger(s!)].entries()) {
      if (part.length > size) return null;
      out.set(part, size * (k + 1) - part.length);
    }
    return out;
  } catch {
    return null;
  }
}

/** Trust anchors from PEM text (one or more certificates); parsed once per distinct text per isolate. */
const anchorCache = new Map<string, Certificate[]>();

export function parseAnchors(pem: string | undefined): Certificate[] {
  if (!pem) return [];
  let anchors = anchorCache.get(pem);
  if (!anchors) {
    // Settings check only the PEM armour: a certificate that does not parse is the deployment's error
    // (503 not-configured, naming the variable), never the client's.
    try {
      anchors = pemToDerAll(pem).map(parseCertificate);
    } catch {
      throw new ConfigError([
        { name: "WALLET_PROVIDER_ANCHORS", reason: "holds a certificate that cannot be read (PEM of DER X.509, EC keys)" },
      ]);
    }
    anchorCache.set(pem, anchors);
  }
  return anchors;
}

export interface VerifiedChain {
  readonly leaf: Certificate;
  readonly leafKey: CryptoKey;
  readonly anchor: Certificate;
}

/** Verify `x5c` (as found in a JWS header) at `now` against `anchors`. */
export async function verifyX5c(x5c: unknown, anchors: readonly Certificate[], now: number): Promise<Result<VerifiedChain, ChainFailure>> {
  if (anchors.length === 0) return refuse("no_trust_anchor");
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > MAX_CHAIN_LENGTH + 1) return refuse("malformed_chain");
  let chain: Certificate[];
  try {
    chain = x5c.map((entry) => {
      if (typeof entry !== "string" || entry.length > (MAX_CERTIFICATE_BYTES * 4) / 3 + 4) throw new DerError("bad x5c entry");
      return parseCertificate(base64Der(entry));
    });
  } catch (e) {
    return refuse(e instanceof UnknownCriticalExtension ? "untrusted_chain" : "malformed_chain");
  }
  // A chain that ends with the anchor itself: drop the copy, the anchor we hold is the one that counts.
  const last = chain[chain.length - 1]!;
  if (chain.length > 1 && anchors.some((a) => equalBytes(a.der, last.der))) chain = chain.slice(0, -1);
  if (chain.length > MAX_CHAIN_LENGTH) return refuse("malformed_chain");

  const leaf = chain[0]!;
  if (leaf.ca) return refuse("leaf_is_ca");
  if (leaf.keyUsage !== null && !(leaf.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE)) return refuse("untrusted_chain");
  for (const cert of chain) {
    if (!HASH_OF[cert.signatureAlgorithm] || !cert.curve) return refuse("unsupported_algorithm");
    const validity = validAt(cert, now);
    if (validity) return refuse(validity);
  }
  for (let i = 0; i + 1 < chain.length; i++) {
    const issuer = chain[i + 1]!;
    if (!issuerMayCertify(issuer, i)) return refuse("issuer_not_ca");
    if (!(await signedBy(chain[i]!, issuer))) return refuse("untrusted_chain");
  }
  const top = chain[chain.length - 1]!;
  for (const anchor of anchors) {
    if (!(await signedBy(top, anchor))) continue;
    // The anchor's own constraints count too (RFC 5280 lets them be ignored; a misconfigured leaf
    // certificate given as an anchor should not quietly certify others).
    if (!issuerMayCertify(anchor, chain.length - 1)) return refuse("issuer_not_ca");
    const validity = validAt(anchor, now);
    if (validity) return refuse(validity);
    try {
      return ok({ leaf, leafKey: await publicKeyOf(leaf), anchor });
    } catch {
      return refuse("malformed_chain");
    }
  }
  return refuse("untrusted_chain");
}

/** `intermediatesBelow`: how many non-leaf certificates sit between this issuer and the leaf. */
function issuerMayCertify(issuer: Certificate, intermediatesBelow: number): boolean {
  if (!issuer.ca) return false;
  if (issuer.keyUsage !== null && !(issuer.keyUsage & KEY_USAGE_KEY_CERT_SIGN)) return false;
  return issuer.pathLength === null || intermediatesBelow <= issuer.pathLength;
}

function validAt(cert: Certificate, now: number): ChainFailure | null {
  if (now < cert.notBefore) return "certificate_not_yet_valid";
  if (now > cert.notAfter) return "certificate_expired";
  return null;
}

/** x5c entries are standard base64 (not base64url), padded. */
function base64Der(entry: string): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(entry)) throw new DerError("x5c: not base64");
  const bytes = Uint8Array.from(atob(entry), (ch) => ch.charCodeAt(0));
  // Re-reading the outer TLV catches trailing garbage before anything else looks at the bytes.
  readTlv(bytes);
  return bytes;
}
