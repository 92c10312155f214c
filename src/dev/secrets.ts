import {
  DEV_IACA_CERT_PEM,
  DEV_MDOC_DS_CERT_PEM,
  DEV_MDOC_DS_KEY,
  DEV_SD_JWT_SIGNER_CERT_PEM,
  DEV_SD_JWT_SIGNER_KEY,
  DEV_STATUS_LIST_CERT_PEM,
  DEV_STATUS_LIST_KEY,
} from "../config/dev-credentials";
import {
  DEV_ADMIN_TOKEN,
  DEV_IDENTITY_ISSUER,
  DEV_IDENTITY_KEY,
  DEV_OIDC_CLIENT_ID,
  DEV_OIDC_CLIENT_SECRET,
  DEV_OIDC_PATH,
  DEV_OIDC_PUBLIC_JWK,
  DEV_PSEUDONYM_KEY,
  DEV_SIGNING_KEYS,
  DEV_TICKET_KEYS,
} from "../config/dev-defaults";
import { DEV_WALLET_PROVIDER_CA_PEM } from "../config/dev-wallet-provider";
import type { Env, SecretName } from "../config/env";

/**
 * The development default of every secret (public: they are in this repository). Only the development
 * entry reaches this module; test/build/production-bundle.test.mjs checks that none of these values is
 * in the bundle `wrangler deploy` builds. The identity provider's client secret and keys are not here:
 * they come with the provider's endpoints as one set (withDevIdentityProvider), or not at all.
 */
export const DEV_SECRETS: Readonly<Record<Exclude<SecretName, "OIDC_CLIENT_SECRET" | "OIDC_JWKS">, string>> = {
  ADMIN_TOKEN: DEV_ADMIN_TOKEN,
  TICKET_KEYS: DEV_TICKET_KEYS,
  SIGNING_KEYS: DEV_SIGNING_KEYS,
  PSEUDONYM_KEY: DEV_PSEUDONYM_KEY,
  IDENTITY_JWKS: JSON.stringify({
    keys: [{ kid: DEV_IDENTITY_KEY.kid, kty: "EC", crv: "P-256", x: DEV_IDENTITY_KEY.x, y: DEV_IDENTITY_KEY.y }],
  }),
  IDENTITY_ISSUER: DEV_IDENTITY_ISSUER,
  MDOC_DS_KEY: DEV_MDOC_DS_KEY,
  MDOC_DS_CERT: DEV_MDOC_DS_CERT_PEM,
  IACA_CERT: DEV_IACA_CERT_PEM,
  WALLET_PROVIDER_ANCHORS: DEV_WALLET_PROVIDER_CA_PEM,
  SD_JWT_SIGNER_KEY: DEV_SD_JWT_SIGNER_KEY,
  SD_JWT_SIGNER_CERT: DEV_SD_JWT_SIGNER_CERT_PEM,
  STATUS_LIST_KEY: DEV_STATUS_LIST_KEY,
  STATUS_LIST_CERT: DEV_STATUS_LIST_CERT_PEM,
};

const filledEnvs = new WeakMap<Env, Env>();

/** `env` with every secret it lacks (unset or empty) taken from the development defaults (memoised per env). */
export function withDevSecrets(env: Env): Env {
  let filled = filledEnvs.get(env);
  if (filled) return filled;
  filled = { ...env };
  for (const [name, value] of Object.entries(DEV_SECRETS) as [SecretName, string][]) {
    if (!filled[name]) filled[name] = value;
  }
  filledEnvs.set(env, filled);
  return filled;
}

/** The relying party settings that point at the embedded provider (src/dev/identity-provider.ts) for `origin`. */
function devIdentityProviderSettings(origin: string): Record<string, string> {
  const issuer = `${origin}${DEV_OIDC_PATH}`;
  return {
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: DEV_OIDC_CLIENT_ID,
    OIDC_CLIENT_SECRET: DEV_OIDC_CLIENT_SECRET,
    OIDC_AUTHORIZATION_ENDPOINT: `${issuer}/authorize`,
    OIDC_TOKEN_ENDPOINT: `${issuer}/token`,
    OIDC_JWKS: JSON.stringify({ keys: [DEV_OIDC_PUBLIC_JWK] }),
  };
}

const withProvider = new WeakMap<Env, Map<string, Env>>();

/**
 * `env` pointed at the embedded OpenID Connect provider (src/dev/identity-provider.ts) at `origin`,
 * unless it names a provider of its own (OIDC_ISSUER set: the e2e's Node provider, say), in which case
 * it is returned as it is. Memoised per env and origin, so settings are parsed once for each.
 */
export function withDevIdentityProvider(env: Env, origin: string): Env {
  if (env.OIDC_ISSUER) return env;
  let byOrigin = withProvider.get(env);
  if (!byOrigin) {
    byOrigin = new Map();
    withProvider.set(env, byOrigin);
  }
  let filled = byOrigin.get(origin);
  if (!filled) {
    filled = { ...env, ...devIdentityProviderSettings(origin) };
    byOrigin.set(origin, filled);
  }
  return filled;
}
