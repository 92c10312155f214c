import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { abortAllDurableObjects, createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64url, decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { DEV_MDOC_DS_CERT_PEM, DEV_STATUS_LIST_CERT_PEM } from "../../src/config/dev-credentials";
import { decodeCbor, Tag } from "../../src/credentials/mdoc/cbor";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { certificateValidity } from "../../src/credentials/x509-validity";
import { createDevApp } from "../../src/dev/kit";
import { withDevSecrets } from "../../src/dev/secrets";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import { credentialsOfPerson, ledgerPseudonym, setListStatus, setPersonStatus } from "../../src/status/ledger";
import { clearStatusListMemory, statusListBackendReads } from "../../src/status/status-list-cache";
import { STATUS } from "../../src/status/status-values";
import { ORIGIN, call, checkAnswersAgainstOpenApiInThisFile, createRoom, expectProblem, join, testClock } from "../helpers/api";
import { loadX509 } from "../helpers/mdoc-verifier";
import { cwtStatusAt, fetchStatusList, jwtStatusAt, signerKeyFromCertificate } from "../helpers/status-list";
import { MDOC, SD_JWT, credential, walletKeys, issuanceSession } from "../helpers/wallet";
import { withAccessVia } from "../helpers/wallet-direct";

/**
 * Credential status, end to end: every credential carries a Token Status List entry that a relying
 * party can check with independent libraries; a change made through the store API (what the lifecycle
 * operations call) shows in the next token; the lists are served from the edge cache; and nothing is
 * signed under a certificate that is not valid now.
 */
const SEEDED = 60;
/** STATUS_LIST_TTL_SECONDS's default: a change reaches verifiers within one ttl. */
const TTL_MS = 300_000;
const testEnv = withDevSecrets(env as unknown as Env);

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
  await loadX509();
});

checkAnswersAgainstOpenApiInThisFile();

let holderSkip = 20;
/** A person whose licence is valid today, admitted, with an access token. */
async function session(): Promise<{ personId: string; device: Awaited<ReturnType<typeof join>>["device"]; accessToken: string }> {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  let personId = "";
  for (let n = ++holderSkip; n <= SEEDED; n++) {
    if (syntheticHolder(n).expiry_date > today) {
      personId = personIdFor(n);
      holderSkip = n;
      break;
    }
  }
  expect(personId).not.toBe("");
  const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
  return { personId, ...(await issuanceSession(room, personId)) };
}

/** A verifier's view of an SD-JWT VC: @sd-jwt/sd-jwt-vc, which checks `status` with @sd-jwt/jwt-status-list. */
async function sdJwtVerifier() {
  // SD-JWT VCs are signed by their own signer, named first in the JWT VC issuer metadata.
  const { jwks } = (await (await call("/.well-known/jwt-vc-issuer")).json()) as { jwks: { keys: JsonWebKey[] } };
  const issuerKey = await crypto.subtle.importKey("jwk", jwks.keys[0]!, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const verify = (key: CryptoKey) => async (data: string, sig: string) =>
    crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, base64url.decode(sig), new TextEncoder().encode(data));
  return new SDJwtVcInstance({
    hasher: async (data: string | ArrayBuffer) =>
      new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data)),
    verifier: verify(issuerKey),
    statusListFetcher: async (uri: string) => (await fetchStatusList(uri, "application/statuslist+jwt")).text(),
    // The list is signed by its own signer, whose certificate (x5c) chains to the IACA.
    statusVerifier: async (data: string, sig: string) => {
      const x5c = decodeProtectedHeader(`${data}.${sig}`).x5c!;
      const key = await signerKeyFromCertificate(Uint8Array.from(atob(x5c[0]!), (c) => c.charCodeAt(0)));
      return verify(key)(data, sig);
    },
    loadTypeMetadataFormat: false,
  });
}

/** After a status change: the next ttl window's token (this isolate's copy forgotten, the clock past ttl). */
function nextWindow(): void {
  testClock.advance(TTL_MS + 1_000);
  clearStatusListMemory();
}

