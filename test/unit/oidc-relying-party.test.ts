import { generateKeyPair, importJWK, SignJWT, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { DEV_IDENTITY_KEY, DEV_OIDC_PUBLIC_JWK } from "../../src/config/dev-defaults";
import type { Env } from "../../src/config/env";
import { completeAuthentication, type ProviderConfig } from "../../src/oauth/identity-provider";

/**
 * The authorization flow's relying party (src/oauth/identity-provider.ts) against a provider that
 * answers what a test wants: the ID token is accepted only when signed by the provider's key, for us,
 * by the issuer, fresh, with our nonce, and naming a person.
 */
const NOW = Date.UTC(2026, 11, 1, 8, 0, 0);
const config: ProviderConfig = {
  issuer: "https://idp.test",
  clientId: "antichambre-test",
  clientSecret: "s3cret",
  authorizationEndpoint: "https://idp.test/authorize",
  tokenEndpoint: "https://idp.test/token",
  personClaim: "sub",
  scopes: "openid",
};
const env = { OIDC_JWKS: JSON.stringify({ keys: [DEV_OIDC_PUBLIC_JWK] }) } as unknown as Env;

async function idToken(claims: JWTPayload, key?: CryptoKey, kid: string = DEV_IDENTITY_KEY.kid): Promise<string> {
  const signer = key ?? ((await importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256")) as CryptoKey);
  const iat = Math.floor(NOW / 1000);
  return new SignJWT({ iss: config.issuer, aud: config.clientId, sub: "FR-000042", nonce: "n-1", iat, exp: iat + 300, ...claims })
    .setProtectedHeader({ alg: "ES256", kid })
    .sign(signer);
}

async function run(token: string | Response, seen: Request[] = []) {
  return completeAuthentication(
    env,
    config,
    async (request) => {
      seen.push(request);
      return typeof token === "string" ? Response.json({ id_token: token, token_type: "Bearer", access_token: "x" }) : token;
    },
    { code: "c", redirectUri: "https://antichambre.test/authorize/callback", verifier: "v".repeat(43), nonce: "n-1", now: NOW },
  );
}

describe("the OpenID Connect relying party", () => {
  it("exchanges the code with client_secret_basic and the PKCE verifier, and reads the person from a valid ID token", async () => {
    const seen: Request[] = [];
    expect(await run(await idToken({}), seen)).toEqual({ ok: true, personId: "FR-000042" });
    const [request] = seen;
    expect(request!.url).toBe(config.tokenEndpoint);
    expect(request!.headers.get("authorization")).toBe(`Basic ${btoa("antichambre-test:s3cret")}`);
    const form = new URLSearchParams(await request!.text());
    expect(form.get("grant_type")).toBe("authorization_code");
    expect(form.get("code_verifier")).toBe("v".repeat(43));
    expect(form.get("redirect_uri")).toBe("https://antichambre.test/authorize/callback");
  });

  it("refuses an ID token for another audience, from another issuer, with another nonce, expired or without a person", async () => {
    expect(await run(await idToken({ aud: "someone-else" }))).toEqual({ ok: false, reason: "wrong_audience" });
    expect(await run(await idToken({ iss: "https://evil.test" }))).toEqual({ ok: false, reason: "wrong_issuer" });
    expect(await run(await idToken({ nonce: "replayed" }))).toEqual({ ok: false, reason: "wrong_nonce" });
    expect(await run(await idToken({ nonce: undefined }))).toEqual({ ok: false, reason: "wrong_nonce" });
    const old = Math.floor(NOW / 1000) - 3600;
    expect(await run(await idToken({ iat: old, exp: old + 300 }))).toEqual({ ok: false, reason: "expired" });
    expect(await run(await idToken({ sub: "" }))).toMatchObject({ ok: false });
    // Several audiences: we must be the authorized party.
    expect(await run(await idToken({ aud: [config.clientId, "other"], azp: "other" }))).toEqual({ ok: false, reason: "wrong_audience" });
  });

  it("refuses an ID token signed by any other key, even under the provider's kid", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    expect(await run(await idToken({}, privateKey))).toEqual({ ok: false, reason: "bad_signature" });
    expect(await run(await idToken({}, privateKey, "unknown-kid"))).toEqual({ ok: false, reason: "unknown_key" });
  });

  it("tells a provider that refuses from one that is down, and never throws on a malformed answer", async () => {
    expect(await run(Response.json({ error: "invalid_grant" }, { status: 400 }))).toEqual({ ok: false, reason: "provider_refused" });
    expect(await run(new Response("down", { status: 503 }))).toEqual({ ok: false, reason: "provider_unreachable" });
    expect(await run(new Response("not json", { status: 200 }))).toEqual({ ok: false, reason: "malformed_answer" });
    expect(await run(Response.json({ id_token: 42 }))).toEqual({ ok: false, reason: "malformed_answer" });
    expect(await run("not.a.jwt")).toEqual({ ok: false, reason: "malformed_answer" });
  });
});
