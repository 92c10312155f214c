import type { Env } from "../config/env";
import { hashedShard, replayGuardAt } from "./objects";

/** How many ReplayGuard objects share the one-time values. */
export const REPLAY_SHARDS = 16;

/**
 * Claim a one-time value (DPoP `jti`, c_nonce id, handoff offer reference, wallet attestation PoP `jti`) in `scope`. True the first
 * time only. A DO call per claim: these happen on the token and credential endpoints, whose rate the
 * waiting room caps.
 */
export type ReplayScope = "dpop" | "nonce" | "offer" | "handoff" | "client_attestation" | "par" | "identity_step";

export async function claimOnce(env: Env, scope: ReplayScope, id: string, expiresAt: number): Promise<boolean> {
  const key = `${scope}:${id}`;
  return (await (await guardFor(env, key)).claim(key, expiresAt)).ok;
}

/** Reserve one of `limit` attempts at `id` in `scope` (ReplayGuard.reserve): its number, or null when none is left. */
export async function reserveAttempt(env: Env, scope: ReplayScope, id: string, limit: number, expiresAt: number): Promise<number | null> {
  const key = `${scope}:${id}`;
  const reserved = await (await guardFor(env, key)).reserve(key, limit, expiresAt);
  return reserved.ok ? reserved.value : null;
}

/**
 * The ReplayGuard holding one admission's handoff state (pending wallets, approved key, approval
 * attempts), by the key `handoff:${room}:${tid}`: every request about one admission meets in one object,
 * so its checks are atomic; admissions spread over the shards like every other key.
 */
export async function handoffGuard(env: Env, room: string, tid: string) {
  const key = handoffKey(room, tid);
  return { key, guard: await guardFor(env, key) };
}

export function handoffKey(room: string, tid: string): string {
  return `handoff:${room}:${tid}`;
}

async function guardFor(env: Env, key: string) {
  return replayGuardAt(env, await hashedShard(key, REPLAY_SHARDS));
}
