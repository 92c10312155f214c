import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { base64url, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../helpers/seeded-random";
import {
  decodeDisclosure,
  disclosureDigest,
  elementDisclosure,
  encodeDisclosure,
  newSalt,
  propertyDisclosure,
  type RandomBytes,
} from "../../src/credentials/sd-jwt/disclosure";
import {
  DRIVING_LICENCE_VCT,
  issueDrivingLicenceSdJwtVc,
  PRIVILEGES_BUCKET,
  SD_JWT_VC_TYP,
  TOP_LEVEL_SD_BUCKET,
  type IssueSdJwtVcOptions,
  type SdJwtVcSigner,
} from "../../src/credentials/sd-jwt/issue-sd-jwt-vc";
import { verifySdJwtVc } from "../../src/credentials/sd-jwt/verify";
import { env } from "cloudflare:workers";
import type { Env } from "../../src/config/env";
import { DEV_IACA_CERT_PEM, DEV_MDOC_DS_CERT_PEM } from "../../src/config/dev-credentials";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { withDevSecrets } from "../../src/dev/secrets";
import { sdJwtSigner } from "../../src/issuance/signers";
import { loadX509 } from "../helpers/mdoc-verifier";
import type { LicenceHolder } from "../../src/register/licence-holder";

// --- fixtures ---------------------------------------------------------------------------------------

/**
 * A 1×1 grey baseline JPEG (159 bytes, hand-assembled: SOI, JFIF APP0, DQT, SOF0, two one-code DHTs,
 * SOS, one entropy byte, EOI). Synthetic, like the whole holder.
 */
const PORTRAIT_B64 =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB" +
  "AQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z";
const PORTRAIT = Uint8Array.from(atob(PORTRAIT_B64), (c) => c.charCodeAt(0));

const HOLDER: LicenceHolder = {
  person_id: "synthetic-person-0001",
  family_name: "Dupont-Hélène",
  given_name: "Chloé",
  birth_date: "1990-04-17",
  issue_date: "2021-06-01",
  expiry_date: "2036-05-31",
  issuing_country: "FR",
  issuing_authority: "Préfecture de Test",
  document_number: "21AB12345",
  portrait: PORTRAIT,
  driving_privileges: [
    { vehicle_category_code: "AM", issue_date: "2006-05-02" },
    { vehicle_category_code: "B", issue_date: "2008-09-12", expiry_date: "2036-05-31" },
    { vehicle_category_code: "BE", issue_date: "2015-03-20", codes: [{ code: "78" }, { code: "96", sign: "<=", value: "4250" }] },
  ],
  un_distinguishing_sign: "F",
};

/** What a verifier should rebuild from a full disclosure of HOLDER: everything but the register's person_id. */
const EXPECTED_PERSONAL_CLAIMS = {
  family_name: HOLDER.family_name,
  given_name: HOLDER.given_name,
  birth_date: HOLDER.birth_date,
  issue_date: HOLDER.issue_date,
  expiry_date: HOLDER.expiry_date,
  issuing_country: HOLDER.issuing_country,
  issuing_authority: HOLDER.issuing_authority,
  document_number: HOLDER.document_number,
  portrait: `data:image/jpeg;base64,${PORTRAIT_B64}`,
  driving_privileges: HOLDER.driving_privileges,
  un_distinguishing_sign: HOLDER.un_distinguishing_sign,
};
const PERSONAL_CLAIM_COUNT = Object.keys(EXPECTED_PERSONAL_CLAIMS).length; // 11

const ISSUER = "https://antichambre.test/issuer";
const NOW = new Date("2026-05-01T10:00:00.123Z");
const NOW_S = Math.floor(NOW.getTime() / 1000);
const EXPIRES = new Date("2026-06-01T10:00:00Z");
const STATUS = { idx: 7, uri: "https://antichambre.test/status/1" };

const systemRandom: RandomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

let issuerKeys: CryptoKeyPair;
let otherKeys: CryptoKeyPair;
let holderJwk: JWK;
let signer: SdJwtVcSigner;

beforeAll(async () => {
  issuerKeys = await generateKeyPair("ES256");
  otherKeys = await generateKeyPair("ES256");
  holderJwk = await exportJWK((await generateKeyPair("ES256", { extractable: true })).publicKey);
  signer = { key: issuerKeys.privateKey, kid: "issuer-key-1", issuer: ISSUER };
});

function options(overrides: Partial<IssueSdJwtVcOptions> = {}): IssueSdJwtVcOptions {
  return { vct: DRIVING_LICENCE_VCT, now: NOW, expiresAt: EXPIRES, random: seededRandom(42), status: STATUS, ...overrides };
}

function split(sdJwt: string): { jwt: string; disclosures: string[] } {
  const parts = sdJwt.split("~");
  expect(parts.pop()).toBe(""); // trailing ~, no key binding JWT
  const [jwt = "", ...disclosures] = parts;
  return { jwt, disclosures };
}

const utf8 = new TextEncoder();
const sha256b64u = async (s: string) => base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(s))));

