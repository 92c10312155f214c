import { createMiddleware } from "hono/factory";
import { base64url } from "jose";
import { secret, type Env } from "../config/env";
import type { AppEnv } from "../http/app-env";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { hmacKeyring, type HmacKeyring } from "../tickets/keyring";

/**
 * DPoP server nonces (RFC 9449 §8 at the token endpoint, §9 at the credential, deferred credential and
 * notification endpoints): a proof must carry a nonce the server handed out recently, so a proof made
 * ahead of time (by malware on the phone, or from a key that leaked) stops working within minutes,
 * whatever `iat` it claims.
 *
 * Stateless on purpose: a nonce is a time window's number and a MAC of it, `<window>.<mac>`. Checking
 * one costs an HMAC in the isolate, no Durable Object round trip per proof (issuance runs at the
 * admission rate times a few calls per person). Every client in a window gets the same nonce; that is
 * what RFC 9449 §8 asks of it (freshness, not uniqueness): replay of a whole proof is refused by its
 * `jti`, claimed in the session's object as before.
 *
 * Accepted: the current window's nonce and the previous one's, so a nonce handed out just before a
 * window ends still works for one more window (a nonce lives between WINDOW_MS and twice that).
 * Keys: derived with HKDF from each TICKET_KEYS secret (purpose "dpop-nonce"), so they rotate with them
 * and a nonce's MAC is never a valid MAC of anything else; nonces are made with the first key and
 * accepted under any.
 */
export const DPOP_NONCE_WINDOW_MS = 5 * 60 * 1000;
/** 128 bits of MAC: the nonce is short enough for every header, and cannot be guessed. */
const MAC_BYTES = 16;
const MAX_NONCE_LENGTH = 64;

const derived = new WeakMap<HmacKeyring, Promise<CryptoKey[]>>();

/** The nonce keys of a keyring, the signing key's first. */
function nonceKeys(ring: HmacKeyring): Promise<CryptoKey[]> {
  let keys = derived.get(ring);
  if (!keys) {
    const kids = [ring.signing.kid, ...[...ring.hkdfByKid.keys()].filter((kid) => kid !== ring.signing.kid)];
    keys = Promise.all(
      kids.map((kid) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode("antichambre dpop-nonce") },
          ring.hkdfByKid.get(kid)!,
          { name: "HMAC", hash: "SHA-256", length: 256 },
          false,
          ["sign"],
        ),
      ),
    );
    derived.set(ring, keys);
  }
  return keys;
}

async function mac(key: CryptoKey, window: number): Promise<Uint8Array> {
  const full = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`dpop-nonce:${window}`));
  return new Uint8Array(full, 0, MAC_BYTES);
}

function windowOf(now: number): number {
  return Math.floor(now / DPOP_NONCE_WINDOW_MS);
}

/** The nonce to hand out now (the `DPoP-Nonce` header of every token and resource answer). */
export async function currentDpopNonce(env: Env, now: number): Promise<string> {
  const [key] = await nonceKeys(await hmacKeyring(secret(env, "TICKET_KEYS")));
  const window = windowOf(now);
  return `${window.toString(36)}.${base64url.encode(await mac(key!, window))}`;
}

/** Whether `nonce` is this window's or the previous window's, made with one of our keys. */
export async function isCurrentDpopNonce(env: Env, nonce: unknown, now: number): Promise<boolean> {
  if (typeof nonce !== "string" || nonce.length > MAX_NONCE_LENGTH) return false;
  const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{22})$/.exec(nonce);
  if (!match) return false;
  const window = parseInt(match[1]!, 36);
  const current = windowOf(now);
  if (window !== current && window !== current - 1) return false;
  let given: Uint8Array;
  try {
    given = base64url.decode(match[2]!);
  } catch {
    return false;
  }
  for (const key of await nonceKeys(await hmacKeyring(secret(env, "TICKET_KEYS")))) {
    if (constantTimeEqual(given, await mac(key, window))) return true;
  }
  return false;
}

/**
 * Refuses a proof without a current nonce: 400 at the token endpoint (RFC 9449 §8), 401 with a
 * `WWW-Authenticate: DPoP error="use_dpop_nonce"` challenge at a resource (§9); both carry the nonce to
 * use in `DPoP-Nonce` (also set by `withDpopNonce` on every answer, so this header is the same value).
 */
export async function requireDpopNonce(env: Env, nonce: string | undefined, now: number, at: "token" | "resource"): Promise<void> {
  if (await isCurrentDpopNonce(env, nonce, now)) return;
  const fresh = await currentDpopNonce(env, now);
  const detail =
    nonce === undefined
      ? "the DPoP proof must carry the server nonce sent in the DPoP-Nonce header"
      : "the DPoP proof's nonce is not current; use the one sent in the DPoP-Nonce header";
  throw new ApiError("use_dpop_nonce", detail, {
    ...(at === "token"
      ? { status: 400, headers: { "dpop-nonce": fresh } }
      : { headers: { "dpop-nonce": fresh, "www-authenticate": 'DPoP error="use_dpop_nonce", algs="ES256"' } }),
  });
}

/**
 * Every answer of an endpoint that requires a nonce carries the current one (`DPoP-Nonce`, RFC 9449
 * §8.1), refusals included, so a client always holds a fresh nonce for its next proof and rarely hears
 * use_dpop_nonce after its first request. Best effort: with TICKET_KEYS missing the answer is already
 * the not-configured refusal, and it goes out without the header.
 */
export const withDpopNonce = createMiddleware<AppEnv>(async function withDpopNonce(c, next) {
  await next();
  try {
    c.res.headers.set("dpop-nonce", await currentDpopNonce(c.env, clock.now()));
  } catch {
    // See above: nothing to add when the keys are not configured.
  }
});

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
