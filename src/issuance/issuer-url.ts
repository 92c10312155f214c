import { isDevelopment, type Env } from "../config/env";
import { ApiError } from "../http/problem";

/**
 * The credential issuer identifier (and token endpoint issuer): PUBLIC_ORIGIN, and in a deployment
 * nothing else. Without it a deployment answers 503 not-configured, as it does without its signing keys.
 *
 * Why never the request's own origin in a deployment: the Host header is the client's to choose, so
 * metadata built from it would name whatever origin the asker likes ("credential_issuer":
 * "https://evil.example"), and the answer is cacheable (public, max-age=300). Naming PUBLIC_ORIGIN
 * whatever the Host makes every answer the same: a request that arrives under another name (the
 * workers.dev alias, a forged Host) is told the real issuer, which a wallet then finds does not match
 * where it asked, as OpenID4VCI requires it to check. A 421 would say the same less usefully and break
 * the workers.dev alias for operators.
 *
 * Development (npm start, tests) keeps following the request when PUBLIC_ORIGIN is unset, so a phone
 * on the LAN reaches `npm start -- --ip 0.0.0.0` under whatever address it used.
 */
export function issuerOrigin(env: Env, requestUrl: string): string {
  if (env.PUBLIC_ORIGIN) return configuredOrigin(env.PUBLIC_ORIGIN);
  if (isDevelopment(env)) return new URL(requestUrl).origin;
  throw new ApiError("not_configured", "PUBLIC_ORIGIN is not configured on this deployment");
}

/**
 * PUBLIC_ORIGIN as an origin ("https://host[:port]", a trailing slash tolerated). Anything else (a path,
 * a query, another scheme) is a configuration error, refused as not-configured rather than published.
 */
function configuredOrigin(value: string): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // Refused below.
  }
  const trimmed = value.replace(/\/+$/, "");
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:") || url.origin !== trimmed.toLowerCase()) {
    throw new ApiError("not_configured", "PUBLIC_ORIGIN must be an origin such as https://permis.example.fr");
  }
  return url.origin;
}
