import { SignJWT, decodeJwt } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { accessTokenHash } from "../../src/auth/dpop";
import { ORIGIN, call, createRoom, expectProblem, testClock, withEnv, type Send } from "../helpers/api";
import { newDevice, type Device } from "../helpers/device";
import { seedValidHolders } from "../helpers/register";
import { sendWithDpopNonce } from "../helpers/dpop-nonce";
import { MDOC, SD_JWT, keyProof, nonce, issuanceSession } from "../helpers/wallet";
import { devRouteKeyAttestation, keyAttestation, makeProvider } from "../helpers/wallet-provider";

/**
 * Key attestation (OpenID4VCI 1.0 appendix D) at the credential endpoint, with the configuration set to
 * `required` as in a deployment (development defaults to `optional`): proofs whose key no trusted
 * wallet provider attested, at the level the configuration asks, are refused with invalid_proof and a
 * reason, before anything is spent.
 */
const required: Send = withEnv({ KEY_ATTESTATION_MDL_SD_JWT: "required", KEY_ATTESTATION_MDL_MSO_MDOC: "required" });
const developmentDefaults: Send = withEnv({});

let holders: string[] = [];
let next = 0;
beforeAll(async () => {
  holders = await seedValidHolders(80);
});

/** An admitted phone with its access token, in a room of its own. */
async function session(): Promise<{ device: Device; accessToken: string }> {
  return issuanceSession(await createRoom({ new_users_per_minute: 600 }), holders[next++]!);
}

async function requestCredential(
  send: Send,
  s: { device: Device; accessToken: string },
  configuration: string,
  proofs: string[],
  proofType: "jwt" | "attestation" = "jwt",
) {
  return postCredential(send, s, { credential_configuration_id: configuration, proofs: { [proofType]: proofs } });
}

/** POST /credential with the session's access token and a DPoP proof for it (with the server's DPoP nonce: test/helpers/dpop-nonce.ts). */
async function postCredential(send: Send, s: { device: Device; accessToken: string }, body: unknown) {
  const url = `${ORIGIN}/credential`;
  return sendWithDpopNonce(async (dpopNonce) => {
    const dpop = await new SignJWT({
      htm: "POST",
      htu: url,
      jti: crypto.randomUUID(),
      ath: await accessTokenHash(s.accessToken),
      ...(dpopNonce ? { nonce: dpopNonce } : {}),
    })
      .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk: s.device.publicJwk })
      .setIssuedAt(Math.floor(testClock.now() / 1000))
      .sign(s.device.privateKey);
    return send("/credential", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `DPoP ${s.accessToken}`, dpop },
      body: JSON.stringify(body),
    });
  });
}

async function refusedWith(res: Response, reason: string): Promise<void> {
  const body = await expectProblem(res, 400, "invalid-proof");
  expect(body).toMatchObject({ error: "invalid_proof", reason });
}