/** The MSO's `status` of a base64url IssuerSigned. */
function msoStatus(credentialB64: string): { status_list: { idx: number; uri: string } } {
  const issuerSigned = decodeCbor(base64url.decode(credentialB64)) as Map<string, unknown>;
  const [, , payload] = issuerSigned.get("issuerAuth") as [Uint8Array, unknown, Uint8Array, Uint8Array];
  const wrapped = decodeCbor(payload);
  const inner = wrapped instanceof Tag ? wrapped.value : wrapped;
  const bytes = inner instanceof Uint8Array ? inner : (inner as { buffer: Uint8Array }).buffer;
  const mso = decodeCbor(bytes) as Map<string, unknown>;
  const status = mso.get("status") as Map<string, Map<string, unknown>>;
  const list = status.get("status_list")!;
  return { status_list: { idx: list.get("idx") as number, uri: list.get("uri") as string } };
}

describe("credential status", () => {
  it("SD-JWT VCs carry distinct entries that @sd-jwt/jwt-status-list and @owf/token-status-list verify; suspend, reinstate and revoke show in a fresh token", async () => {
    const s = await session();
    const keys = await walletKeys(3);
    const issued = await credential(s.device, s.accessToken, SD_JWT, keys);
    expect(issued.status).toBe(200);
    const sdJwts = issued.body.credentials.map((c: { credential: string }) => c.credential) as string[];
    const entries = sdJwts.map(
      (c) => (decodeJwt(c.split("~")[0]!) as { status: { status_list: { idx: number; uri: string } } }).status.status_list,
    );
    expect(new Set(entries.map((e) => e.idx)).size).toBe(3);
    for (const e of entries) expect(e.uri).toMatch(new RegExp(`^${ORIGIN}/status-lists/\\d+-\\d+$`));

    // Recorded in the ledger under the person's pseudonym, with the session it came from.
    const person = await ledgerPseudonym(testEnv, s.personId);
    const ledger = await credentialsOfPerson(testEnv, person);
    expect(ledger.map((l) => [l.idx, l.format, l.configuration, l.status])).toEqual(entries.map((e) => [e.idx, "dc+sd-jwt", SD_JWT, 0]));
    expect(ledger.every((l) => l.issuedAt === testClock.now() && /^t.+\//.test(l.sessionId))).toBe(true);

    const verifier = await sdJwtVerifier();
    const at = () => ({ currentDate: Math.floor(testClock.now() / 1000) });
    for (const c of sdJwts) await verifier.verify(c, at());
    for (const e of entries) expect([await jwtStatusAt(e.uri, e.idx), await cwtStatusAt(e.uri, e.idx)]).toEqual([0, 0]);

    const [first, , third] = entries.map((e) => ({ list: e.uri.split("/").pop()!, idx: e.idx }));
    await setListStatus(testEnv, [first!], STATUS.suspended, testClock.now());
    await setListStatus(testEnv, [third!], STATUS.invalid, testClock.now());
    nextWindow();
    expect(await Promise.all(entries.map((e) => jwtStatusAt(e.uri, e.idx)))).toEqual([2, 0, 1]);
    expect(await Promise.all(entries.map((e) => cwtStatusAt(e.uri, e.idx)))).toEqual([2, 0, 1]);
    await expect(verifier.verify(sdJwts[0]!, at())).rejects.toThrow(/Status is not valid/);
    await verifier.verify(sdJwts[1]!, at());
    await expect(verifier.verify(sdJwts[2]!, at())).rejects.toThrow(/Status is not valid/);

    // Reinstated, then the whole person revoked: every credential, the revoked one staying revoked.
    await setListStatus(testEnv, [first!], STATUS.valid, testClock.now());
    nextWindow();
    await verifier.verify(sdJwts[0]!, at());
    const revoked = await setPersonStatus(testEnv, person, STATUS.invalid, testClock.now());
    expect(revoked.changed).toHaveLength(2);
    expect(revoked.unchanged).toEqual([third]);
    nextWindow();
    expect(await Promise.all(entries.map((e) => jwtStatusAt(e.uri, e.idx)))).toEqual([1, 1, 1]);
  });

  it("an mDL's MSO carries the same status_list entry in CBOR, read from the CWT and the JWT alike", async () => {
    const s = await session();
    const [key] = await walletKeys(1);
    const issued = await credential(s.device, s.accessToken, MDOC, [key!]);
    expect(issued.status).toBe(200);
    const { status_list: entry } = msoStatus(issued.body.credentials[0].credential as string);
    expect(entry.uri).toMatch(new RegExp(`^${ORIGIN}/status-lists/\\d+-\\d+$`));
    const ledger = await credentialsOfPerson(testEnv, await ledgerPseudonym(testEnv, s.personId));
    expect(ledger.map((l) => [l.list, l.idx, l.format])).toEqual([[entry.uri.split("/").pop(), entry.idx, "mso_mdoc"]]);
    expect(await cwtStatusAt(entry.uri, entry.idx)).toBe(0);

    await setListStatus(testEnv, [{ list: ledger[0]!.list, idx: entry.idx }], STATUS.invalid, testClock.now());
    nextWindow();
    expect(await cwtStatusAt(entry.uri, entry.idx)).toBe(1);
    expect(await jwtStatusAt(entry.uri, entry.idx)).toBe(1);
  });
});

describe("a restart", () => {
  it("keeps what was issued, its statuses and the lists' counters: after every object restarts, the lists read the same and new entries are new", async () => {
    const s = await session();
    const keys = await walletKeys(2);
    const issued = await credential(s.device, s.accessToken, SD_JWT, keys);
    expect(issued.status).toBe(200);
    const entries = (issued.body.credentials as { credential: string }[]).map(
      (c) => (decodeJwt(c.credential.split("~")[0]!) as { status: { status_list: { idx: number; uri: string } } }).status.status_list,
    );
    await setListStatus(testEnv, [{ list: entries[0]!.uri.split("/").pop()!, idx: entries[0]!.idx }], STATUS.suspended, testClock.now());
    const person = await ledgerPseudonym(testEnv, s.personId);
    const before = await credentialsOfPerson(testEnv, person);

    await abortAllDurableObjects();
    nextWindow();

    expect(await credentialsOfPerson(testEnv, person)).toEqual(before);
    expect(await Promise.all(entries.map((e) => jwtStatusAt(e.uri, e.idx)))).toEqual([2, 0]);
    // The same session goes on after the restart; its new credentials take entries never used before.
    const more = await credential(s.device, s.accessToken, MDOC, keys);
    expect(more.status).toBe(200);
    const after = await credentialsOfPerson(testEnv, person);
    expect(after).toHaveLength(4);
    expect(new Set(after.map((e) => `${e.list}/${e.idx}`)).size).toBe(4);
  });
});

describe("serving the lists", () => {
  it("answers 1,000 fetches of a list with about one backend read per ttl window", async () => {
    const uri = `${ORIGIN}/status-lists/7-0`;
    nextWindow();
    const before = statusListBackendReads();
    const bodies = new Set<string>();
    // Straight into the app: through the test pool's fetch, each of 1,000 requests costs more than the
    // last (measured: the same for /iaca.pem), and the route's answers are checked against the OpenAPI
    // document by the other tests of this file.
    const app = createDevApp();
    const fetchDirect = async () =>
      app.fetch(new Request(uri, { headers: { accept: "application/statuslist+jwt" } }), env, createExecutionContext());
    for (let batch = 0; batch < 20; batch++) {
      const answers = await Promise.all(Array.from({ length: 50 }, fetchDirect));
      for (const a of answers) {
        expect(a.status).toBe(200);
        bodies.add(await a.text());
      }
    }
    const reads = statusListBackendReads() - before;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads).toBeLessThanOrEqual(2);
    expect(bodies.size).toBe(reads);
    // The next window reads again, once.
    testClock.advance(TTL_MS + 1_000);
    for (let i = 0; i < 10; i++) expect((await fetchDirect()).status).toBe(200);
    expect(statusListBackendReads() - before - reads).toBe(1);
  });

  it("serves the edge-cached copy when this isolate's memory is empty (another isolate of the location)", async () => {
    const uri = `${ORIGIN}/status-lists/8-0`;
    nextWindow();
    const first = await (await fetchStatusList(uri, "application/statuslist+cwt")).arrayBuffer();
    const before = statusListBackendReads();
    clearStatusListMemory();
    const again = await fetchStatusList(uri, "application/statuslist+cwt");
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(new Uint8Array(first));
    expect(statusListBackendReads()).toBe(before);
  });

  it("negotiates the format, refuses what it cannot serve, and answers unknown lists 404 without a read per fetch", async () => {
    const uri = `${ORIGIN}/status-lists/9-0`;
    expect(
      (await fetchStatusList(uri, "application/statuslist+cwt;q=0.9, application/statuslist+jwt;q=0.5")).headers.get("content-type"),
    ).toBe("application/statuslist+cwt");
    expect((await fetchStatusList(uri, "*/*")).headers.get("content-type")).toBe("application/statuslist+jwt");
    expect((await call("/status-lists/9-0")).headers.get("content-type")).toBe("application/statuslist+jwt");
    await expectProblem(await fetchStatusList(uri, "text/html"), 406, "not-acceptable");
    for (const path of ["/status-lists/99-0", "/status-lists/abc", "/status-lists/03-0", "/status-lists/1-2-3"]) {
      await expectProblem(await call(path), 404, "not-found");
    }
    // A name the issuer could have made but has not (yet): one read, then the 404 is cached.
    const before = statusListBackendReads();
    for (let i = 0; i < 5; i++) await expectProblem(await call("/status-lists/4-40"), 404, "not-found");
    expect(statusListBackendReads() - before).toBe(1);
    // Invented names past the last generation an object can have: refused without any read.
    const invented = statusListBackendReads();
    for (let g = 100; g < 120; g++) await expectProblem(await call(`/status-lists/4-${g}`), 404, "not-found");
    expect(statusListBackendReads() - invented).toBe(0);
  });
});

describe("signing hygiene", () => {
  /** A self-signed certificate valid from `from` to `to` (the check happens before any chain matters). */
  async function certificateValid(from: number, to: number): Promise<string> {
    const x509 = await loadX509();
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "C=FR, CN=Expired signer",
      notBefore: new Date(from),
      notAfter: new Date(to),
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    return cert.toString("pem");
  }

  it("reads the validity of the dev certificates as @peculiar/x509 does", async () => {
    const x509 = await loadX509();
    for (const pem of [DEV_MDOC_DS_CERT_PEM, DEV_STATUS_LIST_CERT_PEM]) {
      const cert = new x509.X509Certificate(pem);
      expect(certificateValidity(pemToDer(pem))).toEqual({ notBefore: cert.notBefore.getTime(), notAfter: cert.notAfter.getTime() });
    }
    expect(() => certificateValidity(new Uint8Array([0x30, 0x03, 0x02, 0x01]))).toThrow(TypeError);
  });

  it("refuses issuance (503, nothing spent, nothing recorded) while the Document Signer certificate is expired or not yet valid", async () => {
    const s = await session();
    const app = createDevApp();
    const now = testClock.now();
    for (const pem of [
      await certificateValid(now - 400 * 86_400_000, now - 1_000),
      await certificateValid(now + 60_000, now + 86_400_000),
    ]) {
      const broken = { ...env, MDOC_DS_CERT: pem };
      const res = await withAccessVia(async (req) => app.fetch(req, broken, createExecutionContext()), s.device, s.accessToken, MDOC);
      const body = await expectProblem(res, 503, "not-configured");
      expect(body.signer).toBe("mdoc_document_signer");
      expect(body.reason).toMatch(/^signer_certificate_(expired|not_yet_valid)$/);
    }
    expect(await credentialsOfPerson(testEnv, await ledgerPseudonym(testEnv, s.personId))).toEqual([]);
    // Once the certificate is good again, the same session obtains its credential: the refusals spent nothing.
    const [key] = await walletKeys(1);
    expect((await credential(s.device, s.accessToken, MDOC, [key!])).status).toBe(200);
  });

  it("does not sign a status list under an expired status list certificate", async () => {
    const app = createDevApp();
    const now = testClock.now();
    nextWindow();
    const broken = { ...env, STATUS_LIST_CERT: await certificateValid(now - 400 * 86_400_000, now - 1_000) };
    const res = await app.fetch(new Request(`${ORIGIN}/status-lists/10-0`), broken, createExecutionContext());
    const body = await expectProblem(res, 503, "not-configured");
    expect(body.signer).toBe("status_list_signer");
  });
});
