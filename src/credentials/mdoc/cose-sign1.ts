import { base64url, type JWK } from "jose";
import { decodeCbor, encodeCbor, Tag, type CborValue } from "./cbor";

/**
 * COSE_Sign1 (RFC 9052 §4.2) with ES256 only, as ISO/IEC 18013-5 issuerAuth uses it:
 *
 *   [ bstr(protected {1: -7}), {33: x5chain}, payload, bstr(r || s) ]
 *   signed over Sig_structure ["Signature1", protected, h'' (no external AAD), payload]
 *
 * One algorithm on purpose: the Document Signer key is P-256 (ISO 18013-5 §9.1.2.4 lists it first and
 * every wallet supports it), and a verifier that accepts exactly one algorithm cannot be talked into
 * another. WebCrypto's ECDSA signature is already the fixed-size r || s that COSE wants (no DER).
 */

/** IANA COSE Algorithms: ECDSA w/ SHA-256. */
export const COSE_ALG_ES256 = -7;
/** RFC 9052 §3.1 `alg`. */
export const COSE_HEADER_ALG = 1;
/** RFC 9052 §3.1 `crit`: headers the verifier must understand. We understand none, so we refuse them. */
export const COSE_HEADER_CRIT = 2;
/** RFC 9360 `x5chain`: one bstr for a single certificate, else an array, leaf first. */
export const COSE_HEADER_X5CHAIN = 33;

/** RFC 9052 §7.1 COSE_Key labels and values for an EC2 P-256 key. */
const COSE_KEY_KTY = 1;
const COSE_KEY_CRV = -1;
const COSE_KEY_X = -2;
const COSE_KEY_Y = -3;
const COSE_KTY_EC2 = 2;
const COSE_CRV_P256 = 1;

const ES256 = { name: "ECDSA", hash: "SHA-256" };

export type CoseSign1 = readonly [
  protectedHeader: Uint8Array,
  unprotectedHeader: ReadonlyMap<number, CborValue>,
  payload: Uint8Array,
  signature: Uint8Array,
];

export interface CoseSign1Signer {
  /** ECDSA P-256 private key with the "sign" usage. */
  readonly key: CryptoKey;
  /** DER certificates, leaf (Document Signer) first. The trust anchor (IACA) is never included. */
  readonly x5chain: readonly Uint8Array[];
  /**
   * Protected headers besides `alg` (e.g. RFC 9596 `typ`, label 16, for a CWT). Never `alg` or `crit`:
   * those are this module's to set.
   */
  readonly protectedHeaders?: ReadonlyMap<number, CborValue>;
}

export type CoseSign1Failure = "malformed" | "unsupported_algorithm" | "bad_signature";

export type CoseSign1Verification =
  | { readonly ok: true; readonly payload: Uint8Array; readonly x5chain: Uint8Array[] }
  | { readonly ok: false; readonly reason: CoseSign1Failure };

/** The bytes that are actually signed: Sig_structure for a COSE_Sign1 without external AAD. */
export function sigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return encodeCbor(["Signature1", protectedHeader, new Uint8Array(0), payload]);
}

export async function signCoseSign1(payload: Uint8Array, signer: CoseSign1Signer): Promise<CoseSign1> {
  assertP256Key(signer.key, "private", "sign");
  const [leaf, ...rest] = signer.x5chain;
  if (!leaf) throw new TypeError("COSE_Sign1: x5chain needs at least the signer's certificate");
  // A Map, not an object: COSE labels are integers and must be encoded as integers (0x01, not "1").
  const extra = signer.protectedHeaders ?? new Map<number, CborValue>();
  if (extra.has(COSE_HEADER_ALG) || extra.has(COSE_HEADER_CRIT)) throw new TypeError("COSE_Sign1: alg and crit are not extra headers");
  const protectedHeader = encodeCbor(new Map<number, CborValue>([[COSE_HEADER_ALG, COSE_ALG_ES256], ...extra]));
  const unprotectedHeader = new Map<number, CborValue>([[COSE_HEADER_X5CHAIN, rest.length ? [leaf, ...rest] : leaf]]);
  const signature = await crypto.subtle.sign(ES256, signer.key, sigStructure(protectedHeader, payload));
  return [protectedHeader, unprotectedHeader, payload, new Uint8Array(signature)];
}

