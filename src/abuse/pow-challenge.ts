import { base64url } from "jose";
import type { HmacKeyring } from "../tickets/keyring";
import { MAX_POW_BITS, meetsDifficulty, POW_SOLUTION_PATTERN } from "./pow";
import { isJkt } from "../auth/jkt";

/**
 * Proof-of-work challenges for joins, verified without state: the service keeps nothing between handing
 * out a challenge and checking its solution. A challenge is
 *
 *   base64url(JSON {v, room, jkt, n, d, exp, kid}) "." base64url(HMAC-SHA-256)
 *
 * bound to one room and one device key (`jkt`, the DPoP key that must make the join), with a random
 * nonce `n`, a difficulty `d` in bits and an expiry `exp` (ms). The MAC key is derived with HKDF from
 * the TICKET_KEYS ring (its own purpose, so a challenge MAC can never pass for a ticket's), and the
 * `kid` names the ring key, so challenges rotate with tickets. The only state is the nonce's single use,
 * which the join claims in the ReplayGuard once everything else has passed (src/edge/proof-of-work.ts).
 *
 * Pure apart from WebCrypto: `now` is given.
 */
export const CHALLENGE_LIFETIME_MS = 120_000;
const MAX_CHALLENGE_LENGTH = 1024;

export interface ChallengeClaims {
  readonly room: string;
  readonly jkt: string;
  readonly nonce: string;
  readonly difficulty: number;
  readonly expiresAt: number;
}

export type PowFailure =
  | "missing"
  | "malformed"
  | "unknown_key"
  | "bad_mac"
  | "expired"
  | "wrong_room"
  | "wrong_device_key"
  | "too_easy"
  | "wrong_solution"
  | "replayed";

export type PowCheck = { ok: true; claims: ChallengeClaims } | { ok: false; reason: PowFailure };

const derived = new WeakMap<CryptoKey, Promise<CryptoKey>>();

function macKey(ring: HmacKeyring, kid: string): Promise<CryptoKey> | undefined {
  const base = ring.hkdfByKid.get(kid);
  if (!base) return undefined;
  let key = derived.get(base);
  if (!key) {
    key = crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode("antichambre pow challenge") },
      base,
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      ["sign", "verify"],
    );
    derived.set(base, key);
  }
  return key;
}

export async function issueChallenge(
  ring: HmacKeyring,
  request: { room: string; jkt: string; difficulty: number },
  nowMs: number,
): Promise<{ challenge: string; claims: ChallengeClaims }> {
  const claims: ChallengeClaims = {
    room: request.room,
    jkt: request.jkt,
    nonce: base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
    difficulty: request.difficulty,
    expiresAt: nowMs + CHALLENGE_LIFETIME_MS,
  };
  const kid = ring.signing.kid;
  const payload = base64url.encode(
    JSON.stringify({ v: 1, room: claims.room, jkt: claims.jkt, n: claims.nonce, d: claims.difficulty, exp: claims.expiresAt, kid }),
  );
  const mac = await crypto.subtle.sign("HMAC", await macKey(ring, kid)!, new TextEncoder().encode(payload));
  return { challenge: `${payload}.${base64url.encode(new Uint8Array(mac))}`, claims };
}

/**
 * Everything but single use: MAC, expiry, room, device key, difficulty (at least `requiredBits`, the
 * difficulty in force now) and the hash itself. Cheapest checks first; the hash only once the
 * challenge is known to be ours and current.
 */
export async function checkSolution(
  ring: HmacKeyring,
  pow: { challenge: string; solution: string },
  expected: { room: string; jkt: string; requiredBits: number },
  nowMs: number,
): Promise<PowCheck> {
  const { challenge, solution } = pow;
  if (challenge.length > MAX_CHALLENGE_LENGTH || !POW_SOLUTION_PATTERN.test(solution)) return { ok: false, reason: "malformed" };
  const parts = challenge.split(".");
  if (parts.length !== 2) return { ok: false, reason: "malformed" };
  const [payload, mac] = parts as [string, string];
  let raw: unknown;
  let macBytes: Uint8Array;
  try {
    raw = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
    macBytes = base64url.decode(mac);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  const c = raw as { v?: unknown; room?: unknown; jkt?: unknown; n?: unknown; d?: unknown; exp?: unknown; kid?: unknown } | null;
  if (
    c === null ||
    typeof c !== "object" ||
    c.v !== 1 ||
    typeof c.room !== "string" ||
    !isJkt(c.jkt) ||
    typeof c.n !== "string" ||
    !Number.isInteger(c.d) ||
    (c.d as number) < 0 ||
    (c.d as number) > MAX_POW_BITS ||
    !Number.isSafeInteger(c.exp) ||
    typeof c.kid !== "string"
  ) {
    return { ok: false, reason: "malformed" };
  }
  const key = macKey(ring, c.kid);
  if (!key) return { ok: false, reason: "unknown_key" };
  if (!(await crypto.subtle.verify("HMAC", await key, macBytes, new TextEncoder().encode(payload))))
    return { ok: false, reason: "bad_mac" };
  if ((c.exp as number) <= nowMs) return { ok: false, reason: "expired" };
  if (c.room !== expected.room) return { ok: false, reason: "wrong_room" };
  if (c.jkt !== expected.jkt) return { ok: false, reason: "wrong_device_key" };
  // Difficulty may have risen since the challenge was handed out: an easier one no longer does.
  if ((c.d as number) < expected.requiredBits) return { ok: false, reason: "too_easy" };
  if (!(await meetsDifficulty(challenge, solution, c.d as number))) return { ok: false, reason: "wrong_solution" };
  return { ok: true, claims: { room: c.room, jkt: c.jkt, nonce: c.n, difficulty: c.d as number, expiresAt: c.exp as number } };
}
