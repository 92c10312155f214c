import { requiredBits } from "../abuse/pow-difficulty";
import { checkSolution, issueChallenge, type PowFailure } from "../abuse/pow-challenge";
import type { RoomSnapshot } from "../admission/snapshot";
import { secret, type Env } from "../config/env";
import { settingsOf } from "../config/settings";
import { ApiError } from "../http/problem";
import { hmacKeyring } from "../tickets/keyring";
import { claimOnce } from "./replay";

/**
 * The join's proof-of-work step (SECURITY.md, "Bots"). The difficulty comes from the room snapshot the
 * isolate already holds (arrivals per second over the last minute, the room's own minimum) and the
 * deployment's POW_* variables; at 0 bits nothing is asked and nothing is checked.
 *
 * A join without a valid solution is refused with 428 `pow_required`, and the refusal carries a fresh
 * challenge for the proof's key, so a client solves and retries without another round trip
 * (POST /v1/rooms/{room}/challenge hands one out ahead of time too).
 */
export function requiredDifficulty(env: Env, snapshot: RoomSnapshot): number {
  return requiredBits(settingsOf(env).pow, snapshot.arrivalsPerSecond ?? 0, snapshot.config.pow_min_bits ?? 0);
}

export interface ChallengeBody {
  challenge: string;
  difficulty: number;
  expires_at: string;
  algorithm: "sha256-leading-zero-bits";
}

export async function newChallenge(env: Env, room: string, jkt: string, difficulty: number, now: number): Promise<ChallengeBody> {
  const { challenge, claims } = await issueChallenge(await hmacKeyring(secret(env, "TICKET_KEYS")), { room, jkt, difficulty }, now);
  return { challenge, difficulty, expires_at: new Date(claims.expiresAt).toISOString(), algorithm: "sha256-leading-zero-bits" };
}

async function powRequired(env: Env, room: string, jkt: string, difficulty: number, now: number, reason: PowFailure): Promise<ApiError> {
  const fresh = await newChallenge(env, room, jkt, difficulty, now);
  return new ApiError(
    "pow_required",
    `this room asks joins for a proof of work of ${difficulty} bits (${reason.replaceAll("_", " ")}); solve the challenge and join again`,
    {
      extras: { reason, ...fresh },
    },
  );
}

/**
 * Checks the join's solution and spends it: nothing when no work is asked (0 bits); else the stateless
 * checks (MAC, expiry, room, key, difficulty, hash), then the nonce's single use (one ReplayGuard call,
 * made only for a solution that holds). Throws 428 with a fresh challenge when anything fails.
 * The join calls it once the identity assertion has passed and the room is known.
 */
export async function requireProofOfWork(
  env: Env,
  join: { room: string; jkt: string; snapshot: RoomSnapshot; pow: { challenge: string; solution: string } | undefined },
  now: number,
): Promise<void> {
  const difficulty = requiredDifficulty(env, join.snapshot);
  if (difficulty === 0) return;
  if (!join.pow) throw await powRequired(env, join.room, join.jkt, difficulty, now, "missing");
  const ring = await hmacKeyring(secret(env, "TICKET_KEYS"));
  const checked = await checkSolution(ring, join.pow, { room: join.room, jkt: join.jkt, requiredBits: difficulty }, now);
  if (!checked.ok) throw await powRequired(env, join.room, join.jkt, difficulty, now, checked.reason);
  // Scope "nonce" with its own prefix: the guard's one-time-nonce space; c_nonce ids are UUIDs, never this.
  if (!(await claimOnce(env, "nonce", `pow:${checked.claims.nonce}`, checked.claims.expiresAt + 60_000))) {
    throw await powRequired(env, join.room, join.jkt, difficulty, now, "replayed");
  }
}