/**
 * Check a COSE_Sign1 (encoded bytes or already decoded) against a public key. The caller decides which
 * key to trust (e.g. the one in x5chain after validating the chain); this only checks the signature.
 */
export async function verifyCoseSign1(sign1: unknown, publicKey: CryptoKey): Promise<CoseSign1Verification> {
  assertP256Key(publicKey, "public", "verify");
  const parsed = parseCoseSign1(sign1);
  if (!parsed) return { ok: false, reason: "malformed" };
  const [protectedHeader, unprotectedHeader, payload, signature] = parsed;

  let headers: unknown;
  try {
    headers = decodeCbor(protectedHeader);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!(headers instanceof Map)) return { ok: false, reason: "malformed" };
  if (headers.get(COSE_HEADER_ALG) !== COSE_ALG_ES256 || headers.has(COSE_HEADER_CRIT)) {
    return { ok: false, reason: "unsupported_algorithm" };
  }
  const x5chain = readX5chain(headers.get(COSE_HEADER_X5CHAIN) ?? unprotectedHeader.get(COSE_HEADER_X5CHAIN));
  if (!x5chain) return { ok: false, reason: "malformed" };

  const valid = await crypto.subtle.verify(ES256, publicKey, signature, sigStructure(protectedHeader, payload));
  return valid ? { ok: true, payload, x5chain } : { ok: false, reason: "bad_signature" };
}

/** The four-element array, shape-checked; `null` when it is not a COSE_Sign1 we can verify. */
export function parseCoseSign1(value: unknown): CoseSign1 | null {
  if (value instanceof Uint8Array) {
    try {
      value = decodeCbor(value);
    } catch {
      return null;
    }
  }
  // COSE_Sign1_Tagged (#6.18) is accepted; ISO 18013-5 issuerAuth is untagged.
  if (value instanceof Tag && value.tag === 18) value = value.value;
  if (!Array.isArray(value) || value.length !== 4) return null;
  const [protectedHeader, unprotectedHeader, payload, signature] = value as unknown[];
  if (!(protectedHeader instanceof Uint8Array) || !(unprotectedHeader instanceof Map)) return null;
  // A detached payload (nil) is not something an MSO ever uses.
  if (!(payload instanceof Uint8Array)) return null;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return null;
  return [protectedHeader, unprotectedHeader as Map<number, CborValue>, payload, signature];
}

function readX5chain(value: unknown): Uint8Array[] | null {
  if (value instanceof Uint8Array) return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((c) => c instanceof Uint8Array)) return value;
  return null;
}

/**
 * COSE_Key for a P-256 public JWK: {1: 2 (EC2), -1: 1 (P-256), -2: x, -3: y}. Only x and y are copied,
 * so a JWK that also carries `d` can never leak it into a credential. The point itself is not checked
 * here: the credential endpoint has already verified a proof signature with this very key.
 */
export function coseKeyFromJwk(jwk: JWK): Map<number, CborValue> {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") {
    throw new TypeError("COSE_Key: expected an EC P-256 public JWK");
  }
  const x = base64url.decode(jwk.x);
  const y = base64url.decode(jwk.y);
  if (x.length !== 32 || y.length !== 32) throw new TypeError("COSE_Key: P-256 coordinates must be 32 bytes");
  return new Map<number, CborValue>([
    [COSE_KEY_KTY, COSE_KTY_EC2],
    [COSE_KEY_CRV, COSE_CRV_P256],
    [COSE_KEY_X, x],
    [COSE_KEY_Y, y],
  ]);
}

function assertP256Key(key: CryptoKey, type: "private" | "public", usage: "sign" | "verify"): void {
  const algorithm = key.algorithm as { name: string; namedCurve?: string };
  if (key.type !== type || algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256" || !key.usages.includes(usage)) {
    throw new TypeError(`COSE_Sign1: expected an ECDSA P-256 ${type} key with the "${usage}" usage`);
  }
}
