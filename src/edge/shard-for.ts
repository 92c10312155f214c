/**
 * Which queue shard takes a device: the first 32 bits of its key thumbprint (a SHA-256, so uniform)
 * modulo the room's shard count. Deterministic, so a returning device always reaches the shard that
 * holds its ticket.
 */
export function shardFor(jkt: string, shards: number): number {
  const b64 = jkt.slice(0, 8).replaceAll("-", "+").replaceAll("_", "/");
  const bytes = atob(b64);
  let n = 0;
  for (let i = 0; i < 4; i++) n = n * 256 + bytes.charCodeAt(i);
  return n % shards;
}
