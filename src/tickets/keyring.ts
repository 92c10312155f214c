import { base64url, importJWK, type JWK } from "jose";
import { z } from "zod";
import { EcPrivateJwkSchema, HmacKeySchema } from "../config/settings";
import { ApiError } from "../http/problem";

/**
 * Signing keys, parsed and imported once per isolate (importing is far dearer than using).
 *
 * Both key sets are JSON arrays with a `kid` on every key: the first key signs, every key verifies, so a
 * rotation is "prepend the new key, wait out the longest token lifetime, drop the old one" (README).
 */

export interface HmacKeyring {
  readonly signing: { kid: string; key: CryptoKey };
  readonly byKid: ReadonlyMap<string, CryptoKey>;
  /** HKDF base keys from the same secrets, for deriving per-purpose encryption keys (sealed.ts). */
  readonly hkdfByKid: ReadonlyMap<string, CryptoKey>;
}

export interface EcKeyring {
  readonly signing: { kid: string; key: CryptoKey };
  /** Public JWKs of every key, as published at /.well-known/jwks.json. */
  readonly publicJwks: JWK[];
}

const hmacCache = new Map<string, Promise<HmacKeyring>>();
const ecCache = new Map<string, Promise<EcKeyring>>();

function notConfigured(what: string): ApiError {
  return new ApiError("not_configured", `${what} is not configured on this deployment`);
}

function parseArray<T>(raw: string, schema: z.ZodType<T>, what: string): T[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw notConfigured(`${what} (not JSON)`);
  }
  const result = z.array(schema).min(1).safeParse(parsed);
  if (!result.success) throw notConfigured(`${what} (malformed)`);
  return result.data;
}

export function hmacKeyring(raw: string | undefined, what = "TICKET_KEYS"): Promise<HmacKeyring> {
  if (!raw) throw notConfigured(what);
  let ring = hmacCache.get(raw);
  if (!ring) {
    const keys = parseArray(raw, HmacKeySchema, what);
    ring = (async () => {
      const byKid = new Map<string, CryptoKey>();
      const hkdfByKid = new Map<string, CryptoKey>();
      for (const { kid, k } of keys) {
        const bytes = base64url.decode(k);
        byKid.set(kid, await crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]));
        hkdfByKid.set(kid, await crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveKey"]));
      }
      return { signing: { kid: keys[0]!.kid, key: byKid.get(keys[0]!.kid)! }, byKid, hkdfByKid };
    })();
    hmacCache.set(raw, ring);
  }
  return ring;
}

export function ecKeyring(raw: string | undefined, what = "SIGNING_KEYS"): Promise<EcKeyring> {
  if (!raw) throw notConfigured(what);
  let ring = ecCache.get(raw);
  if (!ring) {
    const keys = parseArray(raw, EcPrivateJwkSchema, what);
    ring = (async () => {
      const first = keys[0]!;
      const signingKey = (await importJWK({ ...first, alg: "ES256" }, "ES256")) as CryptoKey;
      const publicJwks = keys.map(({ kid, kty, crv, x, y }) => ({ kid, kty, crv, x, y, alg: "ES256", use: "sig" }));
      return { signing: { kid: first.kid, key: signingKey }, publicJwks };
    })();
    ecCache.set(raw, ring);
  }
  return ring;
}
