import { Hono } from "hono";
import { base64url, importJWK, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { DEV_IDENTITY_KEY, DEV_OIDC_CLIENT_ID, DEV_OIDC_CLIENT_SECRET, DEV_OIDC_PATH, DEV_OIDC_PUBLIC_JWK } from "../config/dev-defaults";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { renderShell, newNonce, pageHeaders } from "../pages/document";
import { html } from "../pages/html";
import { negotiateLang } from "../pages/i18n";
import { syntheticHolder } from "../register/seed";
import { verifierMatches } from "../oauth/pkce";

/**
 * The development stand-in for the national identity service in the authorization code flow: a real
 * OpenID Connect provider surface (authorization endpoint with a plain HTML form, token endpoint with
 * client_secret_basic / client_secret_post and PKCE, JWKS, discovery; ID tokens ES256), so the relying
 * party code (src/oauth/identity-provider.ts) is the same against it, against a Node oidc-provider in
 * the e2e, and against the national service in production.
 *
 * Mounted at /v1/dev/oidc by the development kit only. Its codes are short-lived ES256 JWTs it signs
 * for itself (stateless); unlike a production provider it does not remember them as used, which only
 * this development stand-in may skip: the relying party exchanges each code once anyway.
 */
export const devIdentityProvider = new Hono<AppEnv>();

const CODE_LIFETIME_SECONDS = 60;
const ID_TOKEN_LIFETIME_SECONDS = 300;
/** Demo licence holders offered on the form (the seeded register's first ones). */
const DEMO_HOLDERS = 12;

let signingKey: Promise<CryptoKey> | null = null;
function key(): Promise<CryptoKey> {
  signingKey ??= importJWK({ ...DEV_IDENTITY_KEY, alg: "ES256" }, "ES256") as Promise<CryptoKey>;
  return signingKey;
}

let verifyingKey: Promise<CryptoKey> | null = null;
function publicKey(): Promise<CryptoKey> {
  const { d: _private, ...rest } = DEV_IDENTITY_KEY;
  verifyingKey ??= importJWK({ ...rest, alg: "ES256" }, "ES256") as Promise<CryptoKey>;
  return verifyingKey;
}

function issuerOf(url: string): string {
  return `${new URL(url).origin}${DEV_OIDC_PATH}`;
}

const AuthorizeSchema = z.object({
  response_type: z.literal("code"),
  client_id: z.literal(DEV_OIDC_CLIENT_ID),
  redirect_uri: z.url().max(1024),
  scope: z
    .string()
    .max(512)
    .refine((s) => s.split(" ").includes("openid"), "scope must include openid"),
  state: z.string().min(1).max(512),
  nonce: z.string().min(1).max(512),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  code_challenge_method: z.literal("S256"),
});

function badRequest(what: string): ApiError {
  return new ApiError("invalid_request", `development identity provider: ${what}`);
}

devIdentityProvider.get("/.well-known/openid-configuration", (c) => {
  const issuer = issuerOf(c.req.url);
  return c.json({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ["code"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: ["ES256"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
  });
});

devIdentityProvider.get("/jwks", (c) => c.json({ keys: [DEV_OIDC_PUBLIC_JWK] }));

/** The login page: pick a demo licence holder (or type any person id: one without a licence is allowed too). */
devIdentityProvider.get("/authorize", (c) => {
  const parsed = AuthorizeSchema.safeParse(c.req.query());
  if (!parsed.success) throw badRequest(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const q = parsed.data;
  const lang = negotiateLang(c.req.query("lang"), c.req.header("accept-language"));
  const nonce = newNonce();
  const en = lang === "en";
  const holders = Array.from({ length: DEMO_HOLDERS }, (_, i) => syntheticHolder(i + 1));
  const hidden = (["redirect_uri", "state", "nonce", "code_challenge"] as const).map(
    (name) => html`<input type="hidden" name="${name}" value="${q[name]}">`,
  );
  const body = html`<main id="main">
<h1>${en ? "Development identity service" : "Service d'identité de développement"}</h1>
<p>${en ? "Choose who you are. Only for development: no password is asked." : "Choisissez qui vous êtes. Développement seulement : aucun mot de passe n'est demandé."}</p>
<form method="post" action="${DEV_OIDC_PATH}/authorize" id="dev-identity-form">
${hidden}
<fieldset>
<legend>${en ? "Demo licence holders" : "Titulaires de démonstration"}</legend>
${holders.map(
  (h, i) =>
    html`<div><input type="radio" name="person_id" id="holder-${i + 1}" value="${h.person_id}"${i === 0 ? html` checked` : ""}><label for="holder-${i + 1}">${h.given_name} ${h.family_name} (${h.person_id})</label></div>`,
)}
</fieldset>
<button type="submit" id="dev-identity-submit">${en ? "Sign in" : "Se connecter"}</button>
</form>
</main>`;
  return c.html(
    renderShell({ lang, title: en ? "Sign in (development)" : "Connexion (développement)", nonce, body }),
    200,
    pageHeaders(nonce),
  );
});

const ConsentSchema = z.object({
  person_id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  redirect_uri: z.url().max(1024),
  state: z.string().min(1).max(512),
  nonce: z.string().min(1).max(512),
  code_challenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

devIdentityProvider.post("/authorize", async (c) => {
  const parsed = ConsentSchema.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())));
  if (!parsed.success) throw badRequest("the form is incomplete");
  const f = parsed.data;
  const issuer = issuerOf(c.req.url);
  const iat = Math.floor(clock.now() / 1000);
  const code = await new SignJWT({ nonce: f.nonce, ru: f.redirect_uri, cc: f.code_challenge })
    .setProtectedHeader({ alg: "ES256", kid: DEV_IDENTITY_KEY.kid, typ: "dev-oidc-code+jwt" })
    .setIssuer(issuer)
    .setSubject(f.person_id)
    .setAudience(DEV_OIDC_CLIENT_ID)
    .setIssuedAt(iat)
    .setExpirationTime(iat + CODE_LIFETIME_SECONDS)
    .sign(await key());
  const target = new URL(f.redirect_uri);
  target.searchParams.set("code", code);
  target.searchParams.set("state", f.state);
  target.searchParams.set("iss", issuer);
  return c.redirect(target.toString(), 303);
});

const TokenSchema = z.object({
  grant_type: z.literal("authorization_code"),
  code: z.string().min(1).max(4096),
  redirect_uri: z.string().max(1024),
  code_verifier: z.string().max(128),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

/** Its refusals are the service's own problem documents, with the OAuth `error` member (RFC 6749 §5.2). */
function oauthError(error: "invalid_request" | "invalid_client" | "invalid_grant", description: string): never {
  throw new ApiError(error, `development identity provider: ${description}`);
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? "");
  if (!m) return null;
  try {
    const decoded = atob(m[1]!);
    const colon = decoded.indexOf(":");
    if (colon < 0) return null;
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    // Not base64, or not percent-encoding: no credentials.
    return null;
  }
}

devIdentityProvider.post("/token", async (c) => {
  const parsed = TokenSchema.safeParse(Object.fromEntries(new URLSearchParams(await c.req.text())));
  if (!parsed.success) oauthError("invalid_request", "malformed token request");
  const t = parsed.data;
  const basic = basicCredentials(c.req.header("authorization"));
  const client =
    basic ?? (t.client_id !== undefined && t.client_secret !== undefined ? { id: t.client_id, secret: t.client_secret } : null);
  if (!client || client.id !== DEV_OIDC_CLIENT_ID || client.secret !== DEV_OIDC_CLIENT_SECRET)
    oauthError("invalid_client", "unknown client or wrong secret");
  const issuer = issuerOf(c.req.url);
  let claims;
  try {
    claims = (
      await jwtVerify(t.code, await publicKey(), {
        typ: "dev-oidc-code+jwt",
        issuer,
        audience: DEV_OIDC_CLIENT_ID,
        currentDate: new Date(clock.now()),
        requiredClaims: ["sub", "exp"],
      })
    ).payload;
  } catch {
    oauthError("invalid_grant", "the code is not valid");
  }
  if (claims.ru !== t.redirect_uri) oauthError("invalid_grant", "redirect_uri differs from the authorization request's");
  if (!(await verifierMatches(t.code_verifier, String(claims.cc)))) oauthError("invalid_grant", "wrong code_verifier");
  const iat = Math.floor(clock.now() / 1000);
  const idToken = await new SignJWT({ nonce: claims.nonce, auth_time: iat })
    .setProtectedHeader({ alg: "ES256", kid: DEV_IDENTITY_KEY.kid, typ: "JWT" })
    .setIssuer(issuer)
    .setSubject(claims.sub!)
    .setAudience(DEV_OIDC_CLIENT_ID)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ID_TOKEN_LIFETIME_SECONDS)
    .sign(await key());
  return c.json(
    { access_token: base64url.encode(crypto.getRandomValues(new Uint8Array(24))), token_type: "Bearer", expires_in: 60, id_token: idToken },
    200,
    { "cache-control": "no-store" },
  );
});
