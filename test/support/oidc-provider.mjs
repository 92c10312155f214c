// @ts-check
// The national identity service's stand-in for the runners that drive a real `npm start`: a real OpenID
// Connect provider (the `oidc-provider` package, unmodified) in this Node process, on a loopback port of
// its own. Not a hand-written fake: discovery, the authorization endpoint, sessions and interactions,
// PKCE, client authentication, ES256-signed ID tokens and the JWKS are the library's. What is ours:
//
// - the accounts: the people of the synthetic register (src/register/seed.ts: FR-000001 … FR-010000
//   hold a licence) plus a few people the identity service knows who hold none (FR-010001 …
//   FR-010010), as the real service knows everyone and the register only licence holders;
// - the interaction: one plain HTML form (no JavaScript, no external resource) that takes the account id,
//   so a plain HTTP client can submit it as well as a browser;
// - consent: the Worker is a first-party client of this service, so a grant for what it asked is made
//   at sign-in (loadExistingGrant) instead of a consent page;
// - counters of the requests it serves, by endpoint: the surge lab reports them against admissions.
//
// Used by test/e2e/wallet-flow.mjs, test/browser/wallet-flow.mjs and `npm run surge -- --flow
// authorization_code --idp oidc-provider`.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

/** The synthetic register's population (REGISTER_POPULATION in src/register/seed.ts). */
const REGISTER_POPULATION = 10_000;
/** People the identity service knows who hold no licence: the NO_LICENCE ids after the population. */
const NO_LICENCE = 10;

/**
 * Whether the identity service knows this person (see the header).
 * @param {string} id
 */
export function isKnownPerson(id) {
  const m = /^FR-(\d{6})$/.exec(id);
  if (!m) return false;
  const n = Number(m[1]);
  return n >= 1 && n <= REGISTER_POPULATION + NO_LICENCE;
}

/** The name of the sign-in form's account field, for the clients that fill it in. */
export const ACCOUNT_FIELD = "account_id";

/**
 * What a relying party registers with the provider.
 * @typedef {{
 *   client_id: string,
 *   client_secret?: string,
 *   redirect_uris: string[],
 *   token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "none",
 * }} RelyingParty
 */

/**
 * Requests served, by endpoint ("authorization", "token", "jwks", "discovery", "interaction", "userinfo",
 * "other"), and sign-ins completed.
 * @typedef {{ total: number, by_endpoint: Record<string, number>, sign_ins: number, refused_sign_ins: number }} ProviderCounts
 */

/**
 * @param {string} pathname
 * @returns {string}
 */
function endpointOf(pathname) {
  if (pathname === "/auth" || pathname.startsWith("/auth/")) return "authorization";
  if (pathname === "/token") return "token";
  if (pathname === "/jwks") return "jwks";
  if (pathname.startsWith("/.well-known/")) return "discovery";
  if (pathname.startsWith("/interaction/")) return "interaction";
  if (pathname === "/me") return "userinfo";
  return "other";
}

/**
 * @param {string} s
 */
const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The sign-in page: a plain form, in French and English, that works without JavaScript.
 * @param {{ uid: string, client: string, error?: string, value?: string }} p
 */
function signInPage({ uid, client, error, value = "" }) {
  return `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Identité numérique (test) / Digital identity (test)</title></head>
<body>
<main>
<h1>Identité numérique — service de test</h1>
<p lang="en">Digital identity — test service</p>
<p>${escapeHtml(client)} demande votre identité. <span lang="en">${escapeHtml(client)} asks who you are.</span></p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ""}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="${ACCOUNT_FIELD}">Identifiant (FR-000001 … FR-010010) <span lang="en">Person id</span></label>
<input id="${ACCOUNT_FIELD}" name="${ACCOUNT_FIELD}" type="text" required autocomplete="username" value="${escapeHtml(value)}">
<button type="submit">Se connecter <span lang="en">Sign in</span></button>
</form>
</main>
</body>
</html>`;
}

/**
 * A URL-encoded form body, at most 4 KiB.
 * @param {import("node:http").IncomingMessage} req
 * @returns {Promise<URLSearchParams>}
 */
async function formBody(req) {
  let text = "";
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 4096) throw new Error("form too large");
  }
  return new URLSearchParams(text);
}

/**
 * Starts the provider on 127.0.0.1 (`port` 0: any free port).
 * @param {{ clients: RelyingParty[], port?: number, log?: (line: string) => void }} options
 */
