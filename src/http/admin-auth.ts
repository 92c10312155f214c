import type { MiddlewareHandler } from "hono";
import { secret } from "../config/env";
import type { AppEnv } from "./app-env";
import { ApiError } from "./problem";
import { bearerToken } from "./request";

/**
 * Admin API guard. With no ADMIN_TOKEN secret the admin API is switched off (403 to every call) rather
 * than open; in development the embedded `dev-admin-token` applies. Tokens are compared as SHA-256
 * digests in constant time, so neither their content nor their length leaks through timing.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async function requireAdmin(c, next) {
  const expected = secret(c.env, "ADMIN_TOKEN");
  if (!expected) throw new ApiError("admin_disabled", "no ADMIN_TOKEN secret is set on this deployment");
  const given = bearerToken(c);
  if (!given || !(await sameSecret(given, expected))) {
    throw new ApiError("unauthorized", "a valid admin bearer token is required", {
      headers: { "www-authenticate": 'Bearer realm="antichambre-admin"' },
    });
  }
  await next();
};

async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