// --- disclosures, byte for byte ----------------------------------------------------------------------

describe("disclosures (RFC 9901 §4.2)", () => {
  // §4.2.1 and §4.2.3: the RFC's own strings, produced by the reference implementation.
  const RFC_FAMILY_NAME = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
  const RFC_FAMILY_NAME_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0";
  // §4.2.2 (array element) and its digest.
  const RFC_ELEMENT = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0";
  const RFC_ELEMENT_DIGEST = "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs";

  it("encodes an object property exactly as the RFC prints it (', ' separators, raw UTF-8)", async () => {
    const encoded = encodeDisclosure(["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]);
    expect(encoded).toBe(RFC_FAMILY_NAME);
    // The bytes under the base64url: the JSON text with ", " and the ö as UTF-8 (c3 b6), not \u00f6.
    expect(new TextDecoder().decode(base64url.decode(encoded))).toBe('["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]');
    expect(Array.from(base64url.decode(encoded).slice(-8, -6))).toEqual([0xc3, 0xb6]); // …M ö b i u s " ]
    expect(await disclosureDigest(encoded)).toBe(RFC_FAMILY_NAME_DIGEST);
  });

  it("encodes an array element exactly as the RFC prints it", async () => {
    const encoded = encodeDisclosure(["lklxF5jMYlGTPUovMNIvCA", "FR"]);
    expect(encoded).toBe(RFC_ELEMENT);
    expect(await disclosureDigest(encoded)).toBe(RFC_ELEMENT_DIGEST);
  });

  it("hashes the ASCII of the base64url string, not the JSON it encodes", async () => {
    const json = '["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"]';
    expect(await disclosureDigest(RFC_FAMILY_NAME)).toBe(await sha256b64u(RFC_FAMILY_NAME));
    expect(await sha256b64u(json)).not.toBe(RFC_FAMILY_NAME_DIGEST);
    expect(RFC_FAMILY_NAME_DIGEST).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 bytes, unpadded
  });

  it("decodes the RFC's other encodings of the same claim, each with its own digest", async () => {
    const variants = [
      RFC_FAMILY_NAME,
      "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNXHUwMGY2Yml1cyJd", // "M\u00f6bius"
      "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsImZhbWlseV9uYW1lIiwiTcO2Yml1cyJd", // no whitespace
      "WwoiXzI2YmM0TFQtYWM2cTJLSTZjQlc1ZXMiLAoiZmFtaWx5X25hbWUiLAoiTcO2Yml1cyIKXQ", // newlines
    ];
    const decoded = await Promise.all(variants.map(decodeDisclosure));
    for (const d of decoded) {
      expect(d).toMatchObject({ kind: "property", salt: "_26bc4LT-ac6q2KI6cBW5es", name: "family_name", value: "Möbius" });
    }
    expect(decoded[0]?.digest).toBe(RFC_FAMILY_NAME_DIGEST);
    expect(new Set(decoded.map((d) => d.digest)).size).toBe(4);
    expect(await decodeDisclosure(RFC_ELEMENT)).toMatchObject({
      kind: "element",
      salt: "lklxF5jMYlGTPUovMNIvCA",
      value: "FR",
      digest: RFC_ELEMENT_DIGEST,
    });
  });

  it("round-trips structured values through encode and decode", async () => {
    const value = { vehicle_category_code: "BE", codes: [{ code: "96", sign: "<=", value: "4250" }] };
    const d = await elementDisclosure(value, seededRandom(1));
    expect(new TextDecoder().decode(base64url.decode(d.encoded))).toBe(`["${d.salt}", ${JSON.stringify(value)}]`);
    expect(await decodeDisclosure(d.encoded)).toEqual(d);
  });

  it("draws 128-bit salts from the injected source", async () => {
    const salt = newSalt(() => new Uint8Array(16).fill(0xff));
    expect(salt).toBe("_____________________w");
    expect(base64url.decode(salt)).toHaveLength(16);
    expect(() => newSalt(() => new Uint8Array(15))).toThrow(RangeError);
    const a = await propertyDisclosure("given_name", "Chloé", seededRandom(9));
    const b = await propertyDisclosure("given_name", "Chloé", seededRandom(9));
    const c = await propertyDisclosure("given_name", "Chloé", seededRandom(10));
    expect(a).toEqual(b);
    expect(c.salt).not.toBe(a.salt);
    expect(c.digest).not.toBe(a.digest);
  });

  it("refuses malformed disclosures and reserved claim names", async () => {
    const b64 = (json: string) => base64url.encode(json);
    for (const bad of [
      "WyJh+IiwgIkZSIl0", // not base64url
      b64('{"salt": "x"}'),
      b64('["only-salt"]'),
      b64('["s", "a", "b", "c"]'),
      b64('[1, "name", "v"]'),
      b64('["s", 2, "v"]'),
      b64('["s", "_sd", ["x"]]'),
      b64('["s", "...", "x"]'),
      b64("not json"),
      base64url.encode(new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d])), // invalid UTF-8
    ]) {
      await expect(decodeDisclosure(bad), bad).rejects.toThrow(TypeError);
    }
    await expect(propertyDisclosure("_sd", 1, systemRandom)).rejects.toThrow(TypeError);
    expect(() => encodeDisclosure(["s", "n", undefined])).toThrow(TypeError);
  });
});

