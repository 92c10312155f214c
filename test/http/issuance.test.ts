import { Holder } from "@owf/mdoc";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { base64url, decodeProtectedHeader, importJWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { createDevApp } from "../../src/dev/kit";
import { DEV_IACA_CERT_PEM } from "../../src/config/dev-credentials";
import { pemToDer } from "../../src/credentials/mdoc/pem";
import { ensureRegisterSchema, personIdFor, seedRegister, syntheticHolder } from "../../src/register/seed";
import {
  ORIGIN,
  adminGet,
  call,
  createRoom,
  expectProblem,
  join,
  testClock,
  tick,
  checkAnswersAgainstOpenApiInThisFile,
} from "../helpers/api";
import { loadX509, owfContext } from "../helpers/mdoc-verifier";
import { fetchStatusList, signerKeyFromCertificate } from "../helpers/status-list";
import { MDOC, SD_JWT, admittedOffer, credential, keyProof, nonce, token, walletKeys, withAccess } from "../helpers/wallet";

/**
 * The whole flow a phone goes through, over HTTP against the real Worker and Durable Objects:
 * identity assertion → join → admitted → offer → token (DPoP) → nonce → credential → notification,
 * with every issued credential checked by an independent verifier library.
 */
const SEEDED = 60;

beforeAll(async () => {
  await ensureRegisterSchema(env.REGISTER);
  await seedRegister(env.REGISTER, SEEDED);
  await loadX509();
});

/** A licence holder whose licence is valid at the test clock's date. */
function validHolderId(skip = 0): string {
  const today = new Date(testClock.now()).toISOString().slice(0, 10);
  const ids = [];
  for (let n = 1; n <= SEEDED; n++) if (syntheticHolder(n).expiry_date > today) ids.push(personIdFor(n));
  return ids[skip]!;
}

/** Join as `personId` and get admitted; returns the phone and its pre-authorized code. */
async function admitted(room: string, personId: string) {
  const joined = await join(room, { personId });
  expect(joined.status).toBe(201);
  await tick(room);
  const { code, offer } = await admittedOffer(room, joined.ticket);
  return { ...joined, code, offer };
}

const sdJwtLibrary = async () => {
  const jwks = (await (await call("/.well-known/jwks.json")).json()) as { keys: Record<string, string>[] };
  const key = (await importJWK({ ...jwks.keys[0]!, alg: "ES256" }, "ES256")) as CryptoKey;
  return new SDJwtVcInstance({
    hasher: async (data: string | ArrayBuffer) =>
      new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? new TextEncoder().encode(data) : data)),
    verifier: async (data: string, sig: string) =>
      crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, base64url.decode(sig), new TextEncoder().encode(data)),
    // The credential's `status` is checked too: its Status List Token fetched from the Worker, verified
    // with the status list signer's certificate (x5c), itself checked against the IACA.
    statusListFetcher: async (uri: string) => (await fetchStatusList(uri, "application/statuslist+jwt")).text(),
    statusVerifier: async (data: string, sig: string) => {
      const x5c = decodeProtectedHeader(`${data}.${sig}`).x5c!;
      const listKey = await signerKeyFromCertificate(Uint8Array.from(atob(x5c[0]!), (c) => c.charCodeAt(0)));
      return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, listKey, base64url.decode(sig), new TextEncoder().encode(data));
    },
    loadTypeMetadataFormat: false,
  });
};

