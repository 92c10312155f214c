// @ts-check
// A standard EUDI wallet, as far as the issuer can tell: the OpenWallet Foundation's OpenID4VCI wallet
// library (@openid4vc/openid4vci with @openid4vc/oauth2), unmodified, drives the HAIP authorization code
// flow against the service. The library does the protocol (metadata, PAR with client attestation, PKCE,
// the authorization response's `iss` check, the token request with DPoP and its nonce retry, nonces,
// proofs with a key attestation, credential and notification requests); this module only gives it what
// a wallet app gives it: keys and crypto (the callbacks, on node:crypto and jose), a fetch, and its wallet
// provider's attestations (here the development wallet provider the service mounts in development).
// Why not the library's own Openid4vciWalletProvider for those: its key attestations carry the draft
// `typ` "keyattestation+jwt", which the service refuses (OpenID4VCI 1.0 appendix D.1 says
// "key-attestation+jwt"); see docs/testing-wallets.md.
//
// The authorization step in between (the person's browser: the waiting page, the identity provider) is
// the caller's: `authorize` hands it the authorization URL and takes back the redirect URL the browser
// ended at. The e2e run passes a plain HTTP browser (plain-browser.mjs), the browser test Chromium.
import { createHash, randomBytes } from "node:crypto";
import { clientAuthenticationClientAttestationJwt, Oauth2Client } from "@openid4vc/oauth2";
import { extractScopesForCredentialConfigurationIds, Openid4vciClient, setGlobalConfig } from "@openid4vc/openid4vci";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";

// The service under test listens on http://127.0.0.1: the library refuses http URLs unless told.
setGlobalConfig({ allowInsecureUrls: true });

export const MDOC_CONFIGURATION = "fr.antichambre.mdl.mso_mdoc";
export const SD_JWT_CONFIGURATION = "fr.antichambre.mdl.dc_sd_jwt";

/**
 * A key pair the wallet holds: its public JWK (what the library's signers name) and its private key.
 * @typedef {{ publicJwk: import("jose").JWK & { kty: string }, privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"], thumbprint: string }} WalletKey
 */

/** @returns {Promise<WalletKey>} */
async function newKey() {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const jwk = await exportJWK(publicKey);
  const publicJwk = { kty: "EC", crv: jwk.crv, x: jwk.x, y: jwk.y };
  return { publicJwk, privateKey, thumbprint: await calculateJwkThumbprint(publicJwk, "sha256") };
}

/**
 * What the authorization step ends with: the URL the wallet's redirect_uri was called with.
 * @callback AuthorizationStep
 * @param {string} authorizationRequestUrl
 * @param {{ redirectUri: string }} context
 * @returns {Promise<string>}
 */

/**
 * One credential as the wallet received it, with the key it is bound to.
 * @typedef {{ configuration: string, credential: string, key: WalletKey, notificationId?: string }} ReceivedCredential
 */

/**
 * A POST to the development wallet provider the service mounts in development (src/dev/wallet-provider.ts:
 * /v1/dev/wallet-attestations, /v1/dev/key-attestations), signed with its certificate, which a development
 * deployment trusts. It stands for the wallet provider's backend a real wallet asks for its attestations.
 * @param {typeof fetch} f
 * @param {string} url
 * @param {unknown} body
 * @returns {Promise<any>}
 */