// --- issuance ----------------------------------------------------------------------------------------

describe("issueDrivingLicenceSdJwtVc", () => {
  it("signs an ES256 dc+sd-jwt with only the non-disclosable claims in the clear", async () => {
    const sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options());
    expect(sdJwt.endsWith("~")).toBe(true);
    const { jwt, disclosures } = split(sdJwt);

    expect(decodeProtectedHeader(jwt)).toEqual({ alg: "ES256", typ: "dc+sd-jwt", kid: "issuer-key-1" });
    const payload = decodeJwt(jwt);
    expect(Object.keys(payload)).toEqual(["iss", "iat", "exp", "vct", "cnf", "status", "_sd_alg", "_sd"]);
    expect(payload).toMatchObject({
      iss: ISSUER,
      iat: NOW_S,
      exp: Math.floor(EXPIRES.getTime() / 1000),
      vct: "urn:eudi:mdl:fr:1",
      cnf: { jwk: holderJwk },
      status: { status_list: { idx: 7, uri: STATUS.uri } },
      _sd_alg: "sha-256",
    });
    expect((payload.cnf as { jwk: JWK }).jwk).toEqual({ kty: "EC", crv: "P-256", x: holderJwk.x, y: holderJwk.y });

    // Nothing personal in the signed payload itself.
    const clear = new TextDecoder().decode(base64url.decode(jwt.split(".")[1] ?? ""));
    for (const secret of ["Dupont", "Chlo", "1990-04-17", "21AB12345", "Préfecture", "vehicle_category_code", PORTRAIT_B64.slice(0, 20)]) {
      expect(clear).not.toContain(secret);
    }

    // 11 claims + 3 privileges, each its own disclosure.
    expect(disclosures).toHaveLength(PERSONAL_CLAIM_COUNT + HOLDER.driving_privileges.length);
  });

  it("pads _sd with decoys to the bucket above the claim count, sorted and all distinct", async () => {
    const sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options());
    const { jwt, disclosures } = split(sdJwt);
    const sd = decodeJwt(jwt)._sd as string[];
    const decoded = await Promise.all(disclosures.map(decodeDisclosure));

    expect(sd).toHaveLength(16); // 11 claims, bucket of 8 → 16: five decoys
    expect(sd).toHaveLength(Math.ceil((PERSONAL_CLAIM_COUNT + 1) / TOP_LEVEL_SD_BUCKET) * TOP_LEVEL_SD_BUCKET);
    expect([...sd].sort()).toEqual(sd);
    expect(new Set(sd).size).toBe(sd.length);
    for (const digest of sd) expect(digest).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const properties = decoded.filter((d) => d.kind === "property");
    expect(properties.map((d) => d.kind === "property" && d.name)).toEqual(Object.keys(EXPECTED_PERSONAL_CLAIMS));
    for (const d of properties) expect(sd).toContain(d.digest);
    expect(sd.filter((x) => !properties.some((d) => d.digest === x))).toHaveLength(16 - PERSONAL_CLAIM_COUNT);

    // Every salt is fresh 128-bit randomness.
    const salts = decoded.map((d) => d.salt);
    expect(new Set(salts).size).toBe(salts.length);
    for (const s of salts) expect(base64url.decode(s)).toHaveLength(16);
  });

  it("makes each driving privilege its own array-element disclosure, among decoys", async () => {
    const sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options());
    const decoded = await Promise.all(split(sdJwt).disclosures.map(decodeDisclosure));
    const privileges = decoded.find((d) => d.kind === "property" && d.name === "driving_privileges");
    const slots = privileges?.value as { "...": string }[];
    expect(slots).toHaveLength(PRIVILEGES_BUCKET); // 3 privileges → 4 slots, one decoy
    for (const slot of slots) expect(Object.keys(slot)).toEqual(["..."]);

    const elements = decoded.filter((d) => d.kind === "element");
    expect(elements.map((d) => d.value)).toEqual(HOLDER.driving_privileges);
    const realSlots = slots.map((s) => s["..."]).filter((digest) => elements.some((e) => e.digest === digest));
    expect(realSlots).toEqual(elements.map((e) => e.digest)); // real elements keep their order
  });

  it("embeds the portrait as a JPEG data: URL of the register's bytes", async () => {
    const sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options());
    const decoded = await Promise.all(split(sdJwt).disclosures.map(decodeDisclosure));
    const portrait = decoded.find((d) => d.kind === "property" && d.name === "portrait")?.value as string;
    expect(portrait.startsWith("data:image/jpeg;base64,")).toBe(true);
    const bytes = Uint8Array.from(atob(portrait.slice("data:image/jpeg;base64,".length)), (c) => c.charCodeAt(0));
    expect(bytes).toEqual(HOLDER.portrait);
    expect(Array.from(bytes.slice(0, 2))).toEqual([0xff, 0xd8]); // SOI
  });

  it("is reproducible from the injected randomness (apart from the ECDSA signature)", async () => {
    const a = split(await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ random: seededRandom(7) })));
    const b = split(await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ random: seededRandom(7) })));
    const c = split(await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ random: seededRandom(8) })));
    expect(b.disclosures).toEqual(a.disclosures);
    expect(decodeJwt(b.jwt)).toEqual(decodeJwt(a.jwt));
    expect(c.disclosures).not.toEqual(a.disclosures);
  });

  it("omits status when there is none, and refuses a private holder key or an empty validity", async () => {
    const { jwt } = split(await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ status: undefined })));
    expect(decodeJwt(jwt)).not.toHaveProperty("status");

    const holderPrivate = await exportJWK((await generateKeyPair("ES256", { extractable: true })).privateKey);
    await expect(issueDrivingLicenceSdJwtVc(HOLDER, holderPrivate, signer, options())).rejects.toThrow(/public/);
    await expect(issueDrivingLicenceSdJwtVc(HOLDER, { kty: "OKP", crv: "Ed25519", x: "AA" }, signer, options())).rejects.toThrow(/P-256/);
    const offCurve = { ...holderJwk, y: holderJwk.x }; // (x, x) is not on P-256 for any real key
    await expect(issueDrivingLicenceSdJwtVc(HOLDER, offCurve, signer, options())).rejects.toThrow(/valid P-256/);
    await expect(issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ expiresAt: NOW }))).rejects.toThrow(RangeError);
  });
});