describe("key attestation required", () => {
  it("advertises key_attestations_required only for configurations that require it", async () => {
    const metadata = async (send: Send) =>
      ((await (await send("/.well-known/openid-credential-issuer")).json()) as Record<string, any>).credential_configurations_supported;
    const strict = await metadata(required);
    for (const id of [SD_JWT, MDOC])
      expect(strict[id].proof_types_supported.jwt.key_attestations_required).toEqual({
        key_storage: ["iso_18045_high", "iso_18045_moderate"],
        user_authentication: ["iso_18045_high", "iso_18045_moderate"],
      });
    const relaxed = await metadata(developmentDefaults);
    expect(relaxed[SD_JWT].proof_types_supported.jwt).not.toHaveProperty("key_attestations_required");
  });

  it("issues for a proof key attested by a trusted wallet provider, with or without the c_nonce in the attestation, under either typ", async () => {
    const s = await session();
    const [a, b] = [await newDevice(), await newDevice()];
    const n = await nonce();
    const proofs = [
      await keyProof(a, n, { keyAttestation: await keyAttestation([a.publicJwk, b.publicJwk], { nonce: n }) }),
      // The drafts' typ, which wallet libraries still make (@openid4vc/openid4vci 0.4).
      await keyProof(b, n, {
        keyAttestation: await keyAttestation([b.publicJwk], { keyStorage: ["iso_18045_moderate"], typ: "keyattestation+jwt" }),
      }),
    ];
    const res = await requestCredential(required, s, SD_JWT, proofs);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { credentials: { credential: string }[] };
    const bound = body.credentials.map(({ credential }) => (decodeJwt(credential.split("~")[0]!).cnf as { jwk: { x: string } }).jwk.x);
    expect(bound).toEqual([a.publicJwk.x, b.publicJwk.x]);
  });

  it("accepts a key attestation from the development wallet provider's route", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    const proof = await keyProof(key, n, { keyAttestation: await devRouteKeyAttestation(call, [key.publicJwk], { nonce: n }) });
    expect((await requestCredential(required, s, MDOC, [proof])).status).toBe(200);
  });

  it("refuses a proof without a key attestation, and spends nothing: the same c_nonce then works", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    await refusedWith(await requestCredential(required, s, MDOC, [await keyProof(key, n)]), "key_attestation_missing");
    const attested = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk]) });
    expect((await requestCredential(required, s, MDOC, [attested])).status).toBe(200);
  });

  it("refuses an attestation that does not list the proof key (another key of the same wallet, or the attacker's)", async () => {
    const s = await session();
    const [key, other] = [await newDevice(), await newDevice()];
    const n = await nonce();
    const proof = await keyProof(key, n, { keyAttestation: await keyAttestation([other.publicJwk]) });
    await refusedWith(await requestCredential(required, s, SD_JWT, [proof]), "key_not_attested");
  });

  it("refuses a key store or user authentication weaker than the configuration accepts, or not stated", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    const cases: [Parameters<typeof keyAttestation>[1], string][] = [
      [{ keyStorage: ["iso_18045_basic"] }, "key_storage_too_weak"],
      [{ keyStorage: ["iso_18045_enhanced-basic"] }, "key_storage_too_weak"],
      [{ keyStorage: [] }, "key_storage_too_weak"],
      [{ userAuthentication: ["iso_18045_basic"] }, "user_authentication_too_weak"],
    ];
    for (const [options, reason] of cases) {
      const proof = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk], options) });
      await refusedWith(await requestCredential(required, s, SD_JWT, [proof]), reason);
    }
  });

  it("refuses attestations that do not chain to a trusted wallet provider", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    for (const provider of [await makeProvider(), await makeProvider({ selfSigned: true }), await makeProvider({ leafIsCa: true })]) {
      const proof = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk], { provider }) });
      await refusedWith(await requestCredential(required, s, SD_JWT, [proof]), "untrusted_chain");
    }
  });

  it("refuses an attestation made for another c_nonce, and an expired one", async () => {
    const s = await session();
    const key = await newDevice();
    const [n, other] = [await nonce(), await nonce()];
    const forOther = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk], { nonce: other }) });
    await refusedWith(await requestCredential(required, s, SD_JWT, [forOther]), "nonce_mismatch");
    const expired = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk], { expiresIn: -300 }) });
    await refusedWith(await requestCredential(required, s, SD_JWT, [expired]), "expired");
  });

  it("issues a batch of four whose proofs each carry a long chain (leaf, intermediate, root: a body over 16 KiB)", async () => {
    const provider = await makeProvider({ intermediate: true, includeRoot: true });
    const send = withEnv({ KEY_ATTESTATION_MDL_SD_JWT: "required", WALLET_PROVIDER_ANCHORS: provider.anchorPem });
    const s = await session();
    const keys = await Promise.all([1, 2, 3, 4].map(() => newDevice()));
    const n = await nonce();
    const attestation = await keyAttestation(
      keys.map((k) => k.publicJwk),
      { provider },
    );
    const proofs = await Promise.all(keys.map((k) => keyProof(k, n, { keyAttestation: attestation })));
    expect(JSON.stringify(proofs).length).toBeGreaterThan(16 * 1024);
    const res = await requestCredential(send, s, SD_JWT, proofs);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { credentials: unknown[] }).credentials).toHaveLength(4);
  });

  it("refuses a whole batch when one proof's key is not attested", async () => {
    const s = await session();
    const [a, b] = [await newDevice(), await newDevice()];
    const n = await nonce();
    const attestation = await keyAttestation([a.publicJwk]);
    const proofs = [await keyProof(a, n, { keyAttestation: attestation }), await keyProof(b, n, { keyAttestation: attestation })];
    await refusedWith(await requestCredential(required, s, SD_JWT, proofs), "key_not_attested");
  });
});