describe("metadata", () => {
  it("publishes issuer and authorization server metadata that point at real endpoints", async () => {
    const issuer = (await (await call("/.well-known/openid-credential-issuer")).json()) as Record<string, any>;
    expect(issuer.credential_issuer).toBe(ORIGIN);
    for (const k of ["credential_endpoint", "nonce_endpoint", "notification_endpoint"])
      expect(issuer[k]).toMatch(new RegExp(`^${ORIGIN}/`));
    expect(issuer.batch_credential_issuance.batch_size).toBe(4);
    expect(Object.keys(issuer.credential_configurations_supported).sort()).toEqual([SD_JWT, MDOC].sort());
    const mdoc = issuer.credential_configurations_supported[MDOC];
    expect(mdoc).toMatchObject({ format: "mso_mdoc", doctype: "org.iso.18013.5.1.mDL" });
    expect(mdoc.credential_metadata.claims.map((c: { path: string[] }) => c.path[1])).toContain("driving_privileges");
    expect(mdoc.credential_metadata.display.map((d: { locale: string }) => d.locale)).toEqual(["fr-FR", "en-US"]);
    expect(issuer.credential_configurations_supported[SD_JWT]).toMatchObject({ format: "dc+sd-jwt", vct: "urn:eudi:mdl:fr:1" });

    const as = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, any>;
    expect(as).toMatchObject({
      issuer: ORIGIN,
      token_endpoint: `${ORIGIN}/token`,
      "pre-authorized_grant_anonymous_access_supported": true,
      dpop_signing_alg_values_supported: ["ES256"],
    });
    // The IACA root is published where the metadata says, as PEM and in the mdoc_iacas_uri shape.
    const pem = await call(new URL(issuer.iaca_certificate_pem_uri).pathname);
    expect(await pem.text()).toBe(DEV_IACA_CERT_PEM);
    const iacas = (await (await call(new URL(issuer.mdoc_iacas_uri).pathname)).json()) as { iacas: { certificate: string }[] };
    expect(Uint8Array.from(atob(iacas.iacas[0]!.certificate), (c) => c.charCodeAt(0))).toEqual(pemToDer(DEV_IACA_CERT_PEM));
  });
});

describe("the full flow", () => {
  it("issues an mDL (verified by @owf/mdoc against the IACA) bound to the proof key, then frees the slot on notification", async () => {
    const room = await createRoom({ new_users_per_minute: 600, total_active_users: 5, shards: 2 });
    const phone = await admitted(room, validHolderId(0));
    expect(phone.offer.credential_issuer).toBe(ORIGIN);
    expect(phone.offer.credential_configuration_ids).toContain(MDOC);

    const t = await token(phone.device, phone.code);
    expect(t.status).toBe(200);
    expect(t.body.token_type).toBe("DPoP");
    expect(t.res.headers.get("cache-control")).toContain("no-store");
    const before = await adminGet(room);
    expect(before.sessions_open).toBe(1);

    const [walletKey] = await walletKeys(1);
    const issued = await credential(phone.device, t.body.access_token, MDOC, [walletKey!]);
    expect(issued.status).toBe(200);
    expect(issued.body.credentials).toHaveLength(1);
    const mdoc = issued.body.credentials[0].credential as string;

    const checks: { status: string; check: string }[] = [];
    await Holder.verifyIssuerSigned(
      {
        issuerSigned: mdoc,
        trustedCertificates: [pemToDer(DEV_IACA_CERT_PEM)],
        now: new Date(testClock.now() + 60_000),
        verificationCallback: (c) => checks.push(c),
      },
      owfContext(),
    );
    expect(checks.length).toBeGreaterThan(10);
    expect(checks.filter((c) => c.status !== "PASSED")).toEqual([]);

    // The device key inside the MSO is the key that signed the proof (read with @owf/mdoc's parser).
    const { IssuerSigned } = await import("@owf/mdoc");
    const parsed = IssuerSigned.decode(base64url.decode(mdoc));
    const deviceKey = parsed.issuerAuth.mobileSecurityObject.deviceKeyInfo.deviceKey;
    expect(base64url.encode(deviceKey.x!)).toBe(walletKey!.publicJwk.x);
    expect(base64url.encode(deviceKey.y!)).toBe(walletKey!.publicJwk.y);

    const notified = await withAccess("/notification", phone.device, t.body.access_token, {
      notification_id: issued.body.notification_id,
      event: "credential_accepted",
    });
    expect(notified.status).toBe(204);
    const after = await adminGet(room);
    expect(after.sessions_open).toBe(0);
    expect(after.active).toBe(before.active - 1);
  });

  it("issues a batch of SD-JWT VCs, one per proof key, each verified by @sd-jwt/sd-jwt-vc", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 2 });
    const personId = validHolderId(1);
    const phone = await admitted(room, personId);
    const t = await token(phone.device, phone.code);
    const keys = await walletKeys(3);
    const issued = await credential(phone.device, t.body.access_token, SD_JWT, keys);
    expect(issued.status).toBe(200);
    expect(issued.body.credentials).toHaveLength(3);
    const lib = await sdJwtLibrary();
    const holder = syntheticHolder(Number(personId.slice(3)));
    for (const [i, { credential: sdJwt }] of issued.body.credentials.entries()) {
      const { payload, header } = await lib.verify(sdJwt, { currentDate: Math.floor(testClock.now() / 1000) });
      expect(header?.typ).toBe("dc+sd-jwt");
      expect(payload.iss).toBe(ORIGIN);
      expect((payload.cnf as { jwk: Record<string, string> }).jwk).toMatchObject({ x: keys[i]!.publicJwk.x, y: keys[i]!.publicJwk.y });
      expect(payload).toMatchObject({
        family_name: holder.family_name,
        given_name: holder.given_name,
        document_number: holder.document_number,
      });
    }
  });
});

