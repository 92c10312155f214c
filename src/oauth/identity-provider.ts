import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Env } from "../config/env";
import { secret, settingsOf } from "../config/settings";
import { ConfigError } from "../config/config-error";
import { s256Challenge } from "./pkce";

/**
 * The authorization flow's OpenID Connect relying party (authorization code + PKCE + state + nonce,
 * OpenID Connect Core 1.0 §3.1), towards the national identity service in production, the embedded
 * development provider under `npm start` and the tests, or the e2e's Node provider: the same code for
 * all three, configured by OIDC_* settings (docs/authorization-flow.md).
 *
 * The ID token is verified with jose against the provider's keys: OIDC_JWKS when set, else OIDC_JWKS_URI
 * fetched and cached per isolate (re-fetched when a token names a key it lacks, at most once a minute,
 * so a flood of forged `kid`s cannot turn into a flood of fetches).
 */
export type Fetcher = (request: Request) => Promise<Response>;

export interface ProviderConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly personClaim: string;
  readonly scopes: string;
}

/** The provider's settings, or 503 not-configured naming what is missing. */
export function providerConfig(env: Env): ProviderConfig {
  const s = settingsOf(env).authorization.oidc;
  const clientSecret = secret(env, "OIDC_CLIENT_SECRET");
  const missing = [
    ["OIDC_ISSUER", s.issuer],
    ["OIDC_CLIENT_ID", s.clientId],
    ["OIDC_CLIENT_SECRET", clientSecret],
    ["OIDC_AUTHORIZATION_ENDPOINT", s.authorizationEndpoint],
    ["OIDC_TOKEN_ENDPOINT", s.tokenEndpoint],
  ].filter(([, v]) => v === undefined);
  if (secret(env, "OIDC_JWKS") === undefined && s.jwksUri === undefined) missing.push(["OIDC_JWKS", undefined]);
  if (missing.length > 0)
    throw new ConfigError(
      missing.map(([name]) => ({ name: name!, reason: "is not set" })),
      "the identity provider of the authorization flow is not configured on this deployment",
    );
  return {
    issuer: s.issuer!,
    clientId: s.clientId!,
    clientSecret: clientSecret!,
    authorizationEndpoint: s.authorizationEndpoint!,
    tokenEndpoint: s.tokenEndpoint!,
    personClaim: s.personClaim,
    scopes: s.scopes.split(" ").includes("openid") ? s.scopes : `openid ${s.scopes}`,
  };
}

/** Where to send the admitted browser: the provider's authorization endpoint with our request. */
export async function authenticationRequestUrl(
  config: ProviderConfig,
  request: { redirectUri: string; state: string; nonce: string; verifier: string },
): Promise<string> {
  const url = new URL(config.authorizationEndpoint);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", config.clientId);
  url.searchParams.set("redirect_uri", request.redirectUri);
  url.searchParams.set("scope", config.scopes);
  url.searchParams.set("state", request.state);
  url.searchParams.set("nonce", request.nonce);
  url.searchParams.set("code_challenge", await s256Challenge(request.verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.toString();
}

export type IdentityFailure =
  | "provider_unreachable"
  | "provider_refused"
  | "malformed_answer"
  | "bad_signature"
  | "unknown_key"
  | "expired"
  | "wrong_issuer"
  | "wrong_audience"
  | "wrong_nonce"
  | "no_person";

export type IdentityResult = { ok: true; personId: string } | { ok: false; reason: IdentityFailure };

/** form-urlencoding then base64, as RFC 6749 §2.3.1 says client_secret_basic is built. */
function basicAuthorization(id: string, secretValue: string): string {
  const enc = (v: string) => encodeURIComponent(v).replace(/%20/g, "+");
  return `Basic ${btoa(`${enc(id)}:${enc(secretValue)}`)}`;
}

/** The provider's callback: the code exchanged (once), the ID token verified, the person id read. */
export async function completeAuthentication(
  env: Env,
  config: ProviderConfig,
  fetcher: Fetcher,
  input: { code: string; redirectUri: string; verifier: string; nonce: string; now: number },
): Promise<IdentityResult> {
  let answer: Response;
  try {
    answer = await fetcher(
      new Request(config.tokenEndpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          authorization: basicAuthorization(config.clientId, config.clientSecret),
        },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code: input.code,
          redirect_uri: input.redirectUri,
          code_verifier: input.verifier,
        }).toString(),
      }),
    );
  } catch {
    return { ok: false, reason: "provider_unreachable" };
  }
  if (answer.status >= 500) return { ok: false, reason: "provider_unreachable" };
  if (!answer.ok) return { ok: false, reason: "provider_refused" };
  let idToken: unknown;
  try {
    idToken = ((await answer.json()) as { id_token?: unknown }).id_token;
  } catch {
    return { ok: false, reason: "malformed_answer" };
  }
  if (typeof idToken !== "string" || idToken.length > 16_384) return { ok: false, reason: "malformed_answer" };
  return verifyIdToken(env, config, fetcher, idToken, input.nonce, input.now);
}

