/**
 * Which queue shard takes a person: the first 32 bits of their pseudonym (base64url of an HMAC-SHA-256,
 * so uniform) modulo the room's shard count. Deterministic, so the same person from any device always
 * reaches the shard that holds their place.
 */
export function shardFor(key: string, shards: number): number {
  const b64 = key.slice(0, 8).replaceAll("-", "+").replaceAll("_", "/");
  const bytes = atob(b64);
  let n = 0;
  for (let i = 0; i < 4; i++) n = n * 256 + bytes.charCodeAt(i);
  return n % shards;
}
