import type { Env } from "../config/env";

/**
 * The credential issuer identifier (and token endpoint issuer): PUBLIC_ORIGIN when configured (a
 * deployment behind a custom domain), else the origin the request came in on (development).
 */
export function issuerOrigin(env: Env, requestUrl: string): string {
  return (env.PUBLIC_ORIGIN || new URL(requestUrl).origin).replace(/\/+$/, "");
}
