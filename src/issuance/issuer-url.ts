import type { Env } from "../config/env";
import { settingsOf } from "../config/settings";
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
 * on the LAN reaches `npm start -- --ip 0.0.0.0` under whatever address it used. A PUBLIC_ORIGIN that is
 * not an origin (a path, a query, another scheme) is a bad variable (src/config/settings.ts): the whole
 * deployment answers 503 not-configured naming it, rather than publish it.
 */
export function issuerOrigin(env: Env, requestUrl: string): string {
  const settings = settingsOf(env);
  if (settings.publicOrigin) return settings.publicOrigin;
  if (settings.development) return new URL(requestUrl).origin;
  throw new ApiError("not_configured", "PUBLIC_ORIGIN is not configured on this deployment");
}
