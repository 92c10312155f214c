import { base64url, type JWK } from "jose";
import type { DrivingPrivilege, LicenceHolder } from "../../register/licence-holder";
import { encodeCbor, encodedCbor, fullDate, tdate, type CborObject, type CborValue, type Tag } from "./cbor";
import { coseKeyFromJwk, signCoseSign1 } from "./cose-sign1";

/**
 * ISO/IEC 18013-5 mDL issuance (OpenID4VCI format `mso_mdoc`): a LicenceHolder row in, the CBOR of an
 * IssuerSigned out. Pure apart from WebCrypto: the clock and the randomness are the caller's, so tests
 * (and the launch simulator) get byte-for-byte reproducible credentials.
 *
 *   IssuerSigned = {"nameSpaces": {ns: [#6.24(bstr .cbor IssuerSignedItem), ...]}, "issuerAuth": COSE_Sign1}
 *   payload      = bstr(#6.24(bstr .cbor MobileSecurityObject))
 *
 * Each element's digest covers the exact tag-24 bytes placed in nameSpaces, so the holder can later
 * disclose elements one by one. Digest IDs are a random permutation, so a verifier shown a subset
 * learns nothing from them about which elements were withheld (ISO 18013-5 §9.1.2.5).
 */

export const MDL_DOCTYPE = "org.iso.18013.5.1.mDL";
export const MDL_NAMESPACE = "org.iso.18013.5.1";

/** ISO 18013-5 §9.1.2.5: at least 16 bytes; 32 leaves no doubt about brute-forcing a digest. */
const ITEM_RANDOM_BYTES = 32;

export interface MdlSigner {
  /** The Document Signer's ES256 private key. */
  readonly key: CryptoKey;
  /** The Document Signer certificate (DER), signed by the IACA; its C= must equal issuing_country. */
  readonly certificateDer: Uint8Array;
}

export interface IssueMdlOptions {
  /** Becomes validityInfo.signed and validityInfo.validFrom (whole seconds). */
  readonly now: Date;
  readonly validUntil: Date;
  /** Cryptographically secure bytes in production (crypto.getRandomValues); anything in tests. */
  readonly random: (n: number) => Uint8Array;
  /**
   * Token Status List entry, as the MSO's `status: {status_list: {idx, uri}}` (the CBOR form of
   * draft-ietf-oauth-status-list §6.3, as ISO/IEC 18013-5 second edition carries it in the MSO).
   */
  readonly status?: { readonly idx: number; readonly uri: string };
}

export async function issueMdl(holder: LicenceHolder, deviceKey: JWK, signer: MdlSigner, options: IssueMdlOptions): Promise<Uint8Array> {
  const validityInfo = {
    signed: tdate(options.now),
    validFrom: tdate(options.now),
    validUntil: tdate(options.validUntil),
  };
  if (Math.floor(options.validUntil.getTime() / 1000) <= Math.floor(options.now.getTime() / 1000)) {
    throw new RangeError("mDL: validUntil must be after now");
  }
  const deviceKeyInfo = { deviceKey: coseKeyFromJwk(deviceKey) };
  if (options.status && !(Number.isSafeInteger(options.status.idx) && options.status.idx >= 0)) {
    throw new RangeError("mDL: status.idx must be a non-negative integer");
  }

  const elements = mdlElements(holder);
  const digestIds = shuffledRange(elements.length, options.random);
  const items: Tag[] = [];
  const digests = new Map<number, Uint8Array>();
  for (const [i, [elementIdentifier, elementValue]] of elements.entries()) {
    const digestID = digestIds[i]!;
    const item = encodedCbor({ digestID, random: randomBytes(options.random, ITEM_RANDOM_BYTES), elementIdentifier, elementValue });
    items.push(item);
    digests.set(digestID, await sha256(encodeCbor(item)));
  }

  // Key order follows ISO 18013-5 §9.1.2.4; verifiers read by key, but a fixed order keeps bytes stable.
  const mso: CborObject = {
    version: "1.0",
    digestAlgorithm: "SHA-256",
    valueDigests: { [MDL_NAMESPACE]: digests },
    deviceKeyInfo,
    docType: MDL_DOCTYPE,
    validityInfo,
    ...(options.status ? { status: { status_list: { idx: options.status.idx, uri: options.status.uri } } } : {}),
  };
  const issuerAuth = await signCoseSign1(encodeCbor(encodedCbor(mso)), {
    key: signer.key,
    x5chain: [signer.certificateDer],
  });

  return encodeCbor({ nameSpaces: { [MDL_NAMESPACE]: items }, issuerAuth });
}

