import {
  DEV_IACA_CERT_PEM,
  DEV_MDOC_DS_CERT_PEM,
  DEV_MDOC_DS_KEY,
  DEV_STATUS_LIST_CERT_PEM,
  DEV_STATUS_LIST_KEY,
} from "../config/dev-credentials";
import {
  DEV_ADMIN_TOKEN,
  DEV_IDENTITY_ISSUER,
  DEV_IDENTITY_KEY,
  DEV_PSEUDONYM_KEY,
  DEV_SIGNING_KEYS,
  DEV_TICKET_KEYS,
} from "../config/dev-defaults";
import type { Env, SecretName } from "../config/env";

/**
 * The development default of every secret (public: they are in this repository). Only the development
 * entry reaches this module; test/build/production-bundle.test.mjs checks that none of these values is
 * in the bundle `wrangler deploy` builds.
 */
export const DEV_SECRETS: Readonly<Record<SecretName, string>> = {
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
