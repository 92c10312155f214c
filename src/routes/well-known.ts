import { Hono } from "hono";
import { required, secret } from "../config/env";
import { settingsOf } from "../config/settings";
import { pemToDer } from "../credentials/mdoc/pem";
import type { AppEnv } from "../http/app-env";
import { CREDENTIAL_CONFIGURATIONS, credentialConfigurationsSupported, scopeOfConfiguration } from "../issuance/configurations";
import { issuerOrigin } from "../issuance/issuer-url";
import { ATTESTATION_AUTH_METHOD } from "../oauth/client-attestation";
import { sdJwtSignerPublicJwk } from "../issuance/signers";
import { ecKeyring } from "../tickets/keyring";
import { bytesToBase64 } from "../lib/base64";

/**
 * Discovery: the service's public keys and its OpenID4VCI / OAuth metadata, plus the IACA root a
 * verifier needs to trust issued mdocs. All public and cacheable.
 */
export const wellKnown = new Hono<AppEnv>();
export const trustAnchors = new Hono<AppEnv>();

const PUBLIC_CACHE = "public, max-age=300";

/** Public keys of SIGNING_KEYS (admission tokens), each with its `kid`; SD-JWT VC keys are at /.well-known/jwt-vc-issuer. */
wellKnown.get("/jwks.json", async (c) => {
  const keys = await ecKeyring(secret(c.env, "SIGNING_KEYS"));
  c.header("cache-control", PUBLIC_CACHE);
  return c.json({ keys: keys.publicJwks });
});

wellKnown.get("/openid-credential-issuer", async (c) => {
  const issuer = issuerOrigin(c.env, c.req.url);
  const batchSize = settingsOf(c.env).credentialBatchSize;
  c.header("cache-control", PUBLIC_CACHE);
  return c.json({
    credential_issuer: issuer,
    authorization_servers: [issuer],
    credential_endpoint: `${issuer}/credential`,
    nonce_endpoint: `${issuer}/nonce`,
    // Where a request deferred while the licence register was at capacity is completed (OpenID4VCI 1.0 §9).
    deferred_credential_endpoint: `${issuer}/deferred_credential`,
    notification_endpoint: `${issuer}/notification`,
    batch_credential_issuance: { batch_size: batchSize },
    // Where wallets and verifiers fetch the IACA root that anchors every issued mdoc.
    mdoc_iacas_uri: `${issuer}/iacas`,
    iaca_certificate_pem_uri: `${issuer}/iaca.pem`,
    display: [
      { name: "Antichambre — permis de conduire numérique", locale: "fr-FR" },
      { name: "Antichambre — digital driving licence", locale: "en-US" },
    ],
    credential_configurations_supported: credentialConfigurationsSupported(settingsOf(c.env).keyAttestations),
  });
});

wellKnown.get("/oauth-authorization-server", (c) => {
  const issuer = issuerOrigin(c.env, c.req.url);
  c.header("cache-control", PUBLIC_CACHE);
  // RFC 8414 with RFC 9126 (PAR), RFC 7636 (PKCE), RFC 9207 (iss), RFC 9449 (DPoP), as HAIP 1.0 asks.
  // The pre-authorized grant needs no client authentication (the app's device key is bound by DPoP);
  // the authorization code grant authenticates the wallet by its attestation.
  return c.json({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    pushed_authorization_request_endpoint: `${issuer}/par`,
    require_pushed_authorization_requests: true,
    grant_types_supported: ["authorization_code", "urn:ietf:params:oauth:grant-type:pre-authorized_code"],
    "pre-authorized_grant_anonymous_access_supported": true,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    code_challenge_methods_supported: ["S256"],
    authorization_response_iss_parameter_supported: true,
    // "none": the pre-authorized code is bound to the admitted device's key; wallets with a wallet
    // attestation authenticate with it (src/oauth/client-attestation.ts).
    token_endpoint_auth_methods_supported: ["none", ATTESTATION_AUTH_METHOD],
    client_attestation_signing_alg_values_supported: ["ES256"],
    client_attestation_pop_signing_alg_values_supported: ["ES256"],
    dpop_signing_alg_values_supported: ["ES256"],
    scopes_supported: Object.values(CREDENTIAL_CONFIGURATIONS).map(scopeOfConfiguration),
    authorization_details_types_supported: ["openid_credential"],
  });
});

/**
 * SD-JWT VC issuer metadata (draft-ietf-oauth-sd-jwt-vc section 5): how verifiers that do not use the
 * credential's `x5c` find its key (`kid`): the SD-JWT VC signer's, then the SIGNING_KEYS that signed
 * SD-JWT VCs before the signer had its own certificate (they stay valid until they expire).
 */
wellKnown.get("/jwt-vc-issuer", async (c) => {
  const keys = await ecKeyring(secret(c.env, "SIGNING_KEYS"));
  c.header("cache-control", PUBLIC_CACHE);
  return c.json({ issuer: issuerOrigin(c.env, c.req.url), jwks: { keys: [sdJwtSignerPublicJwk(c.env), ...keys.publicJwks] } });
});

trustAnchors.get("/iaca.pem", (c) => {
  c.header("cache-control", PUBLIC_CACHE);
  return c.body(required(c.env, "IACA_CERT"), 200, { "content-type": "application/x-pem-file" });
});

/** The shape wallets using `mdoc_iacas_uri` expect: base64 DER certificates. */
trustAnchors.get("/iacas", (c) => {
  const der = pemToDer(required(c.env, "IACA_CERT"));
  c.header("cache-control", PUBLIC_CACHE);
  return c.json({ iacas: [{ certificate: bytesToBase64(der) }] });
});
