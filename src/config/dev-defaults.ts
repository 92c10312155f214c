/**
 * Development-only secrets, used only when ENVIRONMENT is "development" (what `npm start` and the tests
 * set). They are public by being in this repository: a deployed Worker never reads them, and refuses to
 * sign or to open its admin API until real secrets are put with `wrangler secret put` (README, Deploy).
 */
export const DEV_ADMIN_TOKEN = "dev-admin-token";

/** HMAC keys for queue tickets: `[{kid, k}]`, k base64url (32 random bytes). */
export const DEV_TICKET_KEYS = JSON.stringify([{ kid: "dev-ticket-1", k: "gpjj7LylSJ7aPO4vvLtAWmlQXxDMmT0knN8D0fHDElM" }]);

/** ES256 private JWKs for admission tokens the protected backend can verify through the JWKS. */
export const DEV_SIGNING_KEYS = JSON.stringify([
  {
    kid: "dev-signing-1",
    kty: "EC",
    crv: "P-256",
    x: "sRGkxCLnriWh-rQfeoQdCmMdMp_EDCnjb8mzHrhYaZo",
    y: "buZv6wTP7_ZO62NX5-PpHBLzPCuigTx46YKb1EaE5s4",
    d: "99e1B_kECHwitXUMVxtjCK1xnlCk-JDnLm3nQVaeOLo",
  },
]);

/**
 * The development identity service's key pair (stands in for the national identity provider, which in
 * a deployment publishes its JWKS: IDENTITY_JWKS). `POST /v1/dev/identity-assertions` signs with it.
 */
export const DEV_IDENTITY_ISSUER = "https://identite.dev.antichambre.invalid";
export const DEV_IDENTITY_KEY = {
  kid: "dev-identity-1",
  kty: "EC",
  crv: "P-256",
  x: "ZBWQKOt1CBa2cpfVXfHlUA4D8Rh9TGIFklm50KpDrsA",
  y: "L1cnQe7-kJXwhWH6ii1EzqNQYqotU_gML8imQh-hFdE",
  d: "ofP7iYorUAIKYcfwEQbZxta7iw5vIG63WnfXlwYzam0",
} as const;

/** Keys the pseudonyms of people in queue storage (HMAC); see src/identity/pseudonym.ts. */
export const DEV_PSEUDONYM_KEY = "zw0Rwh3WlfEbYgOCkiaCffL1i8SzYiwByM1JCB6ygzs";

/**
 * The embedded OpenID Connect provider of development (src/dev/identity-provider.ts): the client the
 * authorization flow's relying party is registered as there. Its ID tokens are signed with
 * DEV_IDENTITY_KEY.
 */
export const DEV_OIDC_CLIENT_ID = "antichambre-dev-relying-party";
export const DEV_OIDC_CLIENT_SECRET = "dev-oidc-client-secret-5d1c0e7a2b";
/** Where the embedded provider is mounted (under the development kit's /v1/dev). */
export const DEV_OIDC_PATH = "/v1/dev/oidc";
/** The embedded provider's public key (its JWKS), DEV_IDENTITY_KEY's public half. */
export const DEV_OIDC_PUBLIC_JWK = {
  kid: DEV_IDENTITY_KEY.kid,
  kty: "EC",
  crv: "P-256",
  x: DEV_IDENTITY_KEY.x,
  y: DEV_IDENTITY_KEY.y,
  alg: "ES256",
  use: "sig",
} as const;