describe("key attestation optional (the development default)", () => {
  it("issues without one, but still checks one that is sent", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    const foreign = await keyProof(key, n, { keyAttestation: await keyAttestation([key.publicJwk], { provider: await makeProvider() }) });
    await refusedWith(await requestCredential(developmentDefaults, s, SD_JWT, [foreign]), "untrusted_chain");
    expect((await requestCredential(developmentDefaults, s, SD_JWT, [await keyProof(key, n)])).status).toBe(200);
  });
});

describe("the attestation proof type", () => {
  const boundKeys = async (res: Response) =>
    ((await res.json()) as { credentials: { credential: string }[] }).credentials.map(
      ({ credential }) => (decodeJwt(credential.split("~")[0]!).cnf as { jwk: { x: string } }).jwk.x,
    );

  it("issues a credential for each attested key, once per c_nonce", async () => {
    const s = await session();
    const [a, b] = [await newDevice(), await newDevice()];
    const n = await nonce();
    const attestation = await keyAttestation([a.publicJwk, b.publicJwk], { nonce: n });
    const res = await requestCredential(required, s, SD_JWT, [attestation], "attestation");
    expect(res.status).toBe(200);
    expect(await boundKeys(res)).toEqual([a.publicJwk.x, b.publicJwk.x]);
    // The same attestation again: its c_nonce is used up.
    const replay = await requestCredential(required, s, SD_JWT, [attestation], "attestation");
    expect(((await expectProblem(replay, 400, "invalid-nonce")) as Record<string, unknown>).error).toBe("invalid_nonce");
  });

  it("refuses one without a c_nonce, one too weak, one from an untrusted provider, and more keys than a batch", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    const cases: [string, string][] = [
      [await keyAttestation([key.publicJwk]), "missing_nonce"],
      [await keyAttestation([key.publicJwk], { nonce: n, keyStorage: ["iso_18045_basic"] }), "key_storage_too_weak"],
      [await keyAttestation([key.publicJwk], { nonce: n, provider: await makeProvider() }), "untrusted_chain"],
    ];
    for (const [attestation, reason] of cases)
      await refusedWith(await requestCredential(required, s, SD_JWT, [attestation], "attestation"), reason);
    const many = await Promise.all(Array.from({ length: 5 }, () => newDevice()));
    const tooMany = await keyAttestation(
      many.map((d) => d.publicJwk),
      { nonce: n },
    );
    await expectProblem(await requestCredential(required, s, SD_JWT, [tooMany], "attestation"), 400, "invalid-credential-request");
    // None of these spent the c_nonce.
    const ok = await requestCredential(required, s, SD_JWT, [await keyAttestation([key.publicJwk], { nonce: n })], "attestation");
    expect(ok.status).toBe(200);
  });

  it("refuses jwt and attestation proofs together", async () => {
    const s = await session();
    const key = await newDevice();
    const n = await nonce();
    const res = await postCredential(required, s, {
      credential_configuration_id: SD_JWT,
      proofs: { jwt: [await keyProof(key, n)], attestation: [await keyAttestation([key.publicJwk], { nonce: n })] },
    });
    await expectProblem(res, 400, "invalid-credential-request");
  });
});
