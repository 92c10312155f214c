import { base64url } from "jose";
import { secret, type Env } from "../config/env";
import { ApiError } from "../http/problem";

/**
 * PLACEHOLDER owned by the `dpop` branch (r3-shared.md fixes this interface): DPoP server nonces
 * (RFC 9449 §8) as a MAC over a time window, the current and the previous window accepted, no Durable
 * Object. The `dpop` branch's file replaces this one when it is merged; only the two exports below are
 * relied on by the authorization code grant.
 */
const WINDOW_MS = 5 * 60 * 1000;

async function nonceFor(env: Env, window: number): Promise<string> {
  const keys = secret(env, "TICKET_KEYS");
  if (!keys) throw new ApiError("not_configured", "TICKET_KEYS is not configured on this deployment");
  const k = (JSON.parse(keys) as { k: string }[])[0]!.k;
  const key = await crypto.subtle.importKey("raw", base64url.decode(k), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`dpop-nonce:${window}`));
  return base64url.encode(new Uint8Array(mac).slice(0, 16));
}

export function currentDpopNonce(env: Env, now: number): Promise<string> {
  return nonceFor(env, Math.floor(now / WINDOW_MS));
}

export async function isCurrentDpopNonce(env: Env, nonce: string, now: number): Promise<boolean> {
  const window = Math.floor(now / WINDOW_MS);
  return nonce === (await nonceFor(env, window)) || nonce === (await nonceFor(env, window - 1));
}
