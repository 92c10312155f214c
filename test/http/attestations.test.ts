import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config/env";
import { DEV_WALLET_PROVIDER_CA_PEM } from "../../src/config/dev-wallet-provider";
import { ApiError } from "../../src/http/problem";
import { authenticateClient, POP_MAX_AGE_SECONDS } from "../../src/oauth/client-attestation";
import { ORIGIN, call, createRoom, expectProblem, join, testClock, tick, withEnv } from "../helpers/api";
import { admittedOffer, token } from "../helpers/wallet";
import { newDevice, type Device } from "../helpers/device";
import {
  attestationPop,
  clientAttestationHeaders,
  devRouteWalletAttestation,
  makeProvider,
  TEST_CLIENT_ID,
  walletAttestation,
  type ProviderShape,
} from "../helpers/wallet-provider";

/**
 * Wallet attestation as client authentication (src/oauth/client-attestation.ts), called the way the
 * token and PAR endpoints call it, with attestations an attacker could actually send: other
 * providers, self-made chains, expired ones, proofs replayed or made for another issuer or by
 * another key.
 */
/** The tests' env with `anchors` as WALLET_PROVIDER_ANCHORS (null: none configured). */
const devEnv = (anchors: string | null = DEV_WALLET_PROVIDER_CA_PEM): Env =>
  ({ ...env, WALLET_PROVIDER_ANCHORS: anchors ?? undefined }) as Env;
const ctx = () => ({ issuer: ORIGIN, now: testClock.now() });

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  const api = error as ApiError;
  expect(api.kind).toBe("invalid_client");
  expect(api.status).toBe(401);
  return api.extras.reason as string;
}

async function attested(wallet: Device, o: Parameters<typeof walletAttestation>[1] = {}) {
  return { attestation: await walletAttestation(wallet, o), pop: await attestationPop(wallet, ORIGIN) };
}