async function walletProvider(f, url, body) {
  const res = await f(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`wallet provider ${new URL(url).pathname}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export class Wallet {
  /**
   * @param {{ issuer: string, fetch?: typeof fetch, redirectUri?: string }} options `issuer`: the credential issuer (the service's origin)
   */
  constructor({ issuer, fetch: f = fetch, redirectUri = "https://wallet.example/callback" }) {
    this.issuer = issuer;
    this.fetch = f;
    this.redirectUri = redirectUri;
    /** Every key this wallet made, by JWK thumbprint: the library's signers name keys by public JWK. @type {Map<string, WalletKey>} */
    this.keys = new Map();
    /** @type {WalletKey | null} */
    this.instanceKey = null;
    /** @type {WalletKey | null} */
    this.dpopKey = null;
    /** @type {string | null} */
    this.clientId = null;
    /** @type {string | null} */
    this.walletAttestation = null;
    /** Set by `authorize`. @type {{ accessToken: string, dpop: any, authorizationServerMetadata: any } | null} */
    this.session = null;
    /** @type {any} */
    this.metadata = null;
  }

  /** @returns {Promise<WalletKey>} */
  async key() {
    const k = await newKey();
    this.keys.set(k.thumbprint, k);
    return k;
  }

  /**
   * The library's callbacks (CallbackContext), on node:crypto and jose.
   * @returns {any}
   */
  callbacks() {
    const signJwt = async (/** @type {any} */ signer, /** @type {{ header: any, payload: any }} */ jwt) => {
      if (signer.method !== "jwk") throw new Error(`this wallet signs with its own JWKs only, not ${signer.method}`);
      const thumbprint = await calculateJwkThumbprint(signer.publicJwk, "sha256");
      const key = this.keys.get(thumbprint);
      if (!key) throw new Error(`no private key for ${thumbprint}`);
      const compact = await new SignJWT(jwt.payload).setProtectedHeader(jwt.header).sign(key.privateKey);
      return { jwt: compact, signerJwk: key.publicJwk };
    };
    const base = {
      fetch: this.fetch,
      hash: (/** @type {Uint8Array} */ data, /** @type {string} */ alg) =>
        new Uint8Array(createHash(alg.replace("-", "")).update(data).digest()),
      generateRandom: (/** @type {number} */ n) => new Uint8Array(randomBytes(n)),
      signJwt,
    };
    if (!this.walletAttestation) throw new Error("no wallet attestation yet: call attest() first");
    return {
      ...base,
      clientAuthentication: clientAuthenticationClientAttestationJwt({ clientAttestationJwt: this.walletAttestation, callbacks: base }),
    };
  }

  /**
   * The wallet instance's attestation from its wallet provider: a client_id of this instance's own, and
   * `cnf.jwk` = the instance key, which signs each client attestation PoP the library sends with PAR
   * and token requests.
   */
  async attest() {
    this.instanceKey = await this.key();
    this.clientId = `https://wallet.example/instances/${randomBytes(8).toString("hex")}`;
    const answer = await walletProvider(this.fetch, `${this.issuer}/v1/dev/wallet-attestations`, {
      client_id: this.clientId,
      jwk: this.instanceKey.publicJwk,
    });
    this.walletAttestation = answer.wallet_attestation;
  }

  /**
   * A key attestation for `keys` (OpenID4VCI 1.0 appendix D) from the wallet provider: attack potential
   * resistance high (ISO 18045) for the key storage and the user authentication, with the issuer's
   * c_nonce when given.
   * @param {WalletKey[]} keys
   * @param {string} [nonce]
   * @returns {Promise<string>}
   */
  async keyAttestation(keys, nonce) {
    const answer = await walletProvider(this.fetch, `${this.issuer}/v1/dev/key-attestations`, {
      attested_keys: keys.map((k) => k.publicJwk),
      key_storage: ["iso_18045_high"],
      user_authentication: ["iso_18045_high"],
      ...(nonce ? { nonce } : {}),
    });
    return answer.key_attestation;
  }

  /**
   * Metadata → PAR (client attestation, PKCE S256, DPoP key) → the authorization step → the response's
   * `state` and `iss` checked → token (authorization_code, PKCE verifier, client attestation, DPoP with
   * the server's nonce). Leaves the access token in `this.session`.
   * @param {{ configurations: string[], step: AuthorizationStep }} options
   */
  async authorize({ configurations, step }) {
    if (!this.walletAttestation) await this.attest();
    const callbacks = this.callbacks();
    const vci = new Openid4vciClient({ callbacks });
    const oauth = new Oauth2Client({ callbacks });
    this.metadata = await vci.resolveIssuerMetadata(this.issuer);
    const authorizationServerMetadata = this.metadata.authorizationServers[0];
    if (!authorizationServerMetadata) throw new Error("no authorization server metadata");
    this.dpopKey = await this.key();
    const dpopSigner = { method: "jwk", alg: "ES256", publicJwk: this.dpopKey.publicJwk };
    const state = randomBytes(16).toString("base64url");
    const scope = extractScopesForCredentialConfigurationIds({
      credentialConfigurationIds: configurations,
      issuerMetadata: this.metadata,
      throwOnConfigurationWithoutScope: true,
    })?.join(" ");
    const started = await oauth.initiateAuthorization({
      authorizationServerMetadata,
      clientId: /** @type {string} */ (this.clientId),
      redirectUri: this.redirectUri,
      scope,
      state,
      resource: this.metadata.credentialIssuer.credential_issuer,
      dpop: { signer: /** @type {any} */ (dpopSigner) },
    });
    if (!started.pkce) throw new Error("the authorization server did not offer PKCE");
    const redirectedTo = await step(started.authorizationRequestUrl, { redirectUri: this.redirectUri });
    // Parses code/state/iss and checks iss against the authorization server's metadata (RFC 9207).
    const response = oauth.parseAuthorizationResponseRedirectUrl({ url: redirectedTo });
    oauth.verifyAuthorizationResponse({ authorizationResponse: response, authorizationServerMetadata });
    if (response.error) throw new Error(`authorization error: ${response.error} ${response.error_description ?? ""}`);
    if (response.state !== state) throw new Error(`state mismatch: sent ${state}, got ${response.state}`);
    if (response.iss !== authorizationServerMetadata.issuer)
      throw new Error(`iss ${response.iss} is not ${authorizationServerMetadata.issuer}`);
    const token = await oauth.retrieveAuthorizationCodeAccessToken({
      authorizationServerMetadata,
      authorizationCode: /** @type {string} */ (response.code),
      pkceCodeVerifier: started.pkce.codeVerifier,
      redirectUri: this.redirectUri,
      resource: this.metadata.credentialIssuer.credential_issuer,
      // PAR's answer may have carried a DPoP nonce already (null when it did not).
      dpop: { signer: /** @type {any} */ (dpopSigner), nonce: started.dpop?.nonce ?? undefined },
    });
    this.session = { accessToken: token.accessTokenResponse.access_token, dpop: token.dpop, authorizationServerMetadata };
    return {
      response,
      token: token.accessTokenResponse,
      redirectedTo,
      authorizationRequestUrl: started.authorizationRequestUrl,
      pkceCodeVerifier: started.pkce.codeVerifier,
    };
  }

  /**
   * nonce → a fresh credential key → its key attestation (with the c_nonce) → the jwt proof carrying it
   * → the credential request (DPoP, the library retrying with a new DPoP nonce when asked).
   * @param {string} configuration
   * @returns {Promise<ReceivedCredential>}
   */
  async credential(configuration) {
    if (!this.session) throw new Error("not authorized");
    const vci = new Openid4vciClient({ callbacks: this.callbacks() });
    const { c_nonce: nonce } = await vci.requestNonce({ issuerMetadata: this.metadata });
    const key = await this.key();
    const keyAttestationJwt = await this.keyAttestation([key], nonce);
    const { jwt } = await vci.createCredentialRequestJwtProof({
      issuerMetadata: this.metadata,
      credentialConfigurationId: configuration,
      signer: { method: "jwk", alg: "ES256", publicJwk: key.publicJwk },
      nonce,
      clientId: /** @type {string} */ (this.clientId),
      keyAttestationJwt,
    });
    const answer = await vci.retrieveCredentials({
      issuerMetadata: this.metadata,
      credentialConfigurationId: configuration,
      proofs: { jwt: [jwt] },
      accessToken: this.session.accessToken,
      dpop: this.session.dpop,
    });
    if (answer.dpop) this.session.dpop = { ...this.session.dpop, ...answer.dpop };
    const body = answer.credentialResponse;
    const first = body.credentials?.[0];
    const credential = typeof first === "string" ? first : first?.credential;
    if (typeof credential !== "string") throw new Error(`no credential in ${JSON.stringify(body).slice(0, 300)}`);
    return { configuration, credential, key, notificationId: body.notification_id };
  }

  /**
   * credential_accepted for a received credential.
   * @param {ReceivedCredential} received
   */
  async accepted(received) {
    if (!this.session || !received.notificationId) return;
    const vci = new Openid4vciClient({ callbacks: this.callbacks() });
    await vci.sendNotification({
      issuerMetadata: this.metadata,
      notification: { notificationId: received.notificationId, event: "credential_accepted" },
      accessToken: this.session.accessToken,
      dpop: this.session.dpop,
    });
  }
}
