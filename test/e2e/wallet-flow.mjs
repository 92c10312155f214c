// The e2e run's wallet checks (called by test/e2e/run.mjs): an unmodified OpenID4VCI wallet library
// (tools/lab/wallet.mjs: @openid4vc/openid4vci + @openid4vc/oauth2) through the HAIP authorization code
// flow against the real `npm start`, the person's side of it done by a browser with JavaScript off
// (tools/lab/plain-browser.mjs), and the identity step done by a real OpenID Connect provider in this
// process (test/support/oidc-provider.mjs), the national identity service's stand-in, which the server
// is started configured to use (startIdentityProviderFor).
//
// The flow: metadata → PAR (wallet attestation, PKCE S256, DPoP key) → GET /authorize → the waiting page,
// refreshed until admitted → the identity provider's sign-in form → the redirect to the wallet with
// code, state and iss → token (authorization_code, PKCE verifier, wallet attestation, DPoP with the
// server's nonce) → nonce → credential with a key attestation, for the mdoc and the SD-JWT VC
// configurations, each verified by an independent library (test/support/verify-credentials.mjs) →
// notification. Then what an attacker would try with what the wallet held: the same code again, the
// same request_uri again.
import { Oauth2ClientErrorResponseError } from "@openid4vc/oauth2";
import { SignJWT } from "jose";
import { PlainBrowser, walkAuthorization } from "../../tools/lab/plain-browser.mjs";
import { MDOC_CONFIGURATION, SD_JWT_CONFIGURATION, Wallet } from "../../tools/lab/wallet.mjs";
import { ACCOUNT_FIELD } from "../support/oidc-provider.mjs";
import { assert, assertEqual, CheckError } from "../support/checks.mjs";
import { verifyMdoc, verifySdJwtVc } from "../support/verify-credentials.mjs";

const AUTHORIZATION_DEADLINE_MS = 60_000;
/** The room the flow's browsers wait in: run.mjs starts the server with AUTHORIZATION_ROOM set to it. */
export const WALLET_ROOM = "e2e-wallets";

/**
 * @param {{
 *   base: string,
 *   check: (name: string, fn: () => Promise<unknown>) => Promise<boolean>,
 *   idp: Awaited<ReturnType<typeof import("../support/oidc-provider.mjs").startOidcProvider>>,
 *   putRoom: (room: string, patch: Record<string, unknown>) => Promise<{ status: number, describe: () => string }>,
 *   personId: string,
 *   log: (line: string) => void,
 * }} options
 */
