import { SignJWT, type JWK } from "jose";
import type { DrivingPrivilege, LicenceHolder } from "../../register/licence-holder";
import { decoyDigest, elementDisclosure, propertyDisclosure, SD_ALG, type Disclosure, type RandomBytes } from "./disclosure";
import { bytesToBase64 } from "../../lib/base64";

/**
 * The driving licence as an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, on RFC 9901 SD-JWT), credential
 * format `dc+sd-jwt`: `<issuer-signed JWT>~<disclosure>~…~`, with the trailing `~` and no key binding
 * JWT (the wallet adds one when it presents).
 *
 * Visible to anyone holding the credential: `iss`, `iat`, `exp`, `vct`, `cnf` (the wallet key the
 * credential is bound to) and `status`; the SD-JWT VC draft forbids disclosing `iss`, `nbf`, `exp`,
 * `cnf`, `vct` and `status` selectively, and `iat` stays visible so freshness needs no disclosure.
 * Every personal claim is selectively disclosable, and so is each driving privilege on its own, so a
 * wallet can prove "holds category B" without revealing the other categories.
 *
 * Pure: the clock (`now`, `expiresAt`) and the randomness (`random`) come in as arguments.
 */

/** The credential type this issuer declares (`vct`); the credential configuration advertises the same. */
export const DRIVING_LICENCE_VCT = "urn:eudi:mdl:fr:1";

/** JOSE header `typ` of an SD-JWT VC since draft -06 (formerly `vc+sd-jwt`). */
export const SD_JWT_VC_TYP = "dc+sd-jwt";

/** `_sd` of the top level is padded with decoys up to a multiple of this (always at least one decoy). */
export const TOP_LEVEL_SD_BUCKET = 8;

/** `driving_privileges` is padded with decoy elements up to a multiple of this (at least one decoy). */
export const PRIVILEGES_BUCKET = 4;

export interface SdJwtVcSigner {
  /** ES256 (P-256) private key of the credential issuer. */
  readonly key: CryptoKey;
  readonly kid: string;
  /** `iss`: the credential issuer identifier. */
  readonly issuer: string;
  /**
   * The `x5c` header: the signer's certificate chain as base64 DER, leaf first, without the root (HAIP's
   * SD-JWT VC profile: verifiers build the path to the issuing CA they trust).
   */
  readonly x5c?: readonly string[];
}

export interface IssueSdJwtVcOptions {
  readonly vct: string;
  readonly now: Date;
  readonly expiresAt: Date;
  readonly random: RandomBytes;
  /** Token Status List entry: `status.status_list = {idx, uri}` (revocation). */
  readonly status?: { readonly idx: number; readonly uri: string };
}

export async function issueDrivingLicenceSdJwtVc(
  holder: LicenceHolder,
  holderJwk: JWK,
  signer: SdJwtVcSigner,
  options: IssueSdJwtVcOptions,
): Promise<string> {
  const iat = epochSeconds(options.now, "now");
  const exp = epochSeconds(options.expiresAt, "expiresAt");
  if (exp <= iat) throw new RangeError("expiresAt must be after now");
  const cnfJwk = await holderPublicKey(holderJwk);
  if (options.status && !(Number.isSafeInteger(options.status.idx) && options.status.idx >= 0)) {
    throw new RangeError("status.idx must be a non-negative integer");
  }
  const { random } = options;

  // Each privilege is an array-element disclosure; the claim's value is the array of their digests
  // (`{"...": digest}`), itself disclosed as one property, so that privileges nest under it.
  const privilegeDisclosures: Disclosure[] = [];
  for (const privilege of holder.driving_privileges) {
    privilegeDisclosures.push(await elementDisclosure(privilegeClaim(privilege), random));
  }
  const privilegeSlots = await withDecoys(
    privilegeDisclosures.map((d) => d.digest),
    PRIVILEGES_BUCKET,
    random,
    "interleave",
  );

  // Claim order here is only the order of the disclosures after the JWT; `_sd` itself is sorted.
  const claims: [string, unknown][] = [
    ["family_name", holder.family_name],
    ["given_name", holder.given_name],
    ["birth_date", holder.birth_date],
    ["issue_date", holder.issue_date],
    ["expiry_date", holder.expiry_date],
    ["issuing_country", holder.issuing_country],
    ["issuing_authority", holder.issuing_authority],
    ["document_number", holder.document_number],
    ["portrait", `data:image/jpeg;base64,${bytesToBase64(holder.portrait)}`],
    ["driving_privileges", privilegeSlots.map((digest) => ({ "...": digest }))],
    ["un_distinguishing_sign", holder.un_distinguishing_sign],
  ];
  const topLevel: Disclosure[] = [];
  for (const [name, value] of claims) topLevel.push(await propertyDisclosure(name, value, random));

  const payload = {
    iss: signer.issuer,
    iat,
    exp,
    vct: options.vct,
    cnf: { jwk: cnfJwk },
    ...(options.status ? { status: { status_list: { idx: options.status.idx, uri: options.status.uri } } } : {}),
    _sd_alg: SD_ALG,
    _sd: await withDecoys(
      topLevel.map((d) => d.digest),
      TOP_LEVEL_SD_BUCKET,
      random,
      "sort",
    ),
  };

  const jwt = await new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", typ: SD_JWT_VC_TYP, kid: signer.kid, ...(signer.x5c ? { x5c: [...signer.x5c] } : {}) })
    .sign(signer.key);

  // The privileges' disclosures follow the claim that refers to them; order carries no meaning.
  const disclosures = [...topLevel, ...privilegeDisclosures].map((d) => d.encoded);
  return `${jwt}~${disclosures.join("~")}~`;
}