describe("wallet attestation (attest_jwt_client_auth)", () => {
  it("authenticates a wallet attested by a trusted provider, naming its client_id and key", async () => {
    const wallet = await newDevice();
    const client = await authenticateClient(devEnv(), await attested(wallet), { ...ctx(), clientId: TEST_CLIENT_ID });
    expect(client).toEqual({ clientId: TEST_CLIENT_ID, walletKeyJkt: await calculateJwkThumbprint(wallet.publicJwk, "sha256") });
  });

  it("accepts a chain through an intermediate CA, one that carries its root, and a P-384 root signing with SHA-384", async () => {
    for (const shape of [
      { intermediate: true },
      { intermediate: true, includeRoot: true },
      { includeRoot: true },
      { rootP384: true },
      { rootP384: true, intermediate: true },
    ]) {
      const provider = await makeProvider(shape);
      const wallet = await newDevice();
      const client = await authenticateClient(devEnv(provider.anchorPem), await attested(wallet, { provider }), ctx());
      expect(client.clientId).toBe(TEST_CLIENT_ID);
    }
  });

  it("authenticates a wallet attested by the development wallet provider's route", async () => {
    const wallet = await newDevice();
    const attestation = await devRouteWalletAttestation(call, wallet, "https://dev-wallet.example");
    const client = await authenticateClient(devEnv(), { attestation, pop: await attestationPop(wallet, ORIGIN, { iss: null }) }, ctx());
    expect(client.clientId).toBe("https://dev-wallet.example");
  });

  it("refuses a request without the attestation, or without its proof of possession", async () => {
    const wallet = await newDevice();
    expect(await refusal(authenticateClient(devEnv(), {}, ctx()))).toBe("attestation_missing");
    const { attestation } = await attested(wallet);
    expect(await refusal(authenticateClient(devEnv(), { attestation }, ctx()))).toBe("pop_missing");
  });

  it("refuses every attestation when no wallet provider is configured", async () => {
    const wallet = await newDevice();
    expect(await refusal(authenticateClient(devEnv(null), await attested(wallet), ctx()))).toBe("attestation_no_trust_anchor");
  });

  it("refuses an expired attestation", async () => {
    const wallet = await newDevice();
    const headers = await attested(wallet, { expiresIn: -120 });
    expect(await refusal(authenticateClient(devEnv(), headers, ctx()))).toBe("attestation_expired");
  });

  const chains: [string, ProviderShape, boolean, string][] = [
    ["a self-signed leaf (no provider at all)", { selfSigned: true }, true, "attestation_untrusted_chain"],
    ["a chain to another provider's root", {}, false, "attestation_untrusted_chain"],
    ["a leaf certificate that has expired", { leafExpired: true }, true, "attestation_certificate_expired"],
    ["a CA certificate as the signer", { leafIsCa: true }, true, "attestation_leaf_is_ca"],
    ["an intermediate that is not a CA", { intermediateNotCa: true }, true, "attestation_issuer_not_ca"],
    ["an intermediate under a root whose pathLen allows none", { intermediate: true, rootPathLen: 0 }, true, "attestation_issuer_not_ca"],
  ];
  for (const [name, shape, trustRoot, reason] of chains) {
    it(`refuses ${name}`, async () => {
      const provider = await makeProvider(shape);
      const wallet = await newDevice();
      // trustRoot: the provider's own root is configured, so only the defect itself can fail the check.
      const anchors = trustRoot ? `${DEV_WALLET_PROVIDER_CA_PEM}${provider.anchorPem}` : DEV_WALLET_PROVIDER_CA_PEM;
      expect(await refusal(authenticateClient(devEnv(anchors), await attested(wallet, { provider }), ctx()))).toBe(reason);
    });
  }

  it("refuses an attestation carrying a trusted chain but signed by another key", async () => {
    const provider = await makeProvider();
    const { privateKey } = await generateKeyPair("ES256");
    const wallet = await newDevice();
    const headers = await attested(wallet, { provider: { ...provider, key: privateKey } });
    expect(await refusal(authenticateClient(devEnv(provider.anchorPem), headers, ctx()))).toBe("attestation_bad_signature");
  });

  it("refuses an x5c that is not a certificate chain", async () => {
    const wallet = await newDevice();
    for (const x5c of [["bm90IGEgY2VydA=="], ["%%%"], [], "MIIB"]) {
      const provider = { ...(await makeProvider()), x5c: x5c as string[] };
      const reason = await refusal(authenticateClient(devEnv(), await attested(wallet, { provider }), ctx()));
      expect(reason).toBe("attestation_malformed_chain");
    }
  });

  it("refuses an attestation of another type", async () => {
    const wallet = await newDevice();
    const headers = await attested(wallet, { typ: "key-attestation+jwt" });
    expect(await refusal(authenticateClient(devEnv(), headers, ctx()))).toBe("attestation_wrong_type");
  });

  it("refuses an attestation issued to another client_id than the request names", async () => {
    const wallet = await newDevice();
    const headers = await attested(wallet, { clientId: "https://other-wallet.example" });
    expect(await refusal(authenticateClient(devEnv(), headers, { ...ctx(), clientId: TEST_CLIENT_ID }))).toBe("client_id_mismatch");
  });

  it("refuses a proof of possession made for another issuer", async () => {
    const wallet = await newDevice();
    const attestation = await walletAttestation(wallet);
    const pop = await attestationPop(wallet, "https://other-issuer.example");
    expect(await refusal(authenticateClient(devEnv(), { attestation, pop }, ctx()))).toBe("pop_wrong_audience");
  });

  it("refuses a proof of possession signed by another key than the attested one", async () => {
    const wallet = await newDevice();
    const thief = await newDevice();
    const attestation = await walletAttestation(wallet);
    // The thief holds a copy of the wallet's attestation but not its key.
    const pop = await attestationPop(thief, ORIGIN);
    expect(await refusal(authenticateClient(devEnv(), { attestation, pop }, ctx()))).toBe("pop_bad_signature");
  });

  it("refuses a proof of possession whose iss is another client", async () => {
    const wallet = await newDevice();
    const attestation = await walletAttestation(wallet);
    const pop = await attestationPop(wallet, ORIGIN, { iss: "https://other-wallet.example" });
    expect(await refusal(authenticateClient(devEnv(), { attestation, pop }, ctx()))).toBe("pop_wrong_issuer");
  });

  it("refuses a stale proof of possession, and one dated in the future", async () => {
    const wallet = await newDevice();
    const attestation = await walletAttestation(wallet);
    const now = Math.floor(testClock.now() / 1000);
    for (const iat of [now - POP_MAX_AGE_SECONDS - 120, now + 600]) {
      const pop = await attestationPop(wallet, ORIGIN, { iat });
      expect(await refusal(authenticateClient(devEnv(), { attestation, pop }, ctx()))).toBe("pop_stale");
    }
  });

  it("accepts a proof of possession once: a replay, even concurrent, is refused", async () => {
    const wallet = await newDevice();
    const headers = await attested(wallet);
    const outcomes = await Promise.allSettled([1, 2, 3].map(() => authenticateClient(devEnv(), headers, ctx())));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await refusal(authenticateClient(devEnv(), headers, ctx()))).toBe("pop_replayed");
    // A fresh PoP from the same wallet is fine.
    const pop = await attestationPop(wallet, ORIGIN);
    await expect(authenticateClient(devEnv(), { attestation: headers.attestation, pop }, ctx())).resolves.toBeTruthy();
  });

  it("spends no PoP on a request refused for another reason", async () => {
    const wallet = await newDevice();
    const headers = await attested(wallet);
    expect(await refusal(authenticateClient(devEnv(), headers, { ...ctx(), clientId: "someone-else" }))).toBe("client_id_mismatch");
    await expect(authenticateClient(devEnv(), headers, ctx())).resolves.toBeTruthy();
  });
});

