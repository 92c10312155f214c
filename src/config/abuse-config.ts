import type { RateLimitPolicy } from "../abuse/rate-limit";

/**
 * The rate-limit scopes and their defaults: what a deployment gets without setting RATE_LIMIT_*
 * (validated with every other variable in src/config/settings.ts). Figures and reasoning: SECURITY.md.
 */
export type LimitScope =
  | "poll"
  | "join_device"
  | "join_client"
  | "join_person"
  | "token_client"
  | "token_code"
  | "nonce_client"
  | "credential_session"
  | "notification_client"
  | "admin_client"
  | "admin_login_client";

/**
 * Generous on purpose: they must never touch a person using the app. What a real client needs
 * (measured in docs/threats/rate-limits.md):
 * - a waiting phone polls at most every 1.6 s (poll_after_seconds ≥ 2 s, jittered ±20 %), 38 a minute;
 *   it joins once, a few times with retries (the SDK makes at most 6 attempts per call), from one or
 *   two devices;
 * - its wallet redeems its code once (≤ 6 attempts), then per format one nonce and one credential
 *   request (≤ 6 attempts each), and one notification per credential response;
 * - an operator's dashboard tab makes 2 admin API calls every 3 s (40 a minute); an operator logs in once.
 * One public IPv4 address can carry hundreds of phones (carrier-grade NAT), or a whole office of
 * operators, so the limits per address are far above a single client's.
 */
export const DEFAULT_RATE_LIMITS: Record<LimitScope, RateLimitPolicy> = {
  poll: { limit: 120, periodSeconds: 60 },
  join_device: { limit: 30, periodSeconds: 60 },
  join_client: { limit: 300, periodSeconds: 60 },
  join_person: { limit: 20, periodSeconds: 60 },
  token_client: { limit: 300, periodSeconds: 60 },
  token_code: { limit: 30, periodSeconds: 60 },
  nonce_client: { limit: 600, periodSeconds: 60 },
  credential_session: { limit: 120, periodSeconds: 60 },
  notification_client: { limit: 600, periodSeconds: 60 },
  admin_client: { limit: 600, periodSeconds: 60 },
  admin_login_client: { limit: 20, periodSeconds: 60 },
};

/** The Worker variable of each scope, e.g. join_person → RATE_LIMIT_JOIN_PERSON. */
export type LimitVariable = `RATE_LIMIT_${Uppercase<LimitScope>}`;
