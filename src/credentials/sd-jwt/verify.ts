import { errors, importJWK, jwtVerify, type JWK, type JWTHeaderParameters, type JWTPayload } from "jose";
import { decodeDisclosure, SD_ALG, type Disclosure } from "./disclosure";
import { SD_JWT_VC_TYP } from "./issue-sd-jwt-vc";

/**
 * A minimal SD-JWT VC verifier (RFC 9901 §7.1 and §7.3 without key binding): what our own tests use to
 * read back an issued credential, and the base for checking presentations later.
 *
 * It verifies the issuer signature (ES256 only, `typ` `dc+sd-jwt`, `exp`), then rebuilds the claims
 * from the disclosures, refusing everything the RFC says a verifier MUST refuse: a disclosure no digest
 * refers to (which is also what a tampered disclosure looks like, since its digest changes), a digest
 * met twice, a disclosed claim name that already exists, a disclosure of the wrong shape for where its
 * digest sits. A key binding JWT after the last `~` is refused for now rather than silently ignored.
 */

export type SdJwtVcFailure =
  | "malformed"
  | "key_binding_unsupported"
  | "bad_signature"
  | "expired"
  | "bad_claims"
  | "unsupported_sd_alg"
  | "bad_disclosure"
  | "duplicate_digest"
  | "duplicate_claim"
  | "unreferenced_disclosure";

export interface VerifiedSdJwtVc {
  readonly header: JWTHeaderParameters;
  /** The issuer-signed payload as signed: digests, decoys and all. */
  readonly payload: JWTPayload;
  /** The payload with every disclosed claim in place, undisclosed digests and `_sd_alg` removed. */
  readonly claims: Record<string, unknown>;
  readonly disclosures: readonly Disclosure[];
}

export type SdJwtVcResult = ({ ok: true } & VerifiedSdJwtVc) | { ok: false; reason: SdJwtVcFailure; detail: string };

export interface VerifySdJwtVcOptions {
  readonly now: Date;
  /** Expected `iss`; checked when given. */
  readonly issuer?: string;
  /** Expected `vct`; checked when given. */
  readonly vct?: string;
  readonly clockToleranceSeconds?: number;
}

/** Claims the SD-JWT VC draft forbids an issuer to disclose selectively; one arriving as a disclosure is refused. */
const NEVER_DISCLOSED: ReadonlySet<string> = new Set(["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"]);

class Refusal extends Error {
  constructor(
    readonly reason: SdJwtVcFailure,
    detail: string,
  ) {
    super(detail);
  }
}

export async function verifySdJwtVc(sdJwt: string, issuerKey: CryptoKey | JWK, options: VerifySdJwtVcOptions): Promise<SdJwtVcResult> {
  try {
    return { ok: true, ...(await verifyOrThrow(sdJwt, issuerKey, options)) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, reason: e.reason, detail: e.message };
    throw e;
  }
}

async function verifyOrThrow(sdJwt: string, issuerKey: CryptoKey | JWK, options: VerifySdJwtVcOptions): Promise<VerifiedSdJwtVc> {
  // `<JWT>~<D1>~…~<Dn>~<KB-JWT or empty>`: at least one `~`, and the part after the last one is the KB-JWT.
  const parts = sdJwt.split("~");
  const keyBinding = parts.pop();
  if (parts.length === 0) throw new Refusal("malformed", "no ~ separator");
  if (keyBinding !== "") throw new Refusal("key_binding_unsupported", "a key binding JWT is present");
  const [jwt = "", ...encodedDisclosures] = parts;
  if (encodedDisclosures.includes("")) throw new Refusal("malformed", "empty disclosure");

  const key = isCryptoKey(issuerKey) ? issuerKey : await importJWK(issuerKey, "ES256");
  const { header, payload } = await verifyIssuerJwt(jwt, key, options);

  if (typeof payload.vct !== "string") throw new Refusal("bad_claims", "vct is missing");
  if (options.vct !== undefined && payload.vct !== options.vct) throw new Refusal("bad_claims", "unexpected vct");
  // RFC 9901 §4.1.1: an absent `_sd_alg` means sha-256.
  if (payload._sd_alg !== undefined && payload._sd_alg !== SD_ALG) {
    throw new Refusal("unsupported_sd_alg", `_sd_alg ${String(payload._sd_alg)}`);
  }

  const byDigest = new Map<string, Disclosure>();
  for (const encoded of encodedDisclosures) {
    let d: Disclosure;
    try {
      d = await decodeDisclosure(encoded);
    } catch (e) {
      throw new Refusal("bad_disclosure", (e as Error).message);
    }
    // The same disclosure twice would be referenced once and yet both copies accepted.
    if (byDigest.has(d.digest)) throw new Refusal("duplicate_digest", "a disclosure appears twice");
    byDigest.set(d.digest, d);
  }

  const rebuild = new Reconstruction(byDigest);
  const claims = rebuild.object(payload, true);
  delete claims._sd_alg;
  for (const digest of byDigest.keys()) {
    if (!rebuild.used.has(digest)) throw new Refusal("unreferenced_disclosure", "a disclosure is not referenced by any digest");
  }
  return { header, payload, claims, disclosures: [...byDigest.values()] };
}

