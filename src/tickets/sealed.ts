import { EncryptJWT, errors, jwtDecrypt, type JWTPayload } from "jose";
import type { HmacKeyring } from "./keyring";

/**
 * Sealed tokens: JWTs encrypted with AES-256-GCM (JWE `dir`), opaque to whoever holds them.
 *
 * Used where a token must carry something its holder should not read or alter, without a database
 * lookup to resolve it: the pre-authorized code and access token (they carry the person identifier the
 * register is queried with), the person reference inside a queue ticket, a lottery entrant's place in
 * its ticket (its draw, secret until the seed is revealed), c_nonces, notification ids, the handoff's
 * credential offer references.
 * Keys are derived per purpose with HKDF from the TICKET_KEYS secrets (same `kid`s, so they rotate
 * together); a token sealed for one purpose cannot be opened as another.
 */
export type SealPurpose =
  | "ticket-person"
  | "ticket-order"
  | "pre-authorized-code"
  | "access-token"
  | "c-nonce"
  | "notification"
  | "handoff-offer"
  | "par-request"
  | "authorization-flow"
  | "authorization-code";

const derived = new Map<string, Promise<CryptoKey>>();

function purposeKey(ring: HmacKeyring, kid: string, purpose: SealPurpose): Promise<CryptoKey> | undefined {
  const base = ring.hkdfByKid.get(kid);
  if (!base) return undefined;
  const cacheKey = `${kid}\u0000${purpose}`;
  let key = derived.get(cacheKey);
  if (!key) {
    key = crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: new TextEncoder().encode(`antichambre sealed ${purpose}`) },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    derived.set(cacheKey, key);
  }
  return key;
}

export async function seal(
  ring: HmacKeyring,
  purpose: SealPurpose,
  claims: JWTPayload,
  nowMs: number,
  expiresAtMs: number,
): Promise<string> {
  const key = await purposeKey(ring, ring.signing.kid, purpose)!;
  return new EncryptJWT(claims)
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: ring.signing.kid, cty: purpose })
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(expiresAtMs / 1000))
    .encrypt(key);
}

export type OpenResult =
  { ok: true; claims: JWTPayload } | { ok: false; reason: "malformed" | "expired" | "unknown_key" | "wrong_purpose" };

export async function open(ring: HmacKeyring, purpose: SealPurpose, token: string, nowMs: number): Promise<OpenResult> {
  if (token.length > 4096) return { ok: false, reason: "malformed" };
  let unknownKey = false;
  try {
    const { payload, protectedHeader } = await jwtDecrypt(
      token,
      async (header) => {
        const key = header.kid === undefined ? undefined : purposeKey(ring, header.kid, purpose);
        if (!key) {
          unknownKey = true;
          throw new Error("unknown kid");
        }
        return key;
      },
      { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"], currentDate: new Date(nowMs), requiredClaims: ["exp"] },
    );
    if (protectedHeader.cty !== purpose) return { ok: false, reason: "wrong_purpose" };
    return { ok: true, claims: payload };
  } catch (e) {
    if (unknownKey) return { ok: false, reason: "unknown_key" };
    if (e instanceof errors.JWTExpired) return { ok: false, reason: "expired" };
    return { ok: false, reason: "malformed" };
  }
}