export async function walletFlowChecks({ base, check, idp, putRoom, personId, log }) {
  const ctx = /** @type {Record<string, any>} */ ({});

  await check(
    "wallet library reads the metadata: PAR required, S256, iss, attest_jwt_client_auth, DPoP, a scope per configuration",
    async () => {
      const wallet = new Wallet({ issuer: base });
      await wallet.attest();
      const { Openid4vciClient } = await import("@openid4vc/openid4vci");
      const metadata = await new Openid4vciClient({ callbacks: wallet.callbacks() }).resolveIssuerMetadata(base);
      const as = metadata.authorizationServers[0];
      assert(as, "no authorization server metadata");
      assertEqual(as.issuer, base, "authorization server issuer");
      assertEqual(as.require_pushed_authorization_requests, true, "require_pushed_authorization_requests");
      assert(as.pushed_authorization_request_endpoint?.startsWith(base), `PAR endpoint ${as.pushed_authorization_request_endpoint}`);
      assertEqual(as.code_challenge_methods_supported, ["S256"], "code_challenge_methods_supported");
      assertEqual(as.authorization_response_iss_parameter_supported, true, "authorization_response_iss_parameter_supported");
      assert(as.token_endpoint_auth_methods_supported?.includes("attest_jwt_client_auth"), "attest_jwt_client_auth not advertised");
      assert(as.dpop_signing_alg_values_supported?.includes("ES256"), "DPoP ES256 not advertised");
      for (const id of [MDOC_CONFIGURATION, SD_JWT_CONFIGURATION]) {
        const configuration = metadata.credentialIssuer.credential_configurations_supported[id];
        assert(typeof configuration?.scope === "string", `${id} has no scope`);
      }
      return `client_id ${wallet.clientId}`;
    },
  );

  await check(
    "wallet library + a browser without JavaScript: PAR → waiting page → identity provider → code, state, iss → token (DPoP nonce) → mdoc + SD-JWT VC verified → notification",
    async () => {
      // A paused room: the browser must wait on the waiting page; the room resumes once it has.
      const room = WALLET_ROOM;
      const put = await putRoom(room, { paused: true, new_users_per_minute: 600, shards: 2, admission_ttl_seconds: 300 });
      assert(put.status === 201 || put.status === 200, `create room: ${put.describe()}`);
      const wallet = new Wallet({ issuer: base });
      const browser = new PlainBrowser();
      const idpBefore = { ...idp.counts, by_endpoint: { ...idp.counts.by_endpoint } };
      let resumed = false;
      /** @type {import("../../tools/lab/plain-browser.mjs").AuthorizationWalk | null} */
      let seen = null;
      const authorized = await wallet.authorize({
        configurations: [MDOC_CONFIGURATION, SD_JWT_CONFIGURATION],
        step: async (url, { redirectUri }) => {
          const { redirectedTo, walk } = await walkAuthorization(browser, url, {
            redirectUri,
            fill: { [ACCOUNT_FIELD]: personId },
            deadline: Date.now() + AUTHORIZATION_DEADLINE_MS,
            onPage: async (page, w) => {
              if (!resumed && w.waiting_pages >= 1) {
                resumed = true;
                const res = await putRoom(room, { paused: false });
                assert(res.status === 200, `resume: ${res.describe()}`);
              }
              if (page.status >= 400) throw new CheckError(`${page.status} on ${page.url}: ${page.text.slice(0, 300)}`);
            },
          });
          seen = walk;
          return redirectedTo;
        },
      });
      const walk = /** @type {import("../../tools/lab/plain-browser.mjs").AuthorizationWalk} */ (/** @type {unknown} */ (seen));
      assert(walk.waiting_pages >= 1, `no waiting page seen: ${walk.pages.join(" | ")}`);
      assert(walk.forms >= 1, `no identity form submitted: ${walk.pages.join(" | ")}`);
      assertEqual(authorized.response.iss, base, "iss in the authorization response");
      assertEqual(authorized.token.token_type, "DPoP", "token_type");
      const signIns = idp.counts.sign_ins - idpBefore.sign_ins;
      assertEqual(signIns, 1, "sign-ins at the identity provider");
      const idpTokens = (idp.counts.by_endpoint.token ?? 0) - (idpBefore.by_endpoint.token ?? 0);
      assertEqual(idpTokens, 1, "the service's token requests to the identity provider");

      const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
      const mdoc = await wallet.credential(MDOC_CONFIGURATION);
      const mdocChecks = await verifyMdoc(mdoc.credential, /** @type {any} */ (mdoc.key.publicJwk));
      const sdJwt = await wallet.credential(SD_JWT_CONFIGURATION);
      const claims = await verifySdJwtVc(sdJwt.credential, { issuer: base, jwks, holderJwk: sdJwt.key.publicJwk });
      await wallet.accepted(sdJwt);
      ctx.authorized = authorized;
      ctx.wallet = wallet;
      ctx.browser = browser;
      log(`authorization walk: ${walk.pages.join(" → ")}`);
      return {
        detail: `${personId}: ${walk.waiting_pages} waiting page(s), ${walk.requests} browser requests; mdoc ${mdocChecks.checks} checks passed; SD-JWT VC ${claims.vct}`,
        data: { walk, idp_requests: idp.counts.total - idpBefore.total },
      };
    },
  );

  await check("a key attestation that does not list the proof key is refused: invalid_proof, key_not_attested", async () => {
    if (!ctx.authorized) throw new CheckError("not run: prerequisite failed (authorized)");
    const wallet = ctx.wallet;
    const { Openid4vciClient, Openid4vciRetrieveCredentialsError } = await import("@openid4vc/openid4vci");
    const vci = new Openid4vciClient({ callbacks: wallet.callbacks() });
    const { c_nonce: nonce } = await vci.requestNonce({ issuerMetadata: wallet.metadata });
    const attested = await wallet.key();
    const other = await wallet.key();
    // The library will not sign such a proof (it checks attested_keys itself), so it is made by hand:
    // what an attacker holding someone's key attestation and a key of their own would send.
    const proof = await new SignJWT({ nonce, iss: wallet.clientId })
      .setProtectedHeader({
        alg: "ES256",
        typ: "openid4vci-proof+jwt",
        jwk: other.publicJwk,
        key_attestation: await wallet.keyAttestation([attested], nonce),
      })
      .setAudience(base)
      .setIssuedAt()
      .sign(other.privateKey);
    try {
      await vci.retrieveCredentials({
        issuerMetadata: wallet.metadata,
        credentialConfigurationId: SD_JWT_CONFIGURATION,
        proofs: { jwt: [proof] },
        accessToken: wallet.session.accessToken,
        dpop: wallet.session.dpop,
      });
    } catch (e) {
      if (!(e instanceof Openid4vciRetrieveCredentialsError)) throw e;
      const body = await e.response.response.clone().json();
      assertEqual([e.response.response.status, body.error, body.reason], [400, "invalid_proof", "key_not_attested"], "refusal");
      return `${body.error} (${body.reason})`;
    }
    throw new CheckError("a proof by a key the attestation does not list was accepted");
  });

  await check("the same person through a second wallet and browser: signed in again, but access_denied, no second session", async () => {
    if (!ctx.authorized) throw new CheckError("not run: prerequisite failed (authorized)");
    const wallet = new Wallet({ issuer: base });
    const browser = new PlainBrowser();
    const signInsBefore = idp.counts.sign_ins;
    try {
      await wallet.authorize({
        configurations: [MDOC_CONFIGURATION],
        step: async (url, { redirectUri }) =>
          (
            await walkAuthorization(browser, url, {
              redirectUri,
              fill: { [ACCOUNT_FIELD]: personId },
              deadline: Date.now() + AUTHORIZATION_DEADLINE_MS,
            })
          ).redirectedTo,
      });
    } catch (e) {
      assert(/access_denied/.test(String(e?.message)), `expected access_denied, got ${e?.message}`);
      assertEqual(idp.counts.sign_ins - signInsBefore, 1, "sign-ins of the second browser");
      assertEqual(wallet.session, null, "a session for the second wallet");
      return String(e.message).slice(0, 160);
    }
    throw new CheckError("a second wallet of the same person got an access token");
  });

  await check("the authorization code is single use: the wallet library's second token request gets invalid_grant", async () => {
    if (!ctx.authorized) throw new CheckError("not run: prerequisite failed (authorized)");
    const { Oauth2Client } = await import("@openid4vc/oauth2");
    const wallet = ctx.wallet;
    const oauth = new Oauth2Client({ callbacks: wallet.callbacks() });
    try {
      await oauth.retrieveAuthorizationCodeAccessToken({
        authorizationServerMetadata: wallet.session.authorizationServerMetadata,
        authorizationCode: ctx.authorized.response.code,
        // Everything as the first time (the right verifier, the same DPoP key, a fresh attestation PoP): only the code's reuse is wrong.
        pkceCodeVerifier: ctx.authorized.pkceCodeVerifier,
        redirectUri: wallet.redirectUri,
        dpop: { signer: { method: "jwk", alg: "ES256", publicJwk: wallet.dpopKey.publicJwk } },
      });
    } catch (e) {
      if (!(e instanceof Oauth2ClientErrorResponseError)) throw e;
      assertEqual(e.errorResponse.error, "invalid_grant", "error");
      return `${e.response.status} ${e.errorResponse.error}`;
    }
    throw new CheckError("a used authorization code was redeemed again");
  });

  await check(
    "the request_uri is single use: opening the authorization URL again reaches neither the identity provider nor the wallet with a code",
    async () => {
      if (!ctx.authorized) throw new CheckError("not run: prerequisite failed (authorized)");
      const again = await ctx.browser.request(ctx.authorized.authorizationRequestUrl, {
        stopAt: (/** @type {string} */ u) => u.startsWith(ctx.wallet.redirectUri),
      });
      if (again.status === 0) {
        const params = new URL(again.url).searchParams;
        assert(!params.has("code"), `a second code from a used request_uri: ${again.url}`);
        assert(params.has("error"), `redirected without an error: ${again.url}`);
        return `redirected with error=${params.get("error")}`;
      }
      assert(again.status >= 400 && again.status < 500, `expected a 4xx page, got ${again.status} at ${again.url}`);
      assert(!again.url.startsWith(idp.issuer), `a used request_uri led to the identity provider: ${again.url}`);
      return `${again.status} at ${new URL(again.url).pathname}`;
    },
  );
}