/** OpenID4VCI 1.0 Appendix A.2: the `credential` for mso_mdoc is base64url (no padding) of IssuerSigned. */
export function encodeMdocCredential(issuerSigned: Uint8Array): string {
  return base64url.encode(issuerSigned);
}

/**
 * The mandatory mDL data elements (ISO 18013-5 §7.2.1 table 5), in the table's order. Dates are tagged
 * full-dates; the portrait is the JPEG bytes as they are. Throws on a row that would make an invalid mDL
 * rather than sign it.
 */
export function mdlElements(holder: LicenceHolder): [elementIdentifier: string, elementValue: CborValue][] {
  if (!/^[A-Z]{2}$/.test(holder.issuing_country)) throw new TypeError("mDL: issuing_country must be ISO 3166-1 alpha-2");
  if (!isJpeg(holder.portrait)) throw new TypeError("mDL: portrait must be JPEG bytes");
  if (holder.driving_privileges.length === 0) throw new TypeError("mDL: at least one driving privilege is required");
  for (const [name, value] of [
    ["family_name", holder.family_name],
    ["given_name", holder.given_name],
    ["issuing_authority", holder.issuing_authority],
    ["document_number", holder.document_number],
    ["un_distinguishing_sign", holder.un_distinguishing_sign],
  ] as const) {
    if (value.length === 0) throw new TypeError(`mDL: ${name} is empty`);
  }
  return [
    ["family_name", holder.family_name],
    ["given_name", holder.given_name],
    ["birth_date", fullDate(holder.birth_date)],
    ["issue_date", fullDate(holder.issue_date)],
    ["expiry_date", fullDate(holder.expiry_date)],
    ["issuing_country", holder.issuing_country],
    ["issuing_authority", holder.issuing_authority],
    ["document_number", holder.document_number],
    ["portrait", holder.portrait],
    ["driving_privileges", holder.driving_privileges.map(drivingPrivilege)],
    ["un_distinguishing_sign", holder.un_distinguishing_sign],
  ];
}

/** ISO 18013-5 §7.2.4: optional fields are left out, never encoded as null or undefined. */
function drivingPrivilege(p: DrivingPrivilege): CborObject {
  return {
    vehicle_category_code: p.vehicle_category_code,
    ...(p.issue_date !== undefined && { issue_date: fullDate(p.issue_date) }),
    ...(p.expiry_date !== undefined && { expiry_date: fullDate(p.expiry_date) }),
    ...(p.codes !== undefined && {
      codes: p.codes.map((c) => ({
        code: c.code,
        ...(c.sign !== undefined && { sign: c.sign }),
        ...(c.value !== undefined && { value: c.value }),
      })),
    }),
  };
}

/** JPEG starts with SOI (FFD8) and a marker (FF..), and ends with EOI (FFD9). */
function isJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  return n >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff && bytes[n - 2] === 0xff && bytes[n - 1] === 0xd9;
}

function randomBytes(random: (n: number) => Uint8Array, n: number): Uint8Array {
  const bytes = random(n);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n) throw new TypeError(`mDL: random(${n}) returned the wrong length`);
  return bytes;
}

/** 0..n-1 in a uniformly random order (Fisher–Yates, unbiased indices by rejection sampling). */
function shuffledRange(n: number, random: (n: number) => Uint8Array): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = uniformBelow(i + 1, random);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function uniformBelow(bound: number, random: (n: number) => Uint8Array): number {
  // Largest multiple of `bound` that fits in 32 bits: values at or above it would favour small results.
  const limit = Math.floor(0x1_0000_0000 / bound) * bound;
  // A real source is rejected with probability below bound / 2^32; 64 rejections in a row means a broken one.
  for (let attempt = 0; attempt < 64; attempt++) {
    const b = randomBytes(random, 4);
    const v = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (v < limit) return v % bound;
  }
  throw new Error("mDL: random source is not random");
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}
