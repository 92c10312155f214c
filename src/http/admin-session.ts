import type { Context } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { base64url } from "jose";
import { isDevelopment, type Env } from "../config/env";
import { clock } from "../lib/clock";
import type { AppEnv } from "./app-env";

/**
 * Browser sessions for the operator dashboard.
 *
 * Why a cookie and not the token in the page: the admin token is long-lived and all-powerful; kept in
 * JavaScript-readable storage, any script injection would leak it. So the token is typed once into the
 * login form (POST /admin/login), checked like a Bearer token, and answered with a session cookie that
 * holds NOT the token but a short-lived HMAC-signed session: `v1.<issued>.<expires>.<nonce>.<mac>`.
 * - HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site request carries it), Path=/;
 *   on https (every deployment) it is `__Host-` and Secure, so no subdomain or http page can set or
 *   read it. Plain `http://` is allowed only in development (`npm start` on 127.0.0.1).
 * - The MAC key is derived from ADMIN_TOKEN, so rotating the token ends every session at once.
 * - Idle expiry after SESSION_IDLE_SECONDS (renewed while in use), absolute expiry SESSION_MAX_SECONDS
 *   after login. Logout clears the cookie; the signed value stays valid until its expiry if someone
 *   copied it (stateless by design: no Durable Object round trip on every admin call).
 * CSRF: see requireAdmin (admin-auth.ts): mutating calls authenticated by this cookie must also carry
 * the custom header `X-Antichambre-Admin: 1`, which a cross-origin page cannot send without a CORS
 * preflight this Worker never approves.
 */
export const SESSION_IDLE_SECONDS = 60 * 60;
export const SESSION_MAX_SECONDS = 12 * 60 * 60;
export const CSRF_HEADER = "x-antichambre-admin";

const COOKIE_BASE = "antichambre_admin";
const LABEL = new TextEncoder().encode("antichambre admin session v1");

export interface AdminSession {
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** Secure cookies everywhere except development over plain http. */
function secureCookies(env: Env, url: string): boolean {
  return new URL(url).protocol === "https:" || !isDevelopment(env);
}

export function sessionCookieName(env: Env, url: string): string {
  return secureCookies(env, url) ? `__Host-${COOKIE_BASE}` : COOKIE_BASE;
}

async function sessionKey(adminToken: string): Promise<CryptoKey> {
  const root = await crypto.subtle.importKey("raw", new TextEncoder().encode(adminToken), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const derived = await crypto.subtle.sign("HMAC", root, LABEL);
  return crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

export async function mintSession(adminToken: string, issuedAt: number, now: number): Promise<string> {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const expires = Math.min(seconds(now) + SESSION_IDLE_SECONDS, seconds(issuedAt) + SESSION_MAX_SECONDS);
  const nonce = base64url.encode(crypto.getRandomValues(new Uint8Array(12)));
  const body = `v1.${seconds(issuedAt)}.${expires}.${nonce}`;
  const mac = await crypto.subtle.sign("HMAC", await sessionKey(adminToken), new TextEncoder().encode(body));
  return `${body}.${base64url.encode(new Uint8Array(mac))}`;
}

/** The session a cookie value proves, or null (malformed, forged, signed under another token, expired). */
export async function verifySession(adminToken: string, value: string, now: number): Promise<AdminSession | null> {
  const match = /^(v1\.(\d{1,12})\.(\d{1,12})\.[A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return null;
  let mac: Uint8Array;
  try {
    mac = base64url.decode(match[4]!);
  } catch {
    return null;
  }
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await sessionKey(adminToken), mac, new TextEncoder().encode(match[1]!));
  if (!ok) return null;
  const issuedAt = Number(match[2]) * 1000;
  const expiresAt = Number(match[3]) * 1000;
  if (now >= expiresAt || now < issuedAt - 60_000 || expiresAt > issuedAt + SESSION_MAX_SECONDS * 1000) return null;
  return { issuedAt, expiresAt };
}

/** The session of this request's cookie, if any and valid. */
export async function sessionFromRequest(c: Context<AppEnv>, adminToken: string): Promise<AdminSession | null> {
  const value = getCookie(c, sessionCookieName(c.env, c.req.url));
  return value ? verifySession(adminToken, value, clock.now()) : null;
}

export function hasSessionCookie(c: Context<AppEnv>): boolean {
  return getCookie(c, sessionCookieName(c.env, c.req.url)) !== undefined;
}

/** Set (or renew) the session cookie on this response. */
export async function startSession(c: Context<AppEnv>, adminToken: string, issuedAt = clock.now()): Promise<void> {
  const now = clock.now();
  const value = await mintSession(adminToken, issuedAt, now);
  const expires = Number(value.split(".")[2]) * 1000;
  const secure = secureCookies(c.env, c.req.url);
  setCookie(c, COOKIE_BASE, value, {
    ...(secure ? { prefix: "host" as const } : {}),
    path: "/",
    httpOnly: true,
    secure,
    sameSite: "Strict",
    maxAge: Math.max(0, Math.floor((expires - now) / 1000)),
  });
}

/** Renew a session in use once less than half its idle time is left (never past its absolute end). */
export async function renewIfDue(c: Context<AppEnv>, adminToken: string, session: AdminSession): Promise<void> {
  const now = clock.now();
  if (session.expiresAt - now > (SESSION_IDLE_SECONDS * 1000) / 2) return;
  if (session.issuedAt + SESSION_MAX_SECONDS * 1000 <= session.expiresAt) return;
  await startSession(c, adminToken, session.issuedAt);
}

export function endSession(c: Context<AppEnv>): void {
  const secure = secureCookies(c.env, c.req.url);
  deleteCookie(c, COOKIE_BASE, { ...(secure ? { prefix: "host" as const } : {}), path: "/", secure, httpOnly: true, sameSite: "Strict" });
}

/**
 * Whether a request comes from this origin, as far as the browser tells: `Sec-Fetch-Site` and `Origin`
 * when present must agree. (Non-browser clients send neither; they cannot hold the cookie by accident.)
 */
export function sameOrigin(c: Context): boolean {
  const site = c.req.header("sec-fetch-site");
  if (site !== undefined && site !== "same-origin") return false;
  const origin = c.req.header("origin");
  return origin === undefined || origin === new URL(c.req.url).origin;
}