// --- our verifier ------------------------------------------------------------------------------------

describe("verifySdJwtVc", () => {
  let sdJwt: string;
  beforeAll(async () => {
    sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options());
  });
  const verify = (s: string, key: CryptoKey = issuerKeys.publicKey, now = NOW) =>
    verifySdJwtVc(s, key, { now, issuer: ISSUER, vct: DRIVING_LICENCE_VCT });

  it("rebuilds every claim from a full disclosure", async () => {
    const result = await verify(sdJwt);
    if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
    expect(result.header.typ).toBe(SD_JWT_VC_TYP);
    expect(result.claims).toEqual({
      iss: ISSUER,
      iat: NOW_S,
      exp: Math.floor(EXPIRES.getTime() / 1000),
      vct: DRIVING_LICENCE_VCT,
      cnf: { jwk: holderJwk },
      status: { status_list: STATUS },
      ...EXPECTED_PERSONAL_CLAIMS,
    });
  });

  it("accepts a public JWK for the issuer key", async () => {
    const result = await verifySdJwtVc(sdJwt, await exportJWK(issuerKeys.publicKey), { now: NOW });
    expect(result.ok).toBe(true);
  });

  it("shows only what a presentation discloses, dropping decoys and withheld privileges", async () => {
    const { jwt, disclosures } = split(sdJwt);
    const decoded = await Promise.all(disclosures.map(decodeDisclosure));
    const pick = decoded.filter(
      (d) =>
        (d.kind === "property" && (d.name === "given_name" || d.name === "driving_privileges")) ||
        (d.kind === "element" && (d.value as { vehicle_category_code: string }).vehicle_category_code === "B"),
    );
    const result = await verify(`${jwt}~${pick.map((d) => d.encoded).join("~")}~`);
    if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
    const { iss, iat, exp, vct, cnf, status, ...personal } = result.claims;
    expect([iss, iat, exp, vct, status]).toEqual([ISSUER, NOW_S, decodeJwt(jwt).exp, DRIVING_LICENCE_VCT, { status_list: STATUS }]);
    expect(cnf).toEqual({ jwk: holderJwk });
    expect(personal).toEqual({ given_name: HOLDER.given_name, driving_privileges: [HOLDER.driving_privileges[1]] });

    const bare = await verify(`${jwt}~`);
    expect(bare.ok && Object.keys(bare.claims)).toEqual(["iss", "iat", "exp", "vct", "cnf", "status"]);
  });

  it("refuses a tampered disclosure (its digest is no longer in _sd)", async () => {
    const { jwt, disclosures } = split(sdJwt);
    const decoded = await Promise.all(disclosures.map(decodeDisclosure));
    const i = decoded.findIndex((d) => d.kind === "property" && d.name === "birth_date");
    const forged = encodeDisclosure([decoded[i]?.salt ?? "", "birth_date", "1970-01-01"]);
    const tampered = [...disclosures];
    tampered[i] = forged;
    expect(await verify(`${jwt}~${tampered.join("~")}~`)).toMatchObject({ ok: false, reason: "unreferenced_disclosure" });

    // Re-spacing the JSON keeps the value but changes the string, so it is just as unreferenced.
    const respaced = base64url.encode(new TextDecoder().decode(base64url.decode(disclosures[i] ?? "")).replaceAll(", ", ","));
    expect(await verify(`${jwt}~${respaced}~`)).toMatchObject({ ok: false, reason: "unreferenced_disclosure" });
  });

  it("refuses a disclosure sent twice, a key binding JWT it cannot check, and malformed input", async () => {
    const { jwt, disclosures } = split(sdJwt);
    const d0 = disclosures[0] ?? "";
    expect(await verify(`${jwt}~${d0}~${d0}~`)).toMatchObject({ ok: false, reason: "duplicate_digest" });
    expect(await verify(`${sdJwt}eyJhbGciOiJFUzI1NiJ9.e30.sig`)).toMatchObject({ ok: false, reason: "key_binding_unsupported" });
    expect(await verify(jwt)).toMatchObject({ ok: false, reason: "malformed" }); // a bare JWT is no SD-JWT
    expect(await verify(`${jwt}~~${d0}~`)).toMatchObject({ ok: false, reason: "malformed" });
    expect(await verify(`${jwt}~!!~`)).toMatchObject({ ok: false, reason: "bad_disclosure" });
  });

  it("refuses another issuer's key, a modified payload, an expired credential, the wrong iss or vct", async () => {
    expect(await verify(sdJwt, otherKeys.publicKey)).toMatchObject({ ok: false, reason: "bad_signature" });

    const [h, p, s] = split(sdJwt).jwt.split(".");
    const payload = decodeJwt(`${h}.${p}.${s}`);
    const forgedPayload = base64url.encode(JSON.stringify({ ...payload, exp: payload.exp! + 86400 }));
    expect(await verify(`${h}.${forgedPayload}.${s}~`)).toMatchObject({ ok: false, reason: "bad_signature" });

    expect(await verify(sdJwt, issuerKeys.publicKey, new Date(EXPIRES.getTime() + 1000))).toMatchObject({ ok: false, reason: "expired" });
    expect(await verifySdJwtVc(sdJwt, issuerKeys.publicKey, { now: NOW, issuer: "https://elsewhere.test" })).toMatchObject({
      ok: false,
      reason: "bad_claims",
    });
    expect(await verifySdJwtVc(sdJwt, issuerKeys.publicKey, { now: NOW, vct: "urn:other" })).toMatchObject({
      ok: false,
      reason: "bad_claims",
    });
  });

  describe("on hand-built credentials that break RFC 9901 §7.1", () => {
    /** Signs an arbitrary payload as a dc+sd-jwt with the issuer key; the disclosures follow. */
    async function craft(payload: Record<string, unknown>, disclosures: string[], typ = "dc+sd-jwt"): Promise<string> {
      const jwt = await new SignJWT({
        iss: ISSUER,
        iat: NOW_S,
        exp: NOW_S + 3600,
        vct: DRIVING_LICENCE_VCT,
        _sd_alg: "sha-256",
        ...payload,
      })
        .setProtectedHeader({ alg: "ES256", typ })
        .sign(issuerKeys.privateKey);
      return `${jwt}~${disclosures.map((d) => `${d}~`).join("")}`;
    }
    const r = seededRandom(99);

    it("a digest listed twice", async () => {
      const d = await propertyDisclosure("given_name", "Chloé", r);
      expect(await verify(await craft({ _sd: [d.digest, d.digest] }, [d.encoded]))).toMatchObject({
        ok: false,
        reason: "duplicate_digest",
      });
    });

    it("a disclosed name that is already a claim", async () => {
      const d = await propertyDisclosure("given_name", "Chloé", r);
      expect(await verify(await craft({ given_name: "X", _sd: [d.digest] }, [d.encoded]))).toMatchObject({
        ok: false,
        reason: "duplicate_claim",
      });
    });

    it("a disclosure of the wrong shape for where its digest sits", async () => {
      const e = await elementDisclosure("FR", r);
      expect(await verify(await craft({ _sd: [e.digest] }, [e.encoded]))).toMatchObject({ ok: false, reason: "bad_disclosure" });
      const p = await propertyDisclosure("nationality", "FR", r);
      expect(await verify(await craft({ nationalities: [{ "...": p.digest }] }, [p.encoded]))).toMatchObject({
        ok: false,
        reason: "bad_disclosure",
      });
    });

    it("a claim the SD-JWT VC draft forbids disclosing (cnf)", async () => {
      const d = await propertyDisclosure("cnf", { jwk: holderJwk }, r);
      expect(await verify(await craft({ _sd: [d.digest] }, [d.encoded]))).toMatchObject({ ok: false, reason: "bad_disclosure" });
    });

    it("an unsupported _sd_alg, or a typ other than dc+sd-jwt", async () => {
      expect(await verify(await craft({ _sd_alg: "sha-512", _sd: [] }, []))).toMatchObject({ ok: false, reason: "unsupported_sd_alg" });
      expect(await verify(await craft({ _sd: [] }, [], "vc+sd-jwt"))).toMatchObject({ ok: false, reason: "bad_claims" });
    });

    it("but accepts nested disclosures and a claim named __proto__ as an own property", async () => {
      const inner = await propertyDisclosure("__proto__", { polluted: true }, r);
      const outer = await propertyDisclosure("address", { locality: "Lyon", _sd: [inner.digest] }, r);
      const result = await verify(await craft({ _sd: [outer.digest] }, [outer.encoded, inner.encoded]));
      if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
      const address = result.claims.address as Record<string, unknown>;
      expect(Object.getPrototypeOf(address)).toBe(Object.prototype);
      expect(Object.hasOwn(address, "__proto__")).toBe(true);
      expect(address.locality).toBe("Lyon");
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

// --- independent verification: @sd-jwt/sd-jwt-vc 0.19, in workerd --------------------------------------

describe("independent verification with @sd-jwt/sd-jwt-vc", () => {
  /** SHA-256 over the string's bytes (the library passes the base64url disclosure, ASCII). */
  const hasher = async (data: string | ArrayBuffer, alg: string): Promise<Uint8Array> => {
    if (alg !== "sha-256") throw new Error(`unexpected hash ${alg}`);
    const bytes = typeof data === "string" ? utf8.encode(data) : new Uint8Array(data);
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  };

  /** The library hands over `header.payload` and the base64url signature; ES256 JWS is raw r||s, as WebCrypto wants. */
  const webCryptoVerifier = (key: CryptoKey) => async (data: string, signature: string) =>
    crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, base64url.decode(signature), utf8.encode(data));

  /**
   * A Token Status List JWT (1 bit per entry) built here without the library: zlib via CompressionStream,
   * LSB-first bit order. The library inflates it with pako, which checks our encoding as a side effect.
   */
  async function statusListJwt(revoked: number[], size = 64): Promise<string> {
    const bits = new Uint8Array(size / 8);
    for (const i of revoked) bits[i >> 3] = (bits[i >> 3] ?? 0) | (1 << (i & 7));
    const zlib = new Uint8Array(await new Response(new Blob([bits]).stream().pipeThrough(new CompressionStream("deflate"))).arrayBuffer());
    return new SignJWT({ sub: STATUS.uri, iat: NOW_S, status_list: { bits: 1, lst: base64url.encode(zlib) } })
      .setProtectedHeader({ alg: "ES256", typ: "statuslist+jwt", kid: "issuer-key-1" })
      .sign(issuerKeys.privateKey);
  }

  function library(key: CryptoKey, revoked: number[] = []): SDJwtVcInstance {
    return new SDJwtVcInstance({
      hasher,
      verifier: webCryptoVerifier(key),
      statusListFetcher: async (uri) => {
        expect(uri).toBe(STATUS.uri);
        return statusListJwt(revoked);
      },
      loadTypeMetadataFormat: false, // our vct is a URN: nothing to fetch, and no network in tests
    });
  }

  let sdJwt: string;
  beforeAll(async () => {
    sdJwt = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, signer, options({ random: systemRandom }));
  });

  it("verifies the credential and returns the holder's data", async () => {
    const { header, payload } = await library(issuerKeys.publicKey).verify(sdJwt, { currentDate: NOW_S });
    expect(header).toEqual({ alg: "ES256", typ: "dc+sd-jwt", kid: "issuer-key-1" });
    const { iss, iat, exp, vct, cnf, status, ...personal } = payload as unknown as Record<string, unknown>;
    expect({ iss, iat, vct, cnf, status }).toEqual({
      iss: ISSUER,
      iat: NOW_S,
      vct: DRIVING_LICENCE_VCT,
      cnf: { jwk: holderJwk },
      status: { status_list: STATUS },
    });
    expect(exp).toBe(Math.floor(EXPIRES.getTime() / 1000));
    expect(personal).toEqual(EXPECTED_PERSONAL_CLAIMS);
  });

  it("sees every personal claim and every privilege as presentable, and nothing else", async () => {
    const keys = await library(issuerKeys.publicKey).presentableKeys(sdJwt);
    const privilegeKeys = keys.filter((k) => k.startsWith("driving_privileges."));
    expect(privilegeKeys).toHaveLength(HOLDER.driving_privileges.length);
    expect(keys.filter((k) => !k.startsWith("driving_privileges.")).sort()).toEqual(Object.keys(EXPECTED_PERSONAL_CLAIMS).sort());
  });

  it("makes a selective presentation that our verifier accepts", async () => {
    const lib = library(issuerKeys.publicKey);
    const keys = await lib.presentableKeys(sdJwt);
    const firstPrivilege = keys.find((k) => k.startsWith("driving_privileges."))?.split(".")[1] ?? "";
    const frame = { family_name: true, driving_privileges: { [firstPrivilege]: true } };
    const presentation = await lib.present(sdJwt, frame as never);
    expect(presentation.endsWith("~")).toBe(true);

    const ours = await verifySdJwtVc(presentation, issuerKeys.publicKey, { now: NOW });
    if (!ours.ok) throw new Error(`${ours.reason}: ${ours.detail}`);
    expect(ours.claims.family_name).toBe(HOLDER.family_name);
    expect(ours.claims.driving_privileges).toEqual([HOLDER.driving_privileges[0]]);
    expect(ours.claims).not.toHaveProperty("birth_date");
  });

  it("rejects the credential under another key, expired, or revoked in the status list", async () => {
    await expect(library(otherKeys.publicKey).verify(sdJwt, { currentDate: NOW_S })).rejects.toThrow(/signature/i);

    const foreign = await issueDrivingLicenceSdJwtVc(HOLDER, holderJwk, { ...signer, key: otherKeys.privateKey }, options());
    await expect(library(issuerKeys.publicKey).verify(foreign, { currentDate: NOW_S })).rejects.toThrow(/signature/i);

    await expect(library(issuerKeys.publicKey).verify(sdJwt, { currentDate: NOW_S + 40 * 86400 })).rejects.toThrow(/expired/i);
    await expect(library(issuerKeys.publicKey, [STATUS.idx]).verify(sdJwt, { currentDate: NOW_S })).rejects.toThrow(/status/i);
    // A neighbour's revocation leaves this credential valid: the bit order is right.
    await expect(
      library(issuerKeys.publicKey, [STATUS.idx - 1, STATUS.idx + 1]).verify(sdJwt, { currentDate: NOW_S }),
    ).resolves.toBeDefined();
  });
});

// --- x5c: the signer's certificate, issued by the IACA -------------------------------------------------

describe("x5c (HAIP's SD-JWT VC profile)", () => {
  // Inside the development certificates' validity (src/config/dev-credentials.ts).
  const AT = new Date("2026-12-01T08:00:00Z");

  it("the deployed signer puts its own certificate (not the root) in x5c; it chains to the IACA and its key verifies the JWT", async () => {
    const x509 = await loadX509();
    const signerOfDeployment = await sdJwtSigner(withDevSecrets(env as unknown as Env), ISSUER, AT.getTime());
    const sdJwt = await issueDrivingLicenceSdJwtVc(
      HOLDER,
      holderJwk,
      signerOfDeployment,
      options({ now: AT, expiresAt: new Date(AT.getTime() + 86_400_000) }),
    );
    const { jwt } = split(sdJwt);
    const header = decodeProtectedHeader(jwt);
    expect(header).toMatchObject({ alg: "ES256", typ: "dc+sd-jwt", kid: signerOfDeployment.kid });
    expect(header.x5c).toHaveLength(1);

    const root = new x509.X509Certificate(pemToDer(DEV_IACA_CERT_PEM));
    const leaf = new x509.X509Certificate(Uint8Array.from(atob(header.x5c![0]!), (c) => c.charCodeAt(0)));
    // The chain without the root: the one certificate is the signer's, issued by the IACA.
    expect(leaf.subject).not.toBe(root.subject);
    expect(leaf.issuer).toBe(root.subject);
    expect(await leaf.isSelfSigned()).toBe(false);
    const chain = await new x509.X509ChainBuilder({ certificates: [root] }).build(leaf);
    expect(chain.map((c) => c.subject)).toEqual([leaf.subject, root.subject]);
    expect(await leaf.verify({ publicKey: root.publicKey, date: AT })).toBe(true);
    expect(await root.verify({ publicKey: root.publicKey, date: AT })).toBe(true);
    // The same issuing CA as the mdoc Document Signer, and not a Document Signer itself.
    expect(new x509.X509Certificate(pemToDer(DEV_MDOC_DS_CERT_PEM)).issuer).toBe(root.subject);
    expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)).toBeNull();
    expect(leaf.getExtension(x509.KeyUsagesExtension)!.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(leaf.getExtension(x509.BasicConstraintsExtension)?.ca ?? false).toBe(false);

    // The JWT verifies with the leaf's key, and not with the root's.
    const leafKey = await leaf.publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"]);
    const { payload } = await jwtVerify(jwt, leafKey, { algorithms: ["ES256"], typ: "dc+sd-jwt", issuer: ISSUER, currentDate: AT });
    expect(payload.vct).toBe(DRIVING_LICENCE_VCT);
    const rootKey = await root.publicKey.export({ name: "ECDSA", namedCurve: "P-256" }, ["verify"]);
    await expect(jwtVerify(jwt, rootKey, { algorithms: ["ES256"], currentDate: AT })).rejects.toThrow();
  });

  it("a certificate an attacker made for their own key does not chain to the IACA", async () => {
    const x509 = await loadX509();
    const root = new x509.X509Certificate(pemToDer(DEV_IACA_CERT_PEM));
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    // Same subject and issuer names as ours, signed by the attacker's own key.
    const forged = await x509.X509CertificateGenerator.create({
      serialNumber: "01",
      subject: "C=FR, O=Antichambre, CN=Antichambre SD-JWT VC Signer (development)",
      issuer: root.subject,
      notBefore: new Date("2026-11-01T00:00:00Z"),
      notAfter: new Date("2027-11-01T00:00:00Z"),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    expect(await forged.verify({ publicKey: root.publicKey, date: AT })).toBe(false);
  });
});
