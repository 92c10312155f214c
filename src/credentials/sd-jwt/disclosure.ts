import { base64url } from "jose";

/**
 * SD-JWT disclosures (RFC 9901 §4.2): the salted cleartext of one selectively disclosable claim.
 *
 * An object property is disclosed as `[salt, name, value]`, an array element as `[salt, value]`; the
 * disclosure is base64url of the UTF-8 JSON of that array, and what the issuer signs is its digest,
 * base64url(SHA-256(the ASCII of the base64url string)). The digest covers the *encoded string*, never a
 * re-serialisation, so a verifier must hash exactly what it received: JSON whitespace and escaping are
 * the issuer's choice and two encodings of the same claim have different digests.
 *
 * Randomness is injected (`random(n)` returns n bytes) so that issuance is reproducible in tests; in the
 * Worker it is `crypto.getRandomValues`.
 */

/** Returns `n` cryptographically secure random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

/** 128 bits, the minimum RFC 9901 §4.2.1 recommends, which base64url-encodes to 22 characters. */
export const SALT_BYTES = 16;

/** The only `_sd_alg` this module produces or accepts. */
export const SD_ALG = "sha-256";

/** Claim names a disclosure may never carry (RFC 9901 §4.2.1): they are the digest containers. */
export const RESERVED_CLAIM_NAMES: ReadonlySet<string> = new Set(["_sd", "..."]);

export interface PropertyDisclosure {
  readonly kind: "property";
  readonly salt: string;
  readonly name: string;
  readonly value: unknown;
  /** The base64url string as it travels after a `~`. */
  readonly encoded: string;
  readonly digest: string;
}

export interface ElementDisclosure {
  readonly kind: "element";
  readonly salt: string;
  readonly value: unknown;
  readonly encoded: string;
  readonly digest: string;
}

export type Disclosure = PropertyDisclosure | ElementDisclosure;

const ascii = new TextEncoder();
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A fresh salt: base64url of `SALT_BYTES` random bytes. */
export function newSalt(random: RandomBytes): string {
  const bytes = random(SALT_BYTES);
  // A short read from an injected source would silently weaken every salt; refuse it here once.
  if (bytes.length < SALT_BYTES) throw new RangeError(`random(${SALT_BYTES}) returned ${bytes.length} bytes`);
  return base64url.encode(bytes);
}

/**
 * Serialises the disclosure array and base64url-encodes it.
 *
 * Elements are joined with `", "`, the layout RFC 9901 prints in its examples (the reference
 * implementation's), so a known salt, name and value reproduce the RFC's strings byte for byte. Values
 * nested inside (objects, arrays) are compact `JSON.stringify` output. Non-ASCII stays raw UTF-8 (no
 * `\u` escapes), as in the RFC's "Möbius" example.
 */
export function encodeDisclosure(parts: readonly [string, string, unknown] | readonly [string, unknown]): string {
  const json = `[${parts.map((p) => toJson(p)).join(", ")}]`;
  return base64url.encode(json);
}

/** base64url(SHA-256(ASCII(disclosure))), RFC 9901 §4.2.3. Also used for decoys, over random bytes. */
export async function disclosureDigest(encoded: string): Promise<string> {
  return sha256Base64url(ascii.encode(encoded));
}

export async function propertyDisclosure(name: string, value: unknown, random: RandomBytes): Promise<PropertyDisclosure> {
  if (RESERVED_CLAIM_NAMES.has(name)) throw new TypeError(`"${name}" cannot be a disclosed claim name`);
  const salt = newSalt(random);
  const encoded = encodeDisclosure([salt, name, value]);
  return { kind: "property", salt, name, value, encoded, digest: await disclosureDigest(encoded) };
}

export async function elementDisclosure(value: unknown, random: RandomBytes): Promise<ElementDisclosure> {
  const salt = newSalt(random);
  const encoded = encodeDisclosure([salt, value]);
  return { kind: "element", salt, value, encoded, digest: await disclosureDigest(encoded) };
}

/**
 * A decoy digest (RFC 9901 §4.2.5): the hash of fresh random bytes, indistinguishable from a real
 * digest, so that the length of an `_sd` array or of a disclosable array says nothing exact.
 */
export async function decoyDigest(random: RandomBytes): Promise<string> {
  return sha256Base64url(random(SALT_BYTES));
}

/**
 * Parses a received disclosure. Throws `TypeError` on anything that is not a 2- or 3-element JSON array
 * with a string salt (and a string, non-reserved claim name), since a verifier must reject those. The
 * digest is computed over the string as received, whatever its JSON layout.
 */
export async function decodeDisclosure(encoded: string): Promise<Disclosure> {
  if (!BASE64URL.test(encoded)) throw new TypeError("disclosure is not base64url");
  let parsed: unknown;
  try {
    // fatal: invalid UTF-8 is a malformed disclosure, not something to patch with U+FFFD; a BOM is kept
    // (ignoreBOM) so that JSON.parse refuses it rather than the decoder hiding it.
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(base64url.decode(encoded)));
  } catch {
    throw new TypeError("disclosure is not base64url-encoded UTF-8 JSON");
  }
  if (!Array.isArray(parsed) || (parsed.length !== 2 && parsed.length !== 3)) {
    throw new TypeError("disclosure is not a JSON array of 2 or 3 elements");
  }
  const salt: unknown = parsed[0];
  if (typeof salt !== "string") throw new TypeError("disclosure salt is not a string");
  const digest = await disclosureDigest(encoded);
  if (parsed.length === 2) return { kind: "element", salt, value: parsed[1], encoded, digest };
  const name: unknown = parsed[1];
  if (typeof name !== "string") throw new TypeError("disclosure claim name is not a string");
  if (RESERVED_CLAIM_NAMES.has(name)) throw new TypeError(`disclosure claim name "${name}" is reserved`);
  return { kind: "property", salt, name, value: parsed[2], encoded, digest };
}

function toJson(value: unknown): string {
  const json = JSON.stringify(value);
  // JSON.stringify returns undefined for undefined, functions and symbols: none of them is a claim value.
  if (json === undefined) throw new TypeError("disclosure value is not JSON-serialisable");
  return json;
}

async function sha256Base64url(bytes: Uint8Array): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}