describe("refusals", () => {
  it("a pre-authorized code is single use, bound to its device, and expires with the admission", async () => {
    const room = await createRoom({ new_users_per_minute: 600, admission_ttl_seconds: 30, shards: 1 });
    const a = await admitted(room, validHolderId(2));
    const [thief] = await walletKeys(1);
    const stolen = await token(thief!, a.code);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe("invalid_dpop_proof");
    expect(stolen.res.headers.get("content-type")).toBe("application/problem+json");

    const first = await token(a.device, a.code);
    expect(first.status).toBe(200);
    // The same code is never redeemed twice (RFC 6749 §4.1.2), not even by its own device.
    const again = await token(a.device, a.code);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: "invalid_grant", reason: "code_used" });
    // A device whose first answer was lost polls again: the fresh code, by the same key, resumes the same
    // session (same end), no second one. Spent once the session ends: test/faults/lost-answers.test.ts.
    const fresh = await admittedOffer(room, a.ticket);
    expect(fresh.code).not.toBe(a.code);
    const resumed = await token(a.device, fresh.code);
    expect(resumed.status).toBe(200);
    expect(resumed.body.expires_in).toBe(first.body.expires_in);

    const b = await admitted(room, validHolderId(3));
    testClock.advance(31_000);
    const late = await token(b.device, b.code);
    expect(late.body.error).toBe("invalid_grant");

    // A DPoP proof is good for one request: replaying a captured one is refused.
    const c = await admitted(room, validHolderId(9));
    const proof = await c.device.proof("POST", `${ORIGIN}/token`);
    const send = () =>
      call("/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", dpop: proof },
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code", "pre-authorized_code": c.code }),
      });
    expect((await send()).status).toBe(200);
    const replayed = (await (await send()).json()) as { error: string; reason: string };
    expect(replayed).toMatchObject({ error: "invalid_dpop_proof", reason: "replayed" });

    const unsupported = await call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=password",
    });
    expect(((await unsupported.json()) as { error: string }).error).toBe("unsupported_grant_type");
    const notForm = await call("/token", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(((await notForm.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("the credential endpoint refuses bad proofs, nonces, configurations, tokens and oversized batches", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const p = await admitted(room, validHolderId(4));
    const at = (await token(p.device, p.code)).body.access_token as string;
    const [k] = await walletKeys(1);

    const n1 = await nonce();
    expect((await credential(p.device, at, MDOC, [k!], n1)).status).toBe(200);
    expect((await credential(p.device, at, MDOC, [k!], n1)).body.error).toBe("invalid_nonce"); // used
    expect((await credential(p.device, at, MDOC, [k!], "made-up")).body.error).toBe("invalid_nonce");

    const wrongAud = await withAccess("/credential", p.device, at, {
      credential_configuration_id: MDOC,
      proofs: { jwt: [await keyProof(k!, await nonce(), { aud: "https://elsewhere" })] },
    });
    expect(wrongAud.body.error).toBe("invalid_proof");
    const wrongTyp = await withAccess("/credential", p.device, at, {
      credential_configuration_id: MDOC,
      proofs: { jwt: [await keyProof(k!, await nonce(), { typ: "JWT" })] },
    });
    expect(wrongTyp.body.error).toBe("invalid_proof");
    expect((await credential(p.device, at, "fr.antichambre.nothing", [k!])).body.error).toBe("unknown_credential_configuration");
    expect((await withAccess("/credential", p.device, at, { format: "mso_mdoc" })).body.error).toBe("invalid_credential_request");
    // The scheme is case-insensitive (RFC 9110): past the token check to the request's own error.
    expect((await withAccess("/credential", p.device, at, { format: "mso_mdoc" }, { scheme: "dpop" })).body.error).toBe(
      "invalid_credential_request",
    );
    expect((await credential(p.device, at, MDOC, await walletKeys(5))).body.error).toBe("invalid_credential_request");

    // The access token is bound to the phone's key: another key's proof is refused.
    const [other] = await walletKeys(1);
    const wrongKey = await credential(other!, at, MDOC, [k!]);
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.error).toBe("invalid_dpop_proof");
    const bearer = await call("/credential", {
      method: "POST",
      headers: { authorization: `Bearer ${at}`, "content-type": "application/json" },
      body: "{}",
    });
    await expectProblem(bearer, 401, "invalid-token");
    expect((await credential(p.device, "not-a-token", MDOC, [k!])).status).toBe(401);
  });

  it("a person with no licence is denied; the same person on two devices holds one place and one redemption", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 2 });
    const nobody = await admitted(room, personIdFor(SEEDED + 500));
    const at = (await token(nobody.device, nobody.code)).body.access_token as string;
    const denied = await credential(nobody.device, at, SD_JWT, await walletKeys(1));
    expect(denied.status).toBe(400);
    expect(denied.body.error).toBe("credential_request_denied");

    const personId = validHolderId(5);
    const phone1 = await join(room, { personId });
    const phone2 = await join(room, { personId });
    expect(phone2.status).toBe(200);
    await tick(room);
    const o1 = await admittedOffer(room, phone1.ticket);
    const o2 = await admittedOffer(room, phone2.ticket);
    expect(o1.code).not.toBe(o2.code); // each bound to its own device
    expect((await token(phone2.device, o2.code)).status).toBe(200);
    expect((await token(phone1.device, o1.code)).body.error).toBe("invalid_grant"); // the place was redeemed once
  });

  it("a register at capacity answers promptly with 503 + Retry-After, not a hang", async () => {
    const room = await createRoom({ new_users_per_minute: 600, shards: 1 });
    const phones = [];
    for (let i = 0; i < 3; i++) phones.push(await admitted(room, validHolderId(6 + i)));
    const tokens: string[] = [];
    for (const p of phones) tokens.push((await token(p.device, p.code)).body.access_token as string);
    // One read at a time, each slow, no waiting for a slot: the second and third are refused at once.
    const app = createDevApp();
    const slow = { ...env, REGISTER_MAX_CONCURRENCY: "1", REGISTER_LATENCY_MS: "400", REGISTER_QUEUE_TIMEOUT_MS: "0" };
    const { withAccessVia } = await import("../helpers/wallet-direct");
    const settled: string[] = [];
    const results = await Promise.all(
      phones.map(async (p, i) => {
        const r = await withAccessVia(async (req) => app.fetch(req, slow, createExecutionContext()), p.device, tokens[i]!, MDOC);
        settled.push(String(r.status));
        return r;
      }),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 503, 503]);
    for (const r of results.filter((r) => r.status === 503)) {
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(r.headers.get("content-type")).toBe("application/problem+json");
    }
    // The refusals came back before the slow read finished.
    expect(settled).toEqual(["503", "503", "200"]);
    // And the register reports them (admin API).
    const metrics = (await (await call("/v1/admin/register", { headers: { authorization: "Bearer dev-admin-token" } })).json()) as Record<
      string,
      number
    >;
    expect(metrics.busy).toBeGreaterThanOrEqual(2);
    expect(metrics.reads).toBeGreaterThanOrEqual(1);
  });
});

// Every answer in this file must also match GET /openapi.json for its route and status (docs/api.md).
checkAnswersAgainstOpenApiInThisFile();