describe("wallet attestation at the pre-authorized token endpoint", () => {
  async function admittedDevice() {
    const room = await createRoom({ new_users_per_minute: 600 });
    const joined = await join(room);
    await tick(room);
    const { code } = await admittedOffer(room, joined.ticket);
    return { device: joined.device, code };
  }

  async function tokenWith(device: Device, code: string, headers: Record<string, string>, extra: Record<string, string> = {}) {
    const url = `${ORIGIN}/token`;
    return call("/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", dpop: await device.proof("POST", url), ...headers },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        "pre-authorized_code": code,
        ...extra,
      }),
    });
  }

  it("advertises attest_jwt_client_auth", async () => {
    const as = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(as.token_endpoint_auth_methods_supported).toContain("attest_jwt_client_auth");
  });

  it("accepts a valid wallet attestation with the token request", async () => {
    const { device, code } = await admittedDevice();
    const wallet = await newDevice();
    const res = await tokenWith(device, code, await clientAttestationHeaders(wallet, ORIGIN), { client_id: TEST_CLIENT_ID });
    expect(res.status).toBe(200);
  });

  it("refuses a bad one with 401 invalid_client and a reason, and spends nothing: the code still works without it", async () => {
    const { device, code } = await admittedDevice();
    const wallet = await newDevice();
    const attestation = await walletAttestation(wallet);
    const cases: [Record<string, string>, string][] = [
      [
        {
          "oauth-client-attestation": attestation,
          "oauth-client-attestation-pop": await attestationPop(wallet, "https://other-issuer.example"),
        },
        "pop_wrong_audience",
      ],
      [{ "oauth-client-attestation": attestation }, "pop_missing"],
      [{ "oauth-client-attestation-pop": await attestationPop(wallet, ORIGIN) }, "attestation_missing"],
      [
        {
          "oauth-client-attestation": await walletAttestation(wallet, { provider: await makeProvider({ selfSigned: true }) }),
          "oauth-client-attestation-pop": await attestationPop(wallet, ORIGIN),
        },
        "attestation_untrusted_chain",
      ],
    ];
    for (const [headers, reason] of cases) {
      const body = await expectProblem(await tokenWith(device, code, headers), 401, "invalid-client");
      expect(body).toMatchObject({ error: "invalid_client", reason });
    }
    const mismatch = await tokenWith(
      device,
      code,
      { "oauth-client-attestation": attestation, "oauth-client-attestation-pop": await attestationPop(wallet, ORIGIN) },
      { client_id: "someone-else" },
    );
    expect((await expectProblem(mismatch, 401, "invalid-client")).reason).toBe("client_id_mismatch");
    expect((await token(device, code)).status).toBe(200);
  });
});

describe("the development wallet provider's routes", () => {
  it("refuse what is not a public P-256 key, and answer 404 outside development", async () => {
    const wallet = await newDevice();
    const post = (path: string, body: unknown) =>
      call(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const publicJwk = wallet.publicJwk;
    for (const jwk of [
      { ...publicJwk, d: "secret" },
      { ...publicJwk, crv: "P-384" },
      { kty: "RSA", n: "x", e: "AQAB" },
    ]) {
      expect((await post("/v1/dev/wallet-attestations", { client_id: "c", jwk })).status).toBe(422);
      expect(
        (await post("/v1/dev/key-attestations", { attested_keys: [jwk], key_storage: ["x"], user_authentication: ["x"] })).status,
      ).toBe(422);
    }
    const production = withEnv({ ENVIRONMENT: "production" });
    const res = await production("/v1/dev/wallet-attestations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_id: "c", jwk: wallet.publicJwk }),
    });
    await expectProblem(res, 404, "not-found");
  });
});
