import type { Env } from "../config/env";

/** How many ReplayGuard objects share the one-time values. */
export const REPLAY_SHARDS = 16;

/**
 * Claim a one-time value (DPoP `jti`, c_nonce id) in `scope`. True the first time only. A DO call per
 * claim: these happen on the token and credential endpoints, whose rate the waiting room caps.
 */
export async function claimOnce(env: Env, scope: "dpop" | "nonce", id: string, expiresAt: number): Promise<boolean> {
  const key = `${scope}:${id}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  const shard = ((digest[0]! << 8) | digest[1]!) % REPLAY_SHARDS;
  const stub = env.REPLAY_GUARD.get(env.REPLAY_GUARD.idFromName(`replay#${shard}`));
  return stub.claim(key, expiresAt);
}