/**
 * Pads `digests` with decoys up to the next multiple of `bucket` strictly above its length, then hides
 * which entries are real. `_sd` is sorted (RFC 9901 §4.2.4.1 recommends sorting or shuffling: the
 * order of the claims must not show). In an array the position of a real element is part of the data,
 * so real elements keep their order and decoys are inserted at random positions among them.
 */
async function withDecoys(
  digests: readonly string[],
  bucket: number,
  random: RandomBytes,
  order: "sort" | "interleave",
): Promise<string[]> {
  const total = Math.ceil((digests.length + 1) / bucket) * bucket;
  const out = [...digests];
  for (let i = digests.length; i < total; i++) {
    const decoy = await decoyDigest(random);
    if (order === "sort") out.push(decoy);
    else out.splice(uniformBelow(out.length + 1, random), 0, decoy);
  }
  // Plain code-unit order: deterministic everywhere, unlike localeCompare.
  if (order === "sort") out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}

/** An integer in [0, n) from 32 random bits; the modulo bias (< n / 2^32) is irrelevant for decoy slots. */
function uniformBelow(n: number, random: RandomBytes): number {
  const b = random(4);
  const word = (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
  return word % n;
}

/** Copies only the members that are set, so an absent optional stays absent rather than `undefined`. */
function privilegeClaim(p: DrivingPrivilege): Record<string, unknown> {
  const out: Record<string, unknown> = { vehicle_category_code: p.vehicle_category_code };
  if (p.issue_date !== undefined) out.issue_date = p.issue_date;
  if (p.expiry_date !== undefined) out.expiry_date = p.expiry_date;
  if (p.codes !== undefined) {
    out.codes = p.codes.map((c) => ({
      code: c.code,
      ...(c.sign !== undefined ? { sign: c.sign } : {}),
      ...(c.value !== undefined ? { value: c.value } : {}),
    }));
  }
  return out;
}

/**
 * The holder key as `cnf.jwk`: a P-256 public key reduced to its defining members. A private member
 * (`d`) means the caller passed the wrong key, and publishing it would hand the wallet key to anyone.
 * The import makes WebCrypto check that (x, y) is a point on the curve: a credential bound to a key
 * nobody can hold would be issued for nothing.
 */
async function holderPublicKey(jwk: JWK): Promise<JWK> {
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") {
    throw new TypeError("holder key must be a P-256 EC public JWK");
  }
  if (jwk.d !== undefined) throw new TypeError("holder key must be public (it has a private member d)");
  const publicJwk = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  try {
    await crypto.subtle.importKey("jwk", publicJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new TypeError("holder key is not a valid P-256 public key");
  }
  return publicJwk;
}

function epochSeconds(d: Date, what: string): number {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) throw new RangeError(`${what} is not a valid date`);
  return Math.floor(ms / 1000);
}
