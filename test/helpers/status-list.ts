import { getListFromStatusListJWT as sdJwtList } from "@sd-jwt/jwt-status-list";
import { decodeProtectedHeader, jwtVerify } from "jose";
import { expect } from "vitest";
import { DEV_IACA_CERT_PEM } from "../../src/config/dev-credentials";
import { decodeCbor } from "../../src/credentials/mdoc/cbor";
import { verifyCoseSign1 } from "../../src/credentials/mdoc/cose-sign1";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { statusAt } from "../../src/status/status-bits";
import { call, testClock } from "./api";
import { loadX509 } from "./mdoc-verifier";

/**
 * A relying party's side of Token Status Lists, with independent libraries where they exist:
 * @sd-jwt/jwt-status-list and @owf/token-status-list read the lists; signatures are checked against the
 * status list signer's certificate, itself checked against the IACA (as a verifier that trusts the IACA
 * would). For the CWT, @owf/token-status-list has no signature verification of its own and its alpha
 * cannot decode our (draft-conformant) CWT whole (see cwtStatusAt), so the COSE_Sign1 is decoded with
 * cbor-x and verified with the project's mdoc COSE helper, and the list is read by @owf and by us.
 */
const EC = { name: "ECDSA", namedCurve: "P-256" };

/**
 * Loaded only when a list is read: @owf/token-status-list brings @owf/cose, which registers its own CBOR
 * tag decoders in cbor-x's process-wide table and so breaks @owf/mdoc's decoding in the same isolate.
 */
const owfStatusList = () => import("@owf/token-status-list");

/** The public key of a status list signer certificate, after checking it chains to the dev IACA and is valid now. */
export async function signerKeyFromCertificate(der: Uint8Array): Promise<CryptoKey> {
  const x509 = await loadX509();
  const cert = new x509.X509Certificate(der);
  const iaca = new x509.X509Certificate(pemToDer(DEV_IACA_CERT_PEM));
  expect(await cert.verify({ publicKey: iaca.publicKey, date: new Date(testClock.now()) })).toBe(true);
  expect(cert.subject).toContain("Status List Signer");
  return cert.publicKey.export(EC, ["verify"]);
}

export async function fetchStatusList(uri: string, accept: string): Promise<Response> {
  return call(new URL(uri).pathname, { headers: { accept } });
}

/** The JWT at `uri`, signature and claims verified; the entry at `idx` as both libraries read it. */
export async function jwtStatusAt(uri: string, idx: number): Promise<number> {
  const res = await fetchStatusList(uri, "application/statuslist+jwt");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/statuslist+jwt");
  const jwt = await res.text();
  const x5c = decodeProtectedHeader(jwt).x5c!;
  expect(x5c).toHaveLength(1);
  const key = await signerKeyFromCertificate(Uint8Array.from(atob(x5c[0]!), (c) => c.charCodeAt(0)));
  const { payload, protectedHeader } = await jwtVerify(jwt, key, {
    algorithms: ["ES256"],
    typ: "statuslist+jwt",
    subject: uri,
    currentDate: new Date(testClock.now()),
  });
  expect(protectedHeader.typ).toBe("statuslist+jwt");
  expect(payload).toMatchObject({ ttl: expect.any(Number), iat: expect.any(Number), exp: expect.any(Number) });
  expect(res.headers.get("cache-control")).toBe(`public, max-age=${payload.ttl as number}`);
  const viaSdJwt = sdJwtList(jwt).getStatus(idx);
  const viaOwf = (await owfStatusList()).getListFromStatusListJWT(jwt).getStatus(idx);
  expect(viaOwf).toBe(viaSdJwt);
  return viaSdJwt;
}

/** The CWT at `uri`, COSE signature and claims verified; the entry at `idx` as @owf and our decoder read it. */
export async function cwtStatusAt(uri: string, idx: number): Promise<number> {
  const res = await fetchStatusList(uri, "application/statuslist+cwt");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/statuslist+cwt");
  const bytes = new Uint8Array(await res.arrayBuffer());
  // COSE_Sign1_Tagged: tag 18 is the single byte 0xD2. Read past it by hand: @owf/cose registers its own
  // decoder for tag 18 in cbor-x's process-wide table, so a decoder would hand back its class instead.
  expect(bytes[0]).toBe(0xd2);
  const decoded = decodeCbor(bytes.subarray(1)) as unknown[];
  const [protectedBytes, unprotected] = decoded as [Uint8Array, Map<number, unknown>];
  expect(decodeCbor(protectedBytes)).toEqual(
    new Map<number, unknown>([
      [1, -7],
      [16, "application/statuslist+cwt"],
    ]),
  );
  const key = await signerKeyFromCertificate(unprotected.get(33) as Uint8Array);
  const verified = await verifyCoseSign1(decoded, key);
  expect(verified.ok).toBe(true);
  const claims = decodeCbor((verified as { payload: Uint8Array }).payload) as Map<number, unknown>;
  expect(claims.get(2)).toBe(uri);
  const now = Math.floor(testClock.now() / 1000);
  expect((claims.get(6) as number) <= now && now < (claims.get(4) as number)).toBe(true);
  expect(claims.get(65534)).toEqual(expect.any(Number));
  const list = claims.get(65533) as Map<string, unknown>;
  expect(list.get("bits")).toBe(2);
  const inflated = new Uint8Array(
    await new Response(new Blob([list.get("lst") as Uint8Array]).stream().pipeThrough(new DecompressionStream("deflate"))).arrayBuffer(),
  );
  const ours = statusAt(inflated, idx);
  // @owf/token-status-list 0.3.0-alpha cannot decode a whole CWT whose status_list has no
  // aggregation_uri (its schema wants the optional key present), so it reads the `lst` itself.
  const { StatusList, StatusListCwt } = await owfStatusList();
  expect(() => StatusListCwt.fromToken(bytes)).toThrow(/aggregation_uri/);
  expect(StatusList.decompressStatusListFromBytes(list.get("lst") as Uint8Array, 2).getStatus(idx)).toBe(ours);
  return ours;
}