export async function startOidcProvider({ clients, port = 0, log = () => {} }) {
  /** @type {ProviderCounts} */
  const counts = { total: 0, by_endpoint: {}, sign_ins: 0, refused_sign_ins: 0 };
  /** Set once listening: the provider needs its issuer URL, which needs the port. @type {any} */
  let provider = null;
  /** @type {((req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void) | null} */
  let handle = null;

  const server = createServer((req, res) => {
    const { pathname } = new URL(req.url ?? "/", "http://localhost");
    // Browsers ask for it on every page; the provider has none.
    if (pathname === "/favicon.ico") return void res.writeHead(204).end();
    const endpoint = endpointOf(pathname);
    counts.total++;
    counts.by_endpoint[endpoint] = (counts.by_endpoint[endpoint] ?? 0) + 1;
    const interaction = /^\/interaction\/([\w-]{1,64})(\/login)?$/.exec(pathname);
    const done = interaction ? interact(req, res, interaction[1] ?? "", Boolean(interaction[2])) : Promise.resolve(handle?.(req, res));
    done.catch((/** @type {any} */ e) => {
      log(`oidc-provider: ${req.method} ${pathname}: ${e?.message ?? e}`);
      if (!res.headersSent) {
        res.writeHead(e?.statusCode ?? 500, { "content-type": "text/plain; charset=utf-8" });
        res.end(`${e?.name ?? "Error"}: ${e?.error_description ?? e?.message ?? e}`);
      }
    });
  });

  /**
   * GET: the sign-in form; POST …/login: the account id, then back to the provider (303).
   * @param {import("node:http").IncomingMessage} req
   * @param {import("node:http").ServerResponse} res
   * @param {string} uid
   * @param {boolean} login
   */
  async function interact(req, res, uid, login) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw Object.assign(new Error("interaction does not match the session"), { statusCode: 400 });
    const client = String(details.params.client_id ?? "");
    const html = (/** @type {number} */ status, /** @type {string} */ body) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(body);
    };
    if (!login || req.method !== "POST") {
      if (req.method !== "GET") return html(405, "method not allowed");
      return html(200, signInPage({ uid, client }));
    }
    const accountId = ((await formBody(req)).get(ACCOUNT_FIELD) ?? "").trim();
    if (!isKnownPerson(accountId)) {
      counts.refused_sign_ins++;
      return html(200, signInPage({ uid, client, value: accountId, error: "Identifiant inconnu. / Unknown person id." }));
    }
    counts.sign_ins++;
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
  }

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(undefined));
  });
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  const issuer = `http://127.0.0.1:${address.port}`;

  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: `idp-${randomBytes(4).toString("hex")}`, alg: "ES256", use: "sig" };

  provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      token_endpoint_auth_method: "client_secret_basic",
      ...c,
      response_types: ["code"],
      grant_types: ["authorization_code"],
      id_token_signed_response_alg: "ES256",
    })),
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (/** @type {any} */ _ctx, /** @type {any} */ interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    // Lifetimes stated, as a deployment would (the library's defaults are only for quick starts).
    ttl: { Interaction: 600, Session: 3_600, Grant: 3_600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    claims: { openid: ["sub"] },
    findAccount: (/** @type {any} */ _ctx, /** @type {string} */ id) =>
      isKnownPerson(id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined,
    // A first-party client: the grant covers what it asked for, made at sign-in (no consent page).
    loadExistingGrant: async (/** @type {any} */ ctx) => {
      const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(" "));
      const claims = [...(ctx.oidc.requestParamClaims ?? [])];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    renderError: (/** @type {any} */ ctx, /** @type {any} */ out) => {
      ctx.type = "text/plain; charset=utf-8";
      ctx.body = `${out.error}: ${out.error_description ?? ""}`;
    },
  });
  provider.on("server_error", (/** @type {any} */ _ctx, /** @type {any} */ e) => log(`oidc-provider server_error: ${e?.stack ?? e}`));
  handle = provider.callback();

  return {
    issuer,
    counts,
    /** The provider's ES256 public signing key, as its JWKS publishes it. */
    publicJwk: {
      kty: signingKey.kty,
      crv: signingKey.crv,
      x: signingKey.x,
      y: signingKey.y,
      kid: signingKey.kid,
      alg: "ES256",
      use: "sig",
    },
    /** Closes the listener and every open connection. */
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}

/** The relying party the service is at the identity provider (docs/authorization-flow.md: OIDC_*). */
const SERVICE_CLIENT_ID = "antichambre";
/** Where the identity provider sends the person back to the service (CALLBACK_PATH, src/oauth/authorization.ts). */
const IDENTITY_CALLBACK_PATH = "/authorize/callback";

/**
 * Starts the provider for a service that will listen at `base`, with the service registered as its
 * client (a fresh secret per run). Returns the provider and the `npm start` options that point the
 * service at it.
 * @param {string} base
 * @param {(line: string) => void} [log]
 */
export async function startIdentityProviderFor(base, log) {
  const secret = randomBytes(24).toString("base64url");
  const idp = await startOidcProvider({
    clients: [{ client_id: SERVICE_CLIENT_ID, client_secret: secret, redirect_uris: [`${base}${IDENTITY_CALLBACK_PATH}`] }],
    log,
  });
  // The service's relying-party settings (docs/authorization-flow.md); oidc-provider's default routes.
  const vars = {
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: SERVICE_CLIENT_ID,
    OIDC_CLIENT_SECRET: secret,
    OIDC_AUTHORIZATION_ENDPOINT: `${idp.issuer}/auth`,
    OIDC_TOKEN_ENDPOINT: `${idp.issuer}/token`,
    OIDC_JWKS_URI: `${idp.issuer}/jwks`,
  };
  return { idp, args: Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]) };
}