async function verifyIdToken(
  env: Env,
  config: ProviderConfig,
  fetcher: Fetcher,
  idToken: string,
  nonce: string,
  now: number,
): Promise<IdentityResult> {
  const attempt = async (keys: JWTVerifyGetKey) =>
    jwtVerify(idToken, keys, {
      algorithms: ["ES256", "RS256", "PS256"],
      issuer: config.issuer,
      audience: config.clientId,
      currentDate: new Date(now),
      clockTolerance: 60,
      maxTokenAge: 600,
      requiredClaims: ["iss", "sub", "aud", "exp", "iat"],
    });
  try {
    let verified;
    try {
      verified = await attempt(await keySet(env, config, fetcher, now, false));
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
      verified = await attempt(await keySet(env, config, fetcher, now, true));
    }
    const { payload } = verified;
    // OpenID Connect Core §3.1.3.7: with several audiences, azp must be us.
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== config.clientId)
      return { ok: false, reason: "wrong_audience" };
    if (payload.nonce !== nonce) return { ok: false, reason: "wrong_nonce" };
    const person = payload[config.personClaim];
    if (typeof person !== "string" || person.length < 1 || person.length > 128) return { ok: false, reason: "no_person" };
    return { ok: true, personId: person };
  } catch (e) {
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    if (e instanceof errors.JWTClaimValidationFailed) {
      if (e.claim === "iss") return { ok: false, reason: "wrong_issuer" };
      if (e.claim === "aud") return { ok: false, reason: "wrong_audience" };
      return { ok: false, reason: e.claim === "iat" ? "expired" : "malformed_answer" };
    }
    if (e instanceof errors.JWKSNoMatchingKey) return { ok: false, reason: "unknown_key" };
    if (e instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: "bad_signature" };
    if (e instanceof KeysUnavailable) return { ok: false, reason: "provider_unreachable" };
    return { ok: false, reason: "malformed_answer" };
  }
}

class KeysUnavailable extends Error {}

const localSets = new Map<string, JWTVerifyGetKey>();
const remoteSets = new Map<string, { set: JWTVerifyGetKey; fetchedAt: number }>();
const KEYS_FRESH_MS = 10 * 60_000;
const REFETCH_AT_MOST_EVERY_MS = 60_000;

async function keySet(env: Env, config: ProviderConfig, fetcher: Fetcher, now: number, unknownKid: boolean): Promise<JWTVerifyGetKey> {
  const inline = secret(env, "OIDC_JWKS");
  if (inline !== undefined) {
    let set = localSets.get(inline);
    if (!set) {
      set = createLocalJWKSet(JSON.parse(inline) as JSONWebKeySet);
      localSets.set(inline, set);
    }
    if (unknownKid) throw new errors.JWKSNoMatchingKey();
    return set;
  }
  const uri = settingsOf(env).authorization.oidc.jwksUri!;
  const cached = remoteSets.get(uri);
  const stale = !cached || now - cached.fetchedAt > KEYS_FRESH_MS;
  const mayRefetch = !cached || now - cached.fetchedAt > REFETCH_AT_MOST_EVERY_MS;
  if (cached && !stale && !(unknownKid && mayRefetch)) {
    if (unknownKid) throw new errors.JWKSNoMatchingKey();
    return cached.set;
  }
  try {
    const res = await fetcher(new Request(uri, { headers: { accept: "application/json" } }));
    if (!res.ok) throw new KeysUnavailable();
    const set = createLocalJWKSet((await res.json()) as JSONWebKeySet);
    remoteSets.set(uri, { set, fetchedAt: now });
    return set;
  } catch (e) {
    // Keys we had still verify while the provider's key endpoint is down.
    if (cached) return cached.set;
    throw e instanceof KeysUnavailable ? e : new KeysUnavailable();
  }
}
