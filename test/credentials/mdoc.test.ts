import { DataItem, DateOnly, Holder, type VerificationAssessment } from "@owf/mdoc";
import { loadX509, owfContext, type X509 } from "../helpers/mdoc-verifier";

let x509: X509;
import { base64url, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../helpers/seeded-random";
import { DEV_IACA_CERT_PEM, DEV_MDOC_DS_CERT_PEM, DEV_MDOC_DS_KEY } from "../../src/config/dev-credentials";
import { decodeCbor, encodeCbor, encodedCbor, fullDate, isFullDate, Tag, tdate, type CborValue } from "../../src/credentials/mdoc/cbor";
import { coseKeyFromJwk, parseCoseSign1, sigStructure, signCoseSign1, verifyCoseSign1 } from "../../src/credentials/mdoc/cose-sign1";
import { encodeMdocCredential, issueMdl, MDL_DOCTYPE, MDL_NAMESPACE } from "../../src/credentials/mdoc/issue-mdl";
import { derToPem, pemToDer, pemToDerAll } from "../../src/credentials/mdoc/pem";
import type { LicenceHolder } from "../../src/register/licence-holder";

// ---------------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------------

/** A real 1×1 grey baseline JPEG (SOI, DQT, SOF0, two one-code DHTs, SOS, one block, EOI): 141 bytes. */
const PORTRAIT = b64(
  "/9j/2wBDAAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQH/wAALCAABAAEBAREA/8QAFAABAAAAAAAAAAAAAAAAAAAAAP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/2gAIAQEAAD8AP//Z",
);

const HOLDER: LicenceHolder = {
  person_id: "synthetic-person-0001",
  family_name: "MARTIN",
  given_name: "Camille",
  birth_date: "1990-05-15",
  issue_date: "2024-01-10",
  expiry_date: "2039-01-09",
  issuing_country: "FR",
  issuing_authority: "Préfecture de Test",
  document_number: "24AB12345",
  portrait: PORTRAIT,
  driving_privileges: [
    { vehicle_category_code: "B", issue_date: "2010-06-01", expiry_date: "2039-01-09" },
    { vehicle_category_code: "AM", issue_date: "2006-03-01", codes: [{ code: "78" }] },
  ],
  un_distinguishing_sign: "F",
};

const MANDATORY = [
  "family_name",
  "given_name",
  "birth_date",
  "issue_date",
  "expiry_date",
  "issuing_country",
  "issuing_authority",
  "document_number",
  "portrait",
  "driving_privileges",
  "un_distinguishing_sign",
];

const EC = { name: "ECDSA", namedCurve: "P-256" };
const ES256 = { name: "ECDSA", hash: "SHA-256" };

function b64(s: string): Uint8Array {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function bytes(hexString: string): Uint8Array {
  const clean = hexString.replace(/\s+/g, "");
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

/**
 * The inner bytes of a decoded `#6.24(bstr)`. cbor-x keeps tag decoders in global state and @owf/mdoc
 * (imported above) registers its own for tag 24, so in this file it arrives as @owf/mdoc's DataItem;
 * with cbor-x alone it is a Tag. Either way we get the exact bytes that were on the wire.
 */
function embedded(value: unknown): Uint8Array {
  if (value instanceof Tag && value.tag === 24 && value.value instanceof Uint8Array) return value.value;
  if (value instanceof DataItem) return value.buffer;
  throw new Error(`not a tag-24 data item: ${String(value)}`);
}

/** A decoded full-date, whichever global tag-1004 decoder is installed (see `embedded`). */
function fullDateText(value: unknown): string {
  if (value instanceof Tag && value.tag === 1004) return value.value as string;
  if (value instanceof DateOnly) return value.toISOString();
  throw new Error(`not a full-date: ${String(value)}`);
}

function asMap(value: unknown): Map<unknown, unknown> {
  expect(value).toBeInstanceOf(Map);
  return value as Map<unknown, unknown>;
}

/** The dev Document Signer, as the issuance handler would load it from MDOC_DS_KEY / MDOC_DS_CERT. */
async function devSigner(): Promise<{ key: CryptoKey; certificateDer: Uint8Array }> {
  const { kid: _kid, ...jwk } = JSON.parse(DEV_MDOC_DS_KEY) as JsonWebKey & { kid: string };
  const key = await crypto.subtle.importKey("jwk", jwk, EC, false, ["sign"]);
  return { key, certificateDer: pemToDer(DEV_MDOC_DS_CERT_PEM) };
}

async function deviceKeyPair(): Promise<{ jwk: JWK; privateKey: CryptoKey }> {
  const pair = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
  const { kty, crv, x, y } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  return { jwk: { kty, crv, x, y }, privateKey: pair.privateKey };
}

beforeAll(async () => {
  x509 = await loadX509();
});

// ---------------------------------------------------------------------------------------------------
// CBOR codec
// ---------------------------------------------------------------------------------------------------

describe("mdoc CBOR codec", () => {
  it("writes a Uint8Array as a plain byte string (major type 2), never tag 64", () => {
    expect(hex(encodeCbor(new Uint8Array([1, 2, 3])))).toBe("43010203");
    expect(hex(encodeCbor(new Uint8Array(0)))).toBe("40");
    const big = encodeCbor(new Uint8Array(24).fill(7));
    expect(hex(big.subarray(0, 3))).toBe("581807"); // 24 bytes: one-byte length follows 0x58
    expect(big.length).toBe(26);
    const huge = encodeCbor(new Uint8Array(300));
    expect(hex(huge.subarray(0, 3))).toBe("59012c");
  });

  it("writes a Map with integer keys as a CBOR map with integer keys, never tag 259", () => {
    expect(hex(encodeCbor(new Map([[1, -7]])))).toBe("a10126");
    expect(hex(encodeCbor(new Map<number, CborValue>([[33, new Uint8Array([0xaa])]])))).toBe("a1182141aa");
    expect(
      hex(
        encodeCbor(
          new Map([
            [-1, 1],
            [-2, 2],
            [-3, 3],
          ]),
        ),
      ),
    ).toBe("a3200121022203");
    expect(hex(encodeCbor(new Map([["a", 1]])))).toBe("a1616101");
  });

  it("sizes object maps to their entry count (preferred serialization), not map16", () => {
    expect(hex(encodeCbor({ a: 1 }))).toBe("a1616101");
    expect(hex(encodeCbor({}))).toBe("a0");
    const thirty = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    expect(hex(encodeCbor(thirty).subarray(0, 2))).toBe("b81e");
  });

  it("writes minimal integer and text heads", () => {
    expect(hex(encodeCbor([0, 23, 24, 255, 256, 65536, -1, -24, -25]))).toBe(
      "89" + "00" + "17" + "1818" + "18ff" + "190100" + "1a00010000" + "20" + "37" + "3818",
    );
    expect(hex(encodeCbor("é"))).toBe("62c3a9");
    expect(hex(encodeCbor("x".repeat(24)).subarray(0, 2))).toBe("7818");
    expect(hex(encodeCbor([true, false, null]))).toBe("83f5f4f6");
  });

  it("wraps an embedded data item as #6.24(bstr .cbor X)", () => {
    const item = encodedCbor({ a: 1 });
    expect(item.tag).toBe(24);
    expect(hex(encodeCbor(item))).toBe("d81844a1616101");
    const decoded = decodeCbor(encodeCbor(item));
    expect(asMap(decodeCbor(embedded(decoded))).get("a")).toBe(1);
  });

  it("writes tdate as #6.0 with whole seconds and a Z", () => {
    const t = tdate(new Date("2026-03-01T12:34:56.789Z"));
    expect(t.value).toBe("2026-03-01T12:34:56Z");
    expect(hex(encodeCbor(t))).toBe("c074" + hex(utf8("2026-03-01T12:34:56Z")));
    expect(() => tdate(new Date(Number.NaN))).toThrow(RangeError);
  });

  it("writes full-date as #6.1004 and only for real calendar days", () => {
    expect(hex(encodeCbor(fullDate("2000-02-29")))).toBe("d903ec6a" + hex(utf8("2000-02-29")));
    expect(isFullDate("0099-12-31")).toBe(true);
    for (const bad of ["2001-02-29", "2000-2-1", "2000-13-01", "20000-01-01", "2000-01-01T00:00:00Z", ""]) {
      expect(() => fullDate(bad), bad).toThrow(RangeError);
    }
  });

  it("refuses values cbor-x would silently mangle: Date, undefined, class instances, NaN", () => {
    expect(() => encodeCbor({ when: new Date() } as never)).toThrow(/Date/);
    expect(() => encodeCbor({ a: undefined } as never)).toThrow(/undefined/);
    expect(() => encodeCbor([new Set([1])] as never)).toThrow(/Set/);
    expect(() => encodeCbor(new Uint16Array(2) as never)).toThrow(/Uint16Array/);
    expect(() => encodeCbor(Number.NaN)).toThrow(/non-finite/);
  });

  it("decodes every map as a Map, so integer keys stay integers", () => {
    const decoded = asMap(decodeCbor(bytes("a2 01 26 61 61 41 ff")));
    expect([...decoded.keys()]).toEqual([1, "a"]);
    expect(decoded.get(1)).toBe(-7);
    expect(decoded.get("a")).toEqual(new Uint8Array([0xff]));
  });

  it("returns an independent copy, not a view into cbor-x's shared buffer", () => {
    const a = encodeCbor(new Uint8Array([1, 2, 3]));
    encodeCbor(new Uint8Array(100).fill(9));
    expect(hex(a)).toBe("43010203");
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.length);
  });
});

// ---------------------------------------------------------------------------------------------------
// PEM
// ---------------------------------------------------------------------------------------------------

describe("PEM helpers", () => {
  it("round-trips DER, with 64-character lines", () => {
    const der = pemToDer(DEV_MDOC_DS_CERT_PEM);
    expect(der[0]).toBe(0x30); // DER SEQUENCE
    const pem = derToPem(der);
    expect(
      pem
        .split("\n")
        .slice(1, -3)
        .every((l) => l.length === 64),
    ).toBe(true);
    expect(pemToDer(pem)).toEqual(der);
  });

  it("reads every block of a chain and refuses a file without one", () => {
    expect(pemToDerAll(DEV_MDOC_DS_CERT_PEM + DEV_IACA_CERT_PEM)).toHaveLength(2);
    expect(() => pemToDer("no pem here")).toThrow(/no CERTIFICATE/);
    expect(() => pemToDer("-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----")).toThrow(/base64/);
  });
});

// ---------------------------------------------------------------------------------------------------
// COSE_Sign1 and COSE_Key
// ---------------------------------------------------------------------------------------------------

describe("COSE_Sign1 (ES256)", () => {
  let pair: CryptoKeyPair;
  const payload = utf8("payload bytes");
  const certA = new Uint8Array([0x30, 1, 2, 3]);
  const certB = new Uint8Array([0x30, 4, 5, 6]);

  beforeAll(async () => {
    pair = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
  });

  it("has the ISO 18013-5 structure: [bstr {1:-7}, {33: cert}, payload, 64-byte r||s]", async () => {
    const sign1 = await signCoseSign1(payload, { key: pair.privateKey, x5chain: [certA] });
    const encoded = encodeCbor(sign1);
    // 0x84: array(4); 0x43 a10126: bstr(3) holding {1: -7}; 0xa1 1821 44...: {33: bstr(4)}.
    expect(hex(encoded.subarray(0, 12))).toBe("8443a10126a1182144" + "300102");
    const decoded = decodeCbor(encoded) as unknown[];
    expect(decoded).toHaveLength(4);
    expect(hex(decoded[0] as Uint8Array)).toBe("a10126");
    expect(asMap(decoded[1]).get(33)).toEqual(certA);
    expect(decoded[2]).toEqual(payload);
    expect((decoded[3] as Uint8Array).length).toBe(64);
  });

  it("signs exactly Sig_structure [\"Signature1\", protected, h'', payload]", async () => {
    const sign1 = await signCoseSign1(payload, { key: pair.privateKey, x5chain: [certA] });
    const expected = concat(bytes("84 6a"), utf8("Signature1"), bytes("43 a10126 40 4d"), payload);
    expect(hex(sigStructure(sign1[0], payload))).toBe(hex(expected));
    // Checked with WebCrypto directly, independently of verifyCoseSign1.
    expect(await crypto.subtle.verify(ES256, pair.publicKey, sign1[3], expected)).toBe(true);
  });

  it("verifies, and reports tampering, a wrong key and a foreign algorithm", async () => {
    const sign1 = await signCoseSign1(payload, { key: pair.privateKey, x5chain: [certA, certB] });
    expect(await verifyCoseSign1(encodeCbor(sign1), pair.publicKey)).toEqual({ ok: true, payload, x5chain: [certA, certB] });

    const tampered = [sign1[0], sign1[1], utf8("payload bytez"), sign1[3]] as const;
    expect(await verifyCoseSign1(tampered, pair.publicKey)).toEqual({ ok: false, reason: "bad_signature" });

    const other = (await crypto.subtle.generateKey(EC, false, ["sign", "verify"])) as CryptoKeyPair;
    expect(await verifyCoseSign1(sign1, other.publicKey)).toEqual({ ok: false, reason: "bad_signature" });

    const es384 = [encodeCbor(new Map([[1, -35]])), sign1[1], sign1[2], sign1[3]] as const;
    expect(await verifyCoseSign1(es384, pair.publicKey)).toEqual({ ok: false, reason: "unsupported_algorithm" });
    expect(await verifyCoseSign1(encodeCbor([1, 2, 3]), pair.publicKey)).toEqual({ ok: false, reason: "malformed" });
    expect(await verifyCoseSign1(new Uint8Array([0xff]), pair.publicKey)).toEqual({ ok: false, reason: "malformed" });
  });

  it("writes x5chain as one bstr for one certificate and an array for a chain", async () => {
    const one = await signCoseSign1(payload, { key: pair.privateKey, x5chain: [certA] });
    expect(one[1].get(33)).toEqual(certA);
    const two = await signCoseSign1(payload, { key: pair.privateKey, x5chain: [certA, certB] });
    expect(two[1].get(33)).toEqual([certA, certB]);
    expect(parseCoseSign1(encodeCbor(two))?.[1].get(33)).toEqual([certA, certB]);
    await expect(signCoseSign1(payload, { key: pair.privateKey, x5chain: [] })).rejects.toThrow(/x5chain/);
  });

  it("refuses a key that is not an ES256 signing key", async () => {
    const hmac = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    await expect(signCoseSign1(payload, { key: hmac as CryptoKey, x5chain: [certA] })).rejects.toThrow(/P-256/);
    await expect(signCoseSign1(payload, { key: pair.publicKey, x5chain: [certA] })).rejects.toThrow(/private/);
  });
});

describe("COSE_Key from a P-256 JWK", () => {
  it("is {1: 2, -1: 1, -2: x, -3: y} with integer labels, and never copies d", async () => {
    const pair = (await crypto.subtle.generateKey(EC, true, ["sign", "verify"])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JWK;
    const key = coseKeyFromJwk(jwk);
    const x = base64url.decode(jwk.x!);
    const y = base64url.decode(jwk.y!);
    expect(hex(encodeCbor(key))).toBe("a4" + "0102" + "2001" + "215820" + hex(x) + "225820" + hex(y));
    expect([...key.keys()]).toEqual([1, -1, -2, -3]);
  });

  it("refuses other curves and malformed coordinates", () => {
    expect(() => coseKeyFromJwk({ kty: "EC", crv: "P-384", x: "AA", y: "AA" })).toThrow(/P-256/);
    expect(() => coseKeyFromJwk({ kty: "OKP", crv: "Ed25519", x: "AA" })).toThrow(/P-256/);
    expect(() => coseKeyFromJwk({ kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" })).toThrow(/32 bytes/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Development certificates
// ---------------------------------------------------------------------------------------------------

describe("development IACA and Document Signer certificates", () => {
  it("IACA: self-signed CA, pathLen 0, keyCertSign+cRLSign critical, C=FR, P-256", async () => {
    const iaca = new x509.X509Certificate(pemToDer(DEV_IACA_CERT_PEM));
    expect(iaca.subjectName.getField("C")).toEqual(["FR"]);
    expect(iaca.subject).toBe(iaca.issuer);
    expect(await iaca.isSelfSigned()).toBe(true);
    const bc = iaca.getExtension(x509.BasicConstraintsExtension)!;
    expect([bc.ca, bc.pathLength, bc.critical]).toEqual([true, 0, true]);
    const ku = iaca.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(iaca.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();
    expect((iaca.publicKey.algorithm as { namedCurve?: string }).namedCurve).toBe("P-256");
    const years = (iaca.notAfter.getTime() - iaca.notBefore.getTime()) / (365 * 86_400_000);
    expect(years).toBeGreaterThan(8.9);
    expect(years).toBeLessThan(20); // ISO 18013-5 Annex B maximum
  });

  it("Document Signer: C=FR, digitalSignature and EKU 1.0.18013.5.1.2 critical, signed by the IACA", async () => {
    const iaca = new x509.X509Certificate(pemToDer(DEV_IACA_CERT_PEM));
    const ds = new x509.X509Certificate(pemToDer(DEV_MDOC_DS_CERT_PEM));
    expect(ds.subjectName.getField("C")).toEqual(["FR"]);
    expect(ds.issuer).toBe(iaca.subject);
    expect(await ds.verify({ publicKey: iaca.publicKey, signatureOnly: true })).toBe(true);
    expect(await ds.verify({ publicKey: ds.publicKey, signatureOnly: true })).toBe(false);

    const eku = ds.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect(eku.critical).toBe(true);
    expect(eku.usages).toEqual(["1.0.18013.5.1.2"]);
    const ku = ds.getExtension(x509.KeyUsagesExtension)!;
    expect([ku.usages, ku.critical]).toEqual([x509.KeyUsageFlags.digitalSignature, true]);
    expect(ds.getExtension(x509.BasicConstraintsExtension)?.ca ?? false).toBe(false);

    // Authority key identifier = the IACA's subject key identifier; the DS has its own SKI.
    const aki = ds.getExtension(x509.AuthorityKeyIdentifierExtension)!;
    expect(aki.keyId).toBe(iaca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId);
    expect(ds.getExtension(x509.SubjectKeyIdentifierExtension)).not.toBeNull();

    const days = (ds.notAfter.getTime() - ds.notBefore.getTime()) / 86_400_000;
    expect(days).toBeGreaterThan(360);
    expect(days).toBeLessThanOrEqual(457); // ISO 18013-5 Annex B maximum
    expect(ds.notAfter.getTime()).toBeLessThanOrEqual(iaca.notAfter.getTime());
  });

  it("DEV_MDOC_DS_KEY is the private half of the Document Signer certificate's key", async () => {
    const ds = new x509.X509Certificate(pemToDer(DEV_MDOC_DS_CERT_PEM));
    const jwk = JSON.parse(DEV_MDOC_DS_KEY) as JWK;
    expect(jwk.kid).toMatch(/^mdoc-ds-/);
    const certJwk = (await crypto.subtle.exportKey("jwk", await ds.publicKey.export(EC, ["verify"]))) as JWK;
    expect([jwk.x, jwk.y]).toEqual([certJwk.x, certJwk.y]);
    expect(typeof jwk.d).toBe("string");
  });
});

// ---------------------------------------------------------------------------------------------------
// Issued mDL, checked structurally
// ---------------------------------------------------------------------------------------------------

describe("issueMdl", () => {
  let device: { jwk: JWK; privateKey: CryptoKey };
  let signer: { key: CryptoKey; certificateDer: Uint8Array };
  let now: Date;
  let validUntil: Date;
  let issued: Uint8Array;

  beforeAll(async () => {
    device = await deviceKeyPair();
    signer = await devSigner();
    // Inside the dev Document Signer's validity whatever today's date is, so the test never expires.
    const ds = new x509.X509Certificate(signer.certificateDer);
    now = new Date(ds.notBefore.getTime() + 86_400_000 + 123); // the 123 ms must be dropped
    validUntil = new Date(now.getTime() + 30 * 86_400_000);
    issued = await issueMdl(HOLDER, device.jwk, signer, { now, validUntil, random: seededRandom(42) });
  });

  function parts() {
    const top = asMap(decodeCbor(issued));
    const items = asMap(top.get("nameSpaces")).get(MDL_NAMESPACE) as unknown[];
    const issuerAuth = top.get("issuerAuth") as unknown[];
    const msoBytes = embedded(decodeCbor(issuerAuth[2] as Uint8Array));
    return { top, items, issuerAuth, msoBytes, mso: asMap(decodeCbor(msoBytes)) };
  }

  function itemsById(items: unknown[]) {
    return items.map((raw) => {
      const inner = embedded(raw);
      const item = asMap(decodeCbor(inner));
      return { inner, item, id: item.get("elementIdentifier") as string };
    });
  }

  it("is IssuerSigned {nameSpaces, issuerAuth} with only the mDL namespace", () => {
    const { top } = parts();
    expect([...top.keys()]).toEqual(["nameSpaces", "issuerAuth"]);
    expect([...asMap(top.get("nameSpaces")).keys()]).toEqual([MDL_NAMESPACE]);
    // a2 6a "nameSpaces" a1 71 "org.iso.18013.5.1": plain maps, no tag 259 in front.
    expect(hex(issued.subarray(0, 2))).toBe("a26a");
  });

  it("holds every mandatory element, each an IssuerSignedItem with ≥16 random bytes", () => {
    const entries = itemsById(parts().items);
    expect(entries.map((e) => e.id).sort()).toEqual([...MANDATORY].sort());
    for (const { item } of entries) {
      expect([...item.keys()]).toEqual(["digestID", "random", "elementIdentifier", "elementValue"]);
      expect((item.get("random") as Uint8Array).length).toBeGreaterThanOrEqual(16);
      expect(Number.isInteger(item.get("digestID"))).toBe(true);
    }
    const randoms = new Set(entries.map((e) => hex(e.item.get("random") as Uint8Array)));
    expect(randoms.size).toBe(entries.length);
  });

  it("carries the holder's values, dates as full-date (tag 1004), portrait as JPEG bytes", () => {
    const byId = new Map(itemsById(parts().items).map((e) => [e.id, e]));
    const value = (id: string) => byId.get(id)!.item.get("elementValue");
    expect(value("family_name")).toBe("MARTIN");
    expect(value("given_name")).toBe("Camille");
    expect(value("issuing_country")).toBe("FR");
    expect(value("issuing_authority")).toBe("Préfecture de Test");
    expect(value("document_number")).toBe("24AB12345");
    expect(value("un_distinguishing_sign")).toBe("F");
    expect(value("portrait")).toEqual(PORTRAIT);
    for (const id of ["birth_date", "issue_date", "expiry_date"] as const) {
      expect(fullDateText(value(id))).toBe(HOLDER[id]);
      // The exact bytes: d9 03ec 6a "YYYY-MM-DD".
      expect(indexOf(byId.get(id)!.inner, encodeCbor(fullDate(HOLDER[id])))).toBeGreaterThan(0);
    }

    const privileges = value("driving_privileges") as Map<string, unknown>[];
    expect(privileges).toHaveLength(2);
    const [b, am] = privileges.map(asMap);
    expect(b!.get("vehicle_category_code")).toBe("B");
    expect(fullDateText(b!.get("issue_date"))).toBe("2010-06-01");
    expect(fullDateText(b!.get("expiry_date"))).toBe("2039-01-09");
    expect(b!.has("codes")).toBe(false);
    expect([...am!.keys()]).toEqual(["vehicle_category_code", "issue_date", "codes"]);
    expect((am!.get("codes") as unknown[]).map((c) => Object.fromEntries(asMap(c)))).toEqual([{ code: "78" }]);
  });

  it("never puts the register's person_id in the credential", () => {
    expect(indexOf(issued, utf8(HOLDER.person_id))).toBe(-1);
  });

  it("assigns digest IDs as a shuffled permutation, not in element order", async () => {
    const ids = itemsById(parts().items).map((e) => e.item.get("digestID") as number);
    expect([...ids].sort((a, b) => a - b)).toEqual(MANDATORY.map((_, i) => i));
    expect(ids).not.toEqual(MANDATORY.map((_, i) => i));
    // Another random source, another order.
    const other = await issueMdl(HOLDER, device.jwk, signer, { now, validUntil, random: seededRandom(7) });
    const otherItems = asMap(asMap(decodeCbor(other)).get("nameSpaces")).get(MDL_NAMESPACE) as unknown[];
    expect(itemsById(otherItems).map((e) => e.item.get("digestID"))).not.toEqual(ids);
  });

  it("MSO: version, digestAlgorithm, docType, and each digest = SHA-256 of the exact tag-24 item bytes", async () => {
    const { items, mso } = parts();
    expect([...mso.keys()]).toEqual(["version", "digestAlgorithm", "valueDigests", "deviceKeyInfo", "docType", "validityInfo"]);
    expect(mso.get("version")).toBe("1.0");
    expect(mso.get("digestAlgorithm")).toBe("SHA-256");
    expect(mso.get("docType")).toBe(MDL_DOCTYPE);
    const digests = asMap(asMap(mso.get("valueDigests")).get(MDL_NAMESPACE));
    expect(digests.size).toBe(MANDATORY.length);
    for (const { inner, item } of itemsById(items)) {
      // #6.24(bstr): d8 18, then the byte string head and the item; these very bytes are in IssuerSigned.
      const wrapped = encodeCbor(new Tag(inner, 24));
      expect(hex(wrapped.subarray(0, 2))).toBe("d818");
      expect(indexOf(issued, wrapped)).toBeGreaterThan(0);
      expect(hex(digests.get(item.get("digestID")) as Uint8Array)).toBe(hex(await sha256(wrapped)));
    }
  });

  it("MSO: deviceKey is the COSE_Key of the wallet's JWK", () => {
    const deviceKey = asMap(asMap(parts().mso.get("deviceKeyInfo")).get("deviceKey"));
    expect([...deviceKey.keys()]).toEqual([1, -1, -2, -3]);
    expect(deviceKey.get(1)).toBe(2);
    expect(deviceKey.get(-1)).toBe(1);
    expect(base64url.encode(deviceKey.get(-2) as Uint8Array)).toBe(device.jwk.x);
    expect(base64url.encode(deviceKey.get(-3) as Uint8Array)).toBe(device.jwk.y);
  });

  it("MSO: validityInfo signed/validFrom/validUntil are tdates (tag 0, whole seconds)", () => {
    const { mso, msoBytes } = parts();
    const validity = asMap(mso.get("validityInfo"));
    expect([...validity.keys()]).toEqual(["signed", "validFrom", "validUntil"]);
    const whole = new Date(Math.floor(now.getTime() / 1000) * 1000);
    expect(validity.get("signed")).toEqual(whole);
    expect(validity.get("validFrom")).toEqual(whole);
    expect(validity.get("validUntil")).toEqual(new Date(Math.floor(validUntil.getTime() / 1000) * 1000));
    // The exact bytes: "signed" c0 74 "YYYY-MM-DDThh:mm:ssZ".
    const signed = concat(encodeCbor("signed"), encodeCbor(tdate(now)));
    expect(indexOf(msoBytes, signed)).toBeGreaterThan(0);
    expect(hex(encodeCbor(tdate(now)).subarray(0, 2))).toBe("c074");
  });

  it("issuerAuth: alg ES256 protected, x5chain = the DS certificate alone, signature verifies", async () => {
    const { issuerAuth } = parts();
    expect(hex(issuerAuth[0] as Uint8Array)).toBe("a10126");
    const unprotected = asMap(issuerAuth[1]);
    expect([...unprotected.keys()]).toEqual([33]);
    expect(unprotected.get(33)).toEqual(signer.certificateDer); // a single bstr; the IACA is not included
    const ds = new x509.X509Certificate(signer.certificateDer);
    const dsKey = await ds.publicKey.export(EC, ["verify"]);
    const result = await verifyCoseSign1(issuerAuth, dsKey);
    expect(result.ok).toBe(true);
    // The payload is bstr(#6.24(bstr .cbor MSO)).
    expect(hex((issuerAuth[2] as Uint8Array).subarray(0, 2))).toBe("d818");
  });

  it("is reproducible for a given clock and randomness", async () => {
    const again = await issueMdl(HOLDER, device.jwk, signer, { now, validUntil, random: seededRandom(42) });
    // ECDSA signatures are randomized; everything before the signature must be identical.
    expect(hex(again.subarray(0, again.length - 64))).toBe(hex(issued.subarray(0, issued.length - 64)));
  });

  it("encodes the OpenID4VCI credential as unpadded base64url of IssuerSigned", () => {
    const credential = encodeMdocCredential(issued);
    expect(credential).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(hex(base64url.decode(credential))).toBe(hex(issued));
  });

  it("refuses rows and options that would make an invalid mDL", async () => {
    const options = { now, validUntil, random: seededRandom(1) };
    const bad = async (holder: Partial<LicenceHolder>, opts: Partial<typeof options> = {}) =>
      issueMdl({ ...HOLDER, ...holder }, device.jwk, signer, { ...options, ...opts });
    await expect(bad({ birth_date: "1990-02-30" })).rejects.toThrow(/full-date/);
    await expect(bad({ portrait: utf8("PNG?") })).rejects.toThrow(/JPEG/);
    await expect(bad({ issuing_country: "France" })).rejects.toThrow(/alpha-2/);
    await expect(bad({ driving_privileges: [] })).rejects.toThrow(/privilege/);
    await expect(bad({ family_name: "" })).rejects.toThrow(/family_name/);
    await expect(bad({ driving_privileges: [{ vehicle_category_code: "B", expiry_date: "tomorrow" }] })).rejects.toThrow(/full-date/);
    await expect(bad({}, { validUntil: now })).rejects.toThrow(/validUntil/);
    await expect(bad({}, { random: () => new Uint8Array(3) })).rejects.toThrow(/random/);
    await expect(bad({}, { random: (n) => new Uint8Array(n).fill(0xff) })).rejects.toThrow(/not random/);
    await expect(issueMdl(HOLDER, { kty: "EC", crv: "P-384", x: "AA", y: "AA" }, signer, options)).rejects.toThrow(/P-256/);
  });
});

// ---------------------------------------------------------------------------------------------------
// Independent verification with @owf/mdoc (OpenWallet Foundation's mdoc-ts), inside workerd
// ---------------------------------------------------------------------------------------------------

describe("@owf/mdoc verifies the issued mDL (independent implementation)", () => {
  let credential: string;
  let issued: Uint8Array;
  let now: Date;
  const iacaDer = () => pemToDer(DEV_IACA_CERT_PEM);

  beforeAll(async () => {
    const signer = await devSigner();
    const ds = new x509.X509Certificate(signer.certificateDer);
    now = new Date(ds.notBefore.getTime() + 2 * 86_400_000);
    const device = await deviceKeyPair();
    issued = await issueMdl(HOLDER, device.jwk, signer, {
      now,
      validUntil: new Date(now.getTime() + 30 * 86_400_000),
      random: (n) => crypto.getRandomValues(new Uint8Array(n)),
    });
    credential = encodeMdocCredential(issued);
  });

  async function verify(issuerSigned: string | Uint8Array, trusted: Uint8Array[], at = new Date(now.getTime() + 3_600_000)) {
    const checks: VerificationAssessment[] = [];
    await Holder.verifyIssuerSigned(
      { issuerSigned, trustedCertificates: trusted, now: at, verificationCallback: (c) => checks.push(c) },
      owfContext(),
    );
    return checks;
  }

  it("passes every check against the dev IACA: chain, signature, validity, all 11 digests, country", async () => {
    const checks = await verify(credential, [iacaDer()]);
    expect(checks.filter((c) => c.status !== "PASSED")).toEqual([]);
    const digestChecks = checks.filter((c) => /calculated digest for org\.iso\.18013\.5\.1\//.test(c.check));
    expect(digestChecks).toHaveLength(MANDATORY.length);
    for (const check of [
      "Issuer certificate must be valid",
      "Issuer auth signature is invalid", // (sic: the check's name; PASSED means the signature is valid)
      "The MSO signed date must be within the validity period of the certificate",
      "The MSO must be valid at the time of verification",
    ]) {
      expect(checks.find((c) => c.check === check)?.status, check).toBe("PASSED");
    }
    expect(checks.find((c) => c.check.startsWith("The 'issuing_country'"))?.status).toBe("PASSED");
  });

  it("also passes with its default callback (which throws on the first failure)", async () => {
    await expect(
      Holder.verifyIssuerSigned(
        { issuerSigned: issued, trustedCertificates: [iacaDer()], now: new Date(now.getTime() + 60_000) },
        owfContext(),
      ),
    ).resolves.toBeUndefined();
  });

  it("reads back the same claims", async () => {
    const { IssuerSigned } = await import("@owf/mdoc");
    const claims = IssuerSigned.fromEncodedForOid4Vci(credential).getPrettyClaims(MDL_NAMESPACE) as Record<string, unknown>;
    expect(Object.keys(claims).sort()).toEqual([...MANDATORY].sort());
    expect(claims.family_name).toBe("MARTIN");
    expect(String(claims.birth_date)).toBe("1990-05-15");
    expect(claims.portrait).toEqual(PORTRAIT);
  });

  it("fails when the trust anchor is not our IACA", async () => {
    const checks = await verify(credential, [pemToDer(DEV_MDOC_DS_CERT_PEM)]);
    expect(checks.find((c) => c.check === "Issuer certificate must be valid")?.status).toBe("FAILED");
  });

  it("fails a digest when an element's value is altered after signing", async () => {
    const tampered = issued.slice();
    const at = indexOf(tampered, utf8("MARTIN"));
    expect(at).toBeGreaterThan(0);
    tampered[at + 5] = "M".charCodeAt(0); // MARTIN -> MARTIM, same length
    const checks = await verify(tampered, [iacaDer()]);
    const failed = checks.filter((c) => c.status === "FAILED").map((c) => c.check);
    expect(failed).toEqual([expect.stringContaining("org.iso.18013.5.1/family_name")]);
  });

  it("fails once the MSO has expired", async () => {
    const checks = await verify(credential, [iacaDer()], new Date(now.getTime() + 31 * 86_400_000));
    expect(checks.find((c) => c.check === "The MSO must be valid at the time of verification")?.status).toBe("FAILED");
  });
});
