import { base64url } from "jose";

/**
 * What queue storage knows of a person: HMAC-SHA-256(PSEUDONYM_KEY, room, person id), base64url.
 * Enough to keep one place per person per room; useless to anyone reading the storage without the key
 * (person identifiers are guessable, so a plain hash would not do). Do not rotate PSEUDONYM_KEY during
 * an event: the same person would get a second place.
 */
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

export async function personPseudonym(secret: string, room: string, personId: string): Promise<string> {
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(`${room}\u0000${personId}`));
  return base64url.encode(new Uint8Array(mac));
}
