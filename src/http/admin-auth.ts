import type { MiddlewareHandler } from "hono";
import { secret } from "../config/env";
import { CSRF_HEADER, hasSessionCookie, renewIfDue, sameOrigin, sessionFromRequest, type AdminSession } from "./admin-session";
import type { AppEnv } from "./app-env";
import { ApiError } from "./problem";
import { bearerToken } from "./request";

/**
 * Admin API guard. With no ADMIN_TOKEN secret the admin API is switched off (403 to every call) rather
 * than open; in development the embedded `dev-admin-token` applies.
 *
 * Two ways in:
 * - `Authorization: Bearer <admin token>` (scripts, curl, Prometheus). Tokens are compared as SHA-256
 *   digests in constant time, so neither their content nor their length leaks through timing. A request
 *   that sends an Authorization header is judged by it alone.
 * - the dashboard's session cookie (admin-session.ts). A cookie is ambient: the browser attaches it to
 *   any request to this origin, including ones a hostile page triggers. SameSite=Strict already keeps it
 *   off cross-site requests; on top of that, a cookie-authenticated call that changes anything must carry
 *   `X-Antichambre-Admin: 1` (a custom header: cross-origin pages cannot send it without a CORS preflight,
 *   which this Worker never grants) and must not be marked cross-origin by Origin / Sec-Fetch-Site.
 */
export const requireAdmin: MiddlewareHandler<AppEnv> = async function requireAdmin(c, next) {
  const expected = secret(c.env, "ADMIN_TOKEN");
  if (!expected) throw new ApiError("admin_disabled", "no ADMIN_TOKEN secret is set on this deployment");
  if (c.req.header("authorization") !== undefined || !hasSessionCookie(c)) {
    const given = bearerToken(c);
    if (!given || !(await sameSecret(given, expected))) {
      throw new ApiError("unauthorized", "a valid admin bearer token is required", {
        headers: { "www-authenticate": 'Bearer realm="antichambre-admin"' },
      });
    }
    c.set("adminActor", await tokenActor(given));
    return next();
  }
  const session = await sessionFromRequest(c, expected);
  if (!session) {
    throw new ApiError("unauthorized", "the dashboard session has expired or is not valid; log in again at /admin", {
      headers: { "www-authenticate": 'Bearer realm="antichambre-admin"' },
    });
  }
  if (!SAFE_METHODS.has(c.req.method) && (c.req.header(CSRF_HEADER) !== "1" || !sameOrigin(c))) {
    throw new ApiError("forbidden", `changes made with a dashboard session need the ${CSRF_HEADER}: 1 header and a same-origin request`);
  }
  await renewIfDue(c, expected, session);
  c.set("adminActor", sessionActor(session));
  await next();
};

/**
 * Who made an admin call, as the audit log names them (src/lifecycle/): never the token itself. A bearer
 * call is `token:` and the first 12 hex digits of the token's SHA-256 (enough to tell tokens apart across
 * a rotation, useless for guessing one: the token has far more entropy than a hash prefix reveals). A
 * dashboard call is `session:` and the login's time, which every renewal of that login keeps.
 */
async function tokenActor(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  return `token:${[...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function sessionActor(session: AdminSession): string {
  return `session:${new Date(session.issuedAt).toISOString()}`;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export async function sameSecret(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [da, db] = await Promise.all([crypto.subtle.digest("SHA-256", enc.encode(a)), crypto.subtle.digest("SHA-256", enc.encode(b))]);
  return crypto.subtle.timingSafeEqual(da, db);
}
