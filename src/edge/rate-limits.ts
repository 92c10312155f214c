import { base64url } from "jose";
import { coarseAddress } from "../abuse/client-address";
import { TokenBucketLimiter, type RateLimitPolicy } from "../abuse/rate-limit";
import type { LimitScope } from "../config/abuse-config";
import { required, type Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import { clock } from "../lib/clock";
import { withDeadline } from "../lib/deadline";
import { logger } from "../log/logger";

/**
 * Per-client rate limits at the edge, before anything costly: polls per ticket; joins per device key,
 * per person and per client address (challenges too); the issuance endpoints (/token per client address
 * and per code, /nonce per client address, /credential per session, /notification per client address);
 * the admin API and the dashboard's login per client address. Two layers, both consulted when present:
 *
 * 1. In this isolate, a token bucket per key with the policy of the scope's variable
 *    (RATE_LIMIT_<SCOPE>, e.g. RATE_LIMIT_POLL, RATE_LIMIT_TOKEN_CODE; src/config/abuse-config.ts).
 *    Always on (unless the variable says "off"), on the project clock, exact Retry-After. It sees only
 *    the requests this isolate answers.
 * 2. The Workers rate-limiting binding of the scope (<SCOPE>_LIMITER, e.g. POLL_LIMITER, in
 *    wrangler.toml): counted across every isolate of a Cloudflare location, with the limit and period
 *    set in wrangler.toml (a binding's limit is fixed at deploy). Miniflare simulates it, so `npm start`
 *    and the tests run it too. Optional: without the binding, layer 1 alone.
 *    If the binding fails or does not answer within BINDING_DEADLINE_MS, the request goes through: a
 *    limiter must not take the service down, nor hold a poll for as long as it stalls (one e2e run saw
 *    Miniflare's simulated binding keep three polls waiting ~15 s).
 *
 * Refusal: 429 problem+json `rate_limited` with Retry-After. Keys are a ticket id, a device key
 * thumbprint, a person pseudonym, an admission's room and ticket id, or an HMAC of the client's
 * address: never a raw address nor a person identifier, here, in a binding or a log.
 */
type LimiterBinding = `${Uppercase<LimitScope>}_LIMITER`;
const bindingOf = (scope: LimitScope): LimiterBinding => `${scope.toUpperCase() as Uppercase<LimitScope>}_LIMITER`;

/** Far above the binding's normal answer (it is local to the machine, ~1 ms), far below a client's patience. */
export const BINDING_DEADLINE_MS = 250;

/** One limiter per scope and policy: a changed variable (or a test's) gets fresh buckets. */
const limiters = new Map<string, TokenBucketLimiter>();

function limiterFor(scope: LimitScope, policy: RateLimitPolicy): TokenBucketLimiter {
  const id = `${scope}:${policy.limit}/${policy.periodSeconds}`;
  let limiter = limiters.get(id);
  if (!limiter) {
    limiter = new TokenBucketLimiter(policy, clock);
    limiters.set(id, limiter);
  }
  return limiter;
}

export function rateLimited(scope: LimitScope, retryAfterSeconds: number): ApiError {
  return new ApiError("rate_limited", `too many requests; retry in ${retryAfterSeconds} s`, {
    extras: { reason: scope, retry_after_seconds: retryAfterSeconds },
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}

/** Counts one request against `key` in `scope`; throws the 429 if over either layer's limit. */
export async function enforceRateLimit(env: Env, scope: LimitScope, key: string): Promise<void> {
  const policy = settingsOf(env).rateLimits[scope];
  if (!policy) return;
  const local = limiterFor(scope, policy).take(key);
  if (!local.ok) throw rateLimited(scope, local.retryAfterSeconds);
  const name = bindingOf(scope);
  const binding = env[name];
  if (!binding) return;
  let outcome: { success: boolean };
  try {
    outcome = await withDeadline(binding.limit({ key }), BINDING_DEADLINE_MS, name);
  } catch (e) {
    // Fail open: the in-isolate bucket above still counted this request.
    logger.warn("rate_limit_binding_failed", { reason: scope, error: e instanceof Error ? e.message : "unknown" });
    return;
  }
  // The binding does not say when its window ends: its period (kept equal to the variable's) bounds it.
  if (!outcome.success) throw rateLimited(scope, policy.periodSeconds);
}

const addressKeys = new Map<string, Promise<CryptoKey>>();

/**
 * The rate-limit key of the client's address (CF-Connecting-IP, which Cloudflare sets and clients
 * cannot): HMAC-SHA-256 under PSEUDONYM_KEY of the IPv4 address or IPv6 /64, cut to 128 bits. Without
 * the key an IPv4 hash could be reversed by trying all 2^32 addresses; with it, it names nobody.
 * Null when there is no address or it is a local one (only seen off Cloudflare: npm start, tests).
 */
export async function clientAddressKey(env: Env, request: Request): Promise<string | null> {
  const address = coarseAddress(request.headers.get("cf-connecting-ip"));
  if (!address || address.local) return null;
  const secret = required(env, "PSEUDONYM_KEY");
  let key = addressKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    addressKeys.set(secret, key);
  }
  const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(`antichambre client address\u0000${address.prefix}`));
  return base64url.encode(new Uint8Array(mac).slice(0, 16));
}

/** Counts a request from the client's address under `what` (join, challenge) in the join_client scope. */
export async function enforceClientLimit(env: Env, request: Request, what: "join" | "challenge"): Promise<void> {
  const key = await clientAddressKey(env, request);
  if (key !== null) await enforceRateLimit(env, "join_client", `${what}:${key}`);
}

/** The scopes counted per client address alone (join_client is shared by joins and challenges, above). */
export type AddressScope = Exclude<Extract<LimitScope, `${string}_client`>, "join_client">;

/** Counts a request from the client's address in `scope`; local and missing addresses are not counted. */
export async function enforceAddressLimit(env: Env, request: Request, scope: AddressScope): Promise<void> {
  const key = await clientAddressKey(env, request);
  if (key !== null) await enforceRateLimit(env, scope, key);
}