async function verifyIssuerJwt(
  jwt: string,
  key: CryptoKey | Uint8Array,
  options: VerifySdJwtVcOptions,
): Promise<{ header: JWTHeaderParameters; payload: JWTPayload }> {
  try {
    const { protectedHeader, payload } = await jwtVerify(jwt, key, {
      algorithms: ["ES256"],
      typ: SD_JWT_VC_TYP,
      currentDate: options.now,
      clockTolerance: options.clockToleranceSeconds ?? 0,
      requiredClaims: ["iss", "iat", "exp", "vct"],
      ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    });
    return { header: protectedHeader, payload };
  } catch (e) {
    if (e instanceof errors.JWTExpired) throw new Refusal("expired", e.message);
    if (e instanceof errors.JWTClaimValidationFailed) throw new Refusal("bad_claims", e.message);
    if (e instanceof errors.JWSSignatureVerificationFailed) throw new Refusal("bad_signature", e.message);
    if (e instanceof errors.JOSEAlgNotAllowed) throw new Refusal("bad_signature", e.message);
    throw new Refusal("malformed", (e as Error).message);
  }
}

/** RFC 9901 §7.1 steps 3–5: replace digests by disclosed values, recursively, recording what was used. */
class Reconstruction {
  /** Every digest met in the payload or inside a disclosure; each may appear once only. */
  private readonly seen = new Set<string>();
  readonly used = new Set<string>();

  constructor(private readonly byDigest: ReadonlyMap<string, Disclosure>) {}

  value(v: unknown): unknown {
    if (Array.isArray(v)) return this.array(v);
    if (isObject(v)) return this.object(v, false);
    return v;
  }

  object(obj: Record<string, unknown>, topLevel: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(obj)) {
      if (name !== "_sd") define(out, name, this.value(v));
    }
    if (!Object.hasOwn(obj, "_sd")) return out;
    const sd = obj._sd;
    if (!Array.isArray(sd)) throw new Refusal("bad_claims", "_sd is not an array");
    for (const digest of sd) {
      const d = this.lookUp(digest);
      if (!d) continue; // a decoy, or a claim the holder did not disclose
      if (d.kind !== "property") throw new Refusal("bad_disclosure", "an array element disclosure is referenced from _sd");
      if (Object.hasOwn(out, d.name)) throw new Refusal("duplicate_claim", `claim ${d.name} already exists`);
      if (topLevel && NEVER_DISCLOSED.has(d.name)) throw new Refusal("bad_disclosure", `${d.name} must not be disclosable`);
      define(out, d.name, this.value(d.value));
    }
    return out;
  }

  private array(arr: readonly unknown[]): unknown[] {
    const out: unknown[] = [];
    for (const element of arr) {
      if (!isObject(element) || !Object.hasOwn(element, "...")) {
        out.push(this.value(element));
        continue;
      }
      if (Object.keys(element).length !== 1) throw new Refusal("bad_claims", '"..." is not the only key of an array element');
      const d = this.lookUp(element["..."]);
      if (!d) continue; // undisclosed or decoy: the element is removed
      if (d.kind !== "element") throw new Refusal("bad_disclosure", "a property disclosure is referenced as an array element");
      out.push(this.value(d.value));
    }
    return out;
  }

  private lookUp(digest: unknown): Disclosure | undefined {
    if (typeof digest !== "string") throw new Refusal("bad_claims", "a digest is not a string");
    if (this.seen.has(digest)) throw new Refusal("duplicate_digest", "a digest appears more than once");
    this.seen.add(digest);
    const d = this.byDigest.get(digest);
    if (d) this.used.add(digest);
    return d;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** An own property even for a name like `__proto__`, which plain assignment would turn into a prototype. */
function define(target: Record<string, unknown>, name: string, value: unknown): void {
  Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
}

function isCryptoKey(k: CryptoKey | JWK): k is CryptoKey {
  return typeof CryptoKey !== "undefined" && k instanceof CryptoKey;
}
